"""String formats of CRD schemas (``format: date-time``), checked as the API server checks them.

apiextensions-apiserver validates custom resources with kube-openapi's ``strfmt.Default`` registry, limited to
the formats it documents as supported (apiserver/validation/formats.go); any other format is ignored, and so
are the numeric ones (int32, int64, float, double: they are not range-checked). Each checker here follows the
Go function the registry calls (net.ParseIP, url.ParseRequestURI, strfmt.IsDateTime ...), because being
stricter than the API server would reject manifests it accepts. Three supported formats are not checked here
(email, creditcard and quantity: the first two need Go parsers we do not reproduce exactly, the third is only
in unreleased Kubernetes); they pass, as an unknown format does. Built-in kinds are not checked: their
OpenAPI formats document Go types, and the API server validates those objects with Go code instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from kubedistill.verify.cel.network import parse_ip, parse_request_uri
from kubedistill.verify.cel.values import CelError, parse_duration
from kubedistill.verify.finding import Issue
from kubedistill.verify.registry import rule

FORMAT = rule("L2-FORMAT", 2, "string does not match the CRD schema's format")

_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)
_UUID_V = {version: re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?" + str(version) + r"[0-9a-f]{3}-?"
                               + (r"[89ab]" if version != 3 else r"[0-9a-f]") + r"[0-9a-f]{3}-?[0-9a-f]{12}$",
                               re.IGNORECASE) for version in (3, 4, 5)}
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$")
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_TIME = re.compile(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$")
_DURATION_SHAPE = re.compile(r"^[\t\n\f\r ]*(?:[0-9]+[\t\n\f\r ]*[A-Za-zµ]+[\t\n\f\r ]*)+$")
_DURATION_PART = re.compile(r"([0-9]+)[\t\n\f\r ]*([A-Za-zµ]+)")
_UNITS = (("ns", "nano"), ("us", "µs", "micro"), ("ms", "milli"), ("s", "sec"), ("m", "min"), ("h", "hr", "hour"),
          ("d", "day"), ("w", "wk", "week"))
_HEX_COLOR = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_BYTE = r"(0|[1-9][0-9]?|1[0-9][0-9]?|2[0-4][0-9]|25[0-5])"
_RGB_COLOR = re.compile(rf"^rgb\([\t\n\f\r ]*{_BYTE}[\t\n\f\r ]*,[\t\n\f\r ]*{_BYTE}[\t\n\f\r ]*,[\t\n\f\r ]*{_BYTE}"
                        r"[\t\n\f\r ]*\)$")
_SHORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LONG_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# strfmt.HostnamePattern with each of its character classes [a-zA-Z0-9\p{S}\p{L}] written as 'a'
_HOSTNAME_SHAPE = re.compile(r"^(a((-?a{0,62})?)|(a(([a-]{0,61}a)?)(\.)){1,}(a)(-?a){1,62})$")


def is_date(text: str) -> bool:
    """Go's time.Parse("2006-01-02"): four-digit year, real month and day (February 29 only in leap years)."""
    match = _DATE.match(text)
    if not match:
        return False
    year, month, day = (int(g) for g in match.groups())
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return 1 <= month <= 12 and 1 <= day <= days[month - 1]


def is_datetime(text: str) -> bool:
    """strfmt.IsDateTime: a date, 't' (any case), a time no later than 23:59:59 and a zone."""
    parts = text.lower().split("t")
    if len(text) < 4 or len(parts) < 2 or not is_date(parts[0]):
        return False
    match = _TIME.match(parts[1])
    return bool(match) and match.group(1) <= "23" and match.group(2) <= "59" and match.group(3) <= "59"


def is_duration(text: str) -> bool:
    """strfmt.ParseDuration: Go's time.ParseDuration, or a Scala-style '3 days', '1 hour 30min'."""
    try:
        parse_duration(text)
        return True
    except CelError:
        pass
    if not _DURATION_SHAPE.match(text):
        return False
    for _, unit in _DURATION_PART.findall(text):
        unit = unit.lower()
        if any(unit == v or (i == len(vs) - 1 and unit.startswith(v)) for vs in _UNITS for i, v in enumerate(vs)):
            return True
    return False


def is_hostname(text: str) -> bool:
    """strfmt.IsHostname: labels of letters, digits, symbols and '-', at most 63 octets each, 255 in all."""
    if len(text.encode("utf-8")) > 255:
        return False
    shape = []
    for char in text:
        if char in "-.":
            shape.append(char)
        elif _letter_digit_or_symbol(char):
            shape.append("a")
        else:
            return False
    if not _HOSTNAME_SHAPE.match("".join(shape)):
        return False
    return all(len(label.encode("utf-8")) <= 63 for label in text.split("."))


_SYMBOLS = frozenset("$+<=>^`|~")  # the ASCII characters of Unicode's symbol categories (\p{S})


def _letter_digit_or_symbol(char: str) -> bool:
    """[a-zA-Z0-9\\p{S}\\p{L}] of strfmt.HostnamePattern."""
    if char.isascii():
        return char.isalnum() or char in _SYMBOLS
    return unicodedata.category(char)[0] in "LS"


def is_mac(text: str) -> bool:
    """net.ParseMAC: 6, 8 or 20 octets as xx:xx:.., xx-xx-.. or xxxx.xxxx.xxxx."""
    if len(text) < 14:
        return False
    if text[2] in ":-":
        groups, width, separator = (len(text) + 1) // 3, 2, text[2]
        if (len(text) + 1) % 3:
            return False
    elif text[4] == ".":
        groups, width, separator = (len(text) + 1) // 5, 4, "."
        if (len(text) + 1) % 5:
            return False
        groups *= 2
    else:
        return False
    if groups not in (6, 8, 20):
        return False
    fields = text.split(separator)
    return all(len(f) == width and all(c in "0123456789abcdefABCDEF" for c in f) for f in fields)


def is_cidr(text: str) -> bool:
    """net.ParseCIDR: an address (no zone), '/', a decimal prefix length within the address's bits."""
    address, slash, bits = text.partition("/")
    found = parse_ip(address) if slash else None
    return found is not None and bits.isdigit() and bits.isascii() and int(bits) <= found.max_prefixlen


def is_uri(text: str) -> bool:
    try:
        parse_request_uri(text)
    except ValueError:
        return False
    return True


def is_base64(text: str) -> bool:
    """govalidator.IsBase64: standard alphabet, padded, not empty."""
    return bool(_BASE64.match(text))


def _isbn(text: str, width: int) -> bool:
    digits = re.sub(r"[\s-]", "", text)
    if width == 10:
        if not re.fullmatch(r"[0-9]{9}[0-9X]", digits):
            return False
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
        return total % 11 == 0
    if not re.fullmatch(r"[0-9]{13}", digits):
        return False
    return sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits)) % 10 == 0


FORMATS: dict[str, Callable[[str], bool]] = {
    "bsonobjectid": lambda s: len(s) == 24 and all(c in "0123456789abcdefABCDEF" for c in s),
    "uri": is_uri, "hostname": is_hostname,
    "ipv4": lambda s: parse_ip(s) is not None and "." in s,
    "ipv6": lambda s: parse_ip(s) is not None and ":" in s,
    "cidr": is_cidr, "mac": is_mac, "uuid": lambda s: bool(_UUID.match(s)),
    "uuid3": lambda s: bool(_UUID_V[3].match(s)), "uuid4": lambda s: bool(_UUID_V[4].match(s)),
    "uuid5": lambda s: bool(_UUID_V[5].match(s)),
    "isbn": lambda s: _isbn(s, 10) or _isbn(s, 13), "isbn10": lambda s: _isbn(s, 10),
    "isbn13": lambda s: _isbn(s, 13),
    "ssn": lambda s: len(s) == 11 and bool(re.fullmatch(r"[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}", s)),
    "hexcolor": lambda s: bool(_HEX_COLOR.match(s)), "rgbcolor": lambda s: bool(_RGB_COLOR.match(s)),
    "byte": is_base64, "password": lambda s: True, "date": is_date, "duration": is_duration,
    "datetime": is_datetime,
    "k8sshortname": lambda s: len(s) <= 63 and bool(_SHORT_NAME.match(s)),
    "k8slongname": lambda s: len(s) <= 253 and bool(_LONG_NAME.match(s)),
}
INTRODUCED = {"k8sshortname": 34, "k8slongname": 34}
"""Formats the API server checks only from this Kubernetes minor version on (ignored before)."""
EXAMPLES = {"datetime": "2024-05-01T12:00:00Z", "date": "2024-05-01", "duration": "1h30m", "uuid":
            "123e4567-e89b-12d3-a456-426614174000", "ipv4": "10.0.0.1", "ipv6": "fd00::1", "cidr": "10.0.0.0/8",
            "uri": "https://example.com/path", "hostname": "example.com", "byte": "aGVsbG8=",
            "mac": "00:1a:2b:3c:4d:5e", "k8sshortname": "my-name", "k8slongname": "my.name"}


def format_checker(name: str, minor: int) -> Callable[[str], bool] | None:
    """The checker for a schema's ``format`` in Kubernetes 1.<minor>, or None when the API server ignores it."""
    normalized = name.replace("-", "")
    if normalized not in FORMATS or minor < INTRODUCED.get(normalized, 0):
        return None
    return FORMATS[normalized]


def format_check(name: str, minor: int, render: Callable[[Any], str]) -> Callable | None:
    """The schema check for ``format: NAME`` (``render`` turns a compiler path into a JSON pointer)."""
    valid = format_checker(name, minor)
    if valid is None:
        return None
    example = EXAMPLES.get(name.replace("-", ""))
    hint = f"write a {name} value" + (f", e.g. {example!r}" if example else "")

    def check(value: Any, path: Any, errors: list[Issue]) -> None:
        if type(value) is str and not valid(value):
            shown = value if len(value) <= 40 else value[:37] + "..."
            errors.append(Issue(FORMAT, render(path), f"{shown!r} is not a valid {name}", hint))

    return check
