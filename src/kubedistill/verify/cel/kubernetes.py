"""The Kubernetes CEL libraries for quantities, named formats and semantic versions
(k8s.io/apiserver/pkg/cel/library: quantity.go, format.go, semver.go); network.py has ip, cidr and url.

Their values are objects whose ``cel_NAME`` methods serve the member functions (``quantity(x).isLessThan(y)``),
registered once with ``methods(...)`` at the end of this module.
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction
from typing import Any

from kubedistill.verify import names
from kubedistill.verify.cel.functions import function, methods
from kubedistill.verify.cel.network import parse_request_uri
from kubedistill.verify.cel.values import NONE, CelError, NoSuchOverload, Optional, type_name
from kubedistill.verify.quantity import parse_quantity

# --- quantities --------------------------------------------------------------------------------------------

class Quantity:
    """The value of ``quantity('1Gi')``, exact."""

    cel_type = "kubernetes.Quantity"

    def __init__(self, value: Fraction) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and other.value == self.value

    __hash__ = None  # type: ignore[assignment]

    def compare(self, other: Quantity) -> int:
        return (self.value > other.value) - (self.value < other.value)

    def cel_sign(self) -> int:
        return (self.value > 0) - (self.value < 0)

    def cel_isInteger(self) -> bool:
        return self.value.denominator == 1 and -(2**63) <= self.value < 2**63

    def cel_asInteger(self) -> int:
        if not self.cel_isInteger():
            raise CelError("cannot convert value to integer")
        return int(self.value)

    def cel_asApproximateFloat(self) -> float:
        return float(self.value)

    def cel_add(self, other: Any) -> Quantity:
        return Quantity(self.value + _amount(other))

    def cel_sub(self, other: Any) -> Quantity:
        return Quantity(self.value - _amount(other))

    def cel_isLessThan(self, other: Any) -> bool:
        return self.value < _amount(other, ints=False)

    def cel_isGreaterThan(self, other: Any) -> bool:
        return self.value > _amount(other, ints=False)

    def cel_compareTo(self, other: Any) -> int:
        value = _amount(other, ints=False)
        return (self.value > value) - (self.value < value)


def _amount(other: Any, ints: bool = True) -> Fraction:
    if isinstance(other, Quantity):
        return other.value
    if ints and type(other) is int:
        return Fraction(other)
    raise NoSuchOverload(f"no such overload: quantity operand {type_name(other)}")


@function("quantity")
def _quantity(text: Any) -> Quantity:
    value = parse_quantity(text) if type(text) is str else None
    if value is None:
        raise CelError(f"quantities must match the regular expression: {text!r}")
    return Quantity(value)


@function("isQuantity")
def _is_quantity(text: Any) -> bool:
    return type(text) is str and parse_quantity(text) is not None


# --- named formats -----------------------------------------------------------------------------------------

class Format:
    """``format.dns1123Label()``: ``validate(s)`` is optional.none() for a valid string, else the problems."""

    cel_type = "kubernetes.NamedFormat"

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Format) and other.name == self.name

    __hash__ = None  # type: ignore[assignment]

    def cel_validate(self, text: Any) -> Optional:
        if type(text) is not str:
            raise NoSuchOverload(f"no such overload: validate({type_name(text)})")
        problem = NAMED_FORMATS[self.name](text)
        return Optional([problem], True) if problem else NONE


def _prefixed(check: Any) -> Any:
    """A name prefix (generateName) may end in '-': the API server checks it with a letter in its place."""
    return lambda text: check(text[:-1] + "a" if text.endswith("-") else text)


def _uri_problem(text: str) -> str:
    try:
        parse_request_uri(text)
    except ValueError as exc:
        return str(exc)
    return ""


def _format_problem(name: str) -> Any:
    def problem(text: str) -> str:
        from kubedistill.verify.formats import FORMATS  # formats imports this module for URIs

        return "" if FORMATS[name](text) else f"does not match the {name} format"

    return problem


NAMED_FORMATS: dict[str, Any] = {
    "dns1123Label": names.dns_label_problem, "dns1123Subdomain": names.dns_subdomain_problem,
    "dns1035Label": names.dns1035_label_problem, "qualifiedName": names.qualified_name_problem,
    "dns1123LabelPrefix": _prefixed(names.dns_label_problem),
    "dns1123SubdomainPrefix": _prefixed(names.dns_subdomain_problem),
    "dns1035LabelPrefix": _prefixed(names.dns1035_label_problem),
    "labelValue": names.label_value_problem, "uri": _uri_problem, "uuid": _format_problem("uuid"),
    "byte": _format_problem("byte"), "date": _format_problem("date"), "datetime": _format_problem("datetime"),
}
for _name in NAMED_FORMATS:
    function(f"format.{_name}")(functools.partial(Format, _name))


@function("format.named")
def _named(name: Any) -> Optional:
    return Optional(Format(name), True) if name in NAMED_FORMATS else NONE


# --- semantic versions -------------------------------------------------------------------------------------

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
                     r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")


class Semver:
    """The value of ``semver('1.2.3')``."""

    cel_type = "kubernetes.Semver"

    def __init__(self, major: int, minor: int, patch: int, pre: str) -> None:
        self.key = (major, minor, patch)
        self.pre = pre

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Semver) and self.compare(other) == 0

    __hash__ = None  # type: ignore[assignment]

    def compare(self, other: Semver) -> int:
        if self.key != other.key:
            return -1 if self.key < other.key else 1
        if self.pre == other.pre:
            return 0
        if not self.pre or not other.pre:
            return 1 if not self.pre else -1
        a, b = [_pre_key(p) for p in (self.pre, other.pre)]
        return -1 if a < b else 1 if a > b else 0

    def cel_major(self) -> int:
        return self.key[0]

    def cel_minor(self) -> int:
        return self.key[1]

    def cel_patch(self) -> int:
        return self.key[2]

    def cel_isLessThan(self, other: Any) -> bool:
        return self.compare(_semver_arg(other)) < 0

    def cel_isGreaterThan(self, other: Any) -> bool:
        return self.compare(_semver_arg(other)) > 0

    def cel_compareTo(self, other: Any) -> int:
        return self.compare(_semver_arg(other))


def _pre_key(pre: str) -> list[tuple[int, int, str]]:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")]


def _semver_arg(value: Any) -> Semver:
    if isinstance(value, Semver):
        return value
    raise NoSuchOverload(f"no such overload: expected a semver, got {type_name(value)}")


def _parse_semver(text: Any, normalize: Any = False) -> Semver | None:
    if type(text) is not str:
        raise NoSuchOverload(f"no such overload: semver({type_name(text)})")
    if normalize is True:
        text = text.removeprefix("v")
        core, tail = re.match(r"([^-+]*)(.*)", text).groups()
        parts = core.split(".")
        if len(parts) <= 3 and all(p.isdigit() for p in parts):
            parts = [p.lstrip("0") or "0" for p in parts] + ["0"] * (3 - len(parts))
        text = ".".join(parts) + tail
    match = _SEMVER.match(text)
    if not match:
        return None
    return Semver(int(match.group(1)), int(match.group(2)), int(match.group(3)), match.group(4) or "")


@function("semver")
def _semver(text: Any, normalize: Any = False) -> Semver:
    found = _parse_semver(text, normalize)
    if found is None:
        raise CelError(f"could not parse {text!r} as semver")
    return found


@function("isSemver")
def _is_semver(text: Any, normalize: Any = False) -> bool:
    return type(text) is str and _parse_semver(text, normalize) is not None


methods("family", "isUnspecified", "isLoopback", "isLinkLocalMulticast", "isLinkLocalUnicast", "isGlobalUnicast",
        "containsIP", "containsCIDR", "ip", "masked", "prefixLength", "getScheme", "getHost", "getHostname",
        "getPort", "getEscapedPath", "getQuery", "sign", "isInteger", "asInteger", "asApproximateFloat", "add",
        "sub", "isLessThan", "isGreaterThan", "compareTo", "validate", "major", "minor", "patch")
