"""The Kubernetes CEL network libraries: ip and cidr (k8s.io/apiserver/pkg/cel/library/ip.go, cidr.go) and url
(urls.go), with the parsing rules of the Go code behind them (netip for addresses, net/url's ParseRequestURI for
URLs): a rule like ``isIP(self)`` decides whether the API server accepts a manifest, so a parser more lenient
than Go's would pass manifests it rejects. ``formats.py`` reuses these parsers for the ipv4/ipv6/cidr/uri formats.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import parse_qsl

from kubedistill.verify.cel.functions import function
from kubedistill.verify.cel.values import CelError, NoSuchOverload, type_name

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str) -> IPAddress | None:
    """netip.ParseAddr without zones: dotted quads without leading zeros, or IPv6 (possibly ending in a quad)."""
    if "%" in text or not text or text != text.strip():
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _ip_problem(text: str) -> tuple[IPAddress | None, str]:
    address = parse_ip(text)
    if address is None:
        return None, f"IP Address {text!r} parse error during conversion from string"
    if address.version == 6 and address.ipv4_mapped is not None:
        return None, f"IPv4-mapped IPv6 address {text!r} is not allowed"
    return address, ""


class IP:
    """The value of ``ip('10.0.0.1')``."""

    cel_type = "net.IP"

    def __init__(self, address: IPAddress) -> None:
        self.address = address

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IP) and other.address == self.address

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return str(self.address)

    def cel_family(self) -> int:
        return self.address.version

    def cel_isUnspecified(self) -> bool:
        return self.address.is_unspecified

    def cel_isLoopback(self) -> bool:
        return self.address in (_LOOPBACK4 if self.address.version == 4 else _LOOPBACK6)

    def cel_isLinkLocalMulticast(self) -> bool:
        if self.address.version == 4:
            return self.address in _LL_MULTICAST4
        return int(self.address) >> 112 & 0xFF0F == 0xFF02

    def cel_isLinkLocalUnicast(self) -> bool:
        return self.address in (_LL_UNICAST4 if self.address.version == 4 else _LL_UNICAST6)

    def cel_isGlobalUnicast(self) -> bool:
        if self.address.version == 4 and int(self.address) == 0xFFFFFFFF:
            return False
        return not (self.address.is_unspecified or self.cel_isLoopback() or self.address.is_multicast
                    or self.cel_isLinkLocalUnicast())


_LOOPBACK4, _LOOPBACK6 = ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")
_LL_MULTICAST4 = ipaddress.ip_network("224.0.0.0/24")
_LL_UNICAST4, _LL_UNICAST6 = ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10")


class CIDR:
    """The value of ``cidr('10.0.0.0/8')``: the address as written and the prefix length."""

    cel_type = "net.CIDR"

    def __init__(self, address: IPAddress, bits: int) -> None:
        self.address, self.bits = address, bits
        self.network = ipaddress.ip_network(f"{address}/{bits}", strict=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CIDR) and (other.address, other.bits) == (self.address, self.bits)

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"{self.address}/{self.bits}"

    def cel_containsIP(self, other: Any) -> bool:
        address = _as_ip(other).address
        return address.version == self.address.version and address in self.network

    def cel_containsCIDR(self, other: Any) -> bool:
        inner = _as_cidr(other)
        return inner.address.version == self.address.version and self.bits <= inner.bits and \
            inner.network.subnet_of(self.network)

    def cel_ip(self) -> IP:
        return IP(self.address)

    def cel_masked(self) -> CIDR:
        return CIDR(self.network.network_address, self.bits)

    def cel_prefixLength(self) -> int:
        return self.bits


def _cidr_problem(text: str) -> tuple[CIDR | None, str]:
    head, slash, bits = text.partition("/")
    address = parse_ip(head) if slash else None
    if address is None or not bits.isdigit() or not bits.isascii() or (len(bits) > 1 and bits[0] == "0") or \
            int(bits) > address.max_prefixlen:
        return None, f"network address {text!r} parse error during conversion from string"
    if address.version == 6 and address.ipv4_mapped is not None:
        return None, f"IPv4-mapped IPv6 address {text!r} is not allowed"
    return CIDR(address, int(bits)), ""


def _as_ip(value: Any) -> IP:
    if isinstance(value, IP):
        return value
    if type(value) is str:
        return _ip(value)
    raise NoSuchOverload(f"no such overload: expected an IP, got {type_name(value)}")


def _as_cidr(value: Any) -> CIDR:
    if isinstance(value, CIDR):
        return value
    if type(value) is str:
        return _cidr(value)
    raise NoSuchOverload(f"no such overload: expected a CIDR, got {type_name(value)}")


@function("ip")
def _ip(text: Any) -> IP:
    if type(text) is not str:
        raise NoSuchOverload(f"no such overload: ip({type_name(text)})")
    address, problem = _ip_problem(text)
    if address is None:
        raise CelError(problem)
    return IP(address)


@function("isIP")
def _is_ip(text: Any) -> bool:
    return type(text) is str and _ip_problem(text)[0] is not None


@function("ip.isCanonical")
def _is_canonical(text: Any) -> bool:
    return str(_ip(text)) == text


@function("cidr")
def _cidr(text: Any) -> CIDR:
    if type(text) is not str:
        raise NoSuchOverload(f"no such overload: cidr({type_name(text)})")
    found, problem = _cidr_problem(text)
    if found is None:
        raise CelError(problem)
    return found


@function("isCIDR")
def _is_cidr(text: Any) -> bool:
    return type(text) is str and _cidr_problem(text)[0] is not None


# --- URLs: Go's net/url ParseRequestURI -------------------------------------------------------------------

_HOST_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'()*+,;=:[]<>\"")
_USER_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:~!$&'()*+,;=%@")
_BAD_ESCAPE = re.compile(r"%(?![0-9a-fA-F]{2})")


def parse_request_uri(text: str) -> dict[str, str]:
    """The parts of an absolute URI or absolute path as Go's url.ParseRequestURI reads them; ValueError if Go
    rejects it."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise ValueError("invalid control character in URL")
    if not text:
        raise ValueError("empty url")
    if text == "*":
        return {"scheme": "", "host": "", "path": "*", "query": ""}
    scheme, rest = _scheme(text)
    if rest.endswith("?") and rest.count("?") == 1:
        rest, query = rest[:-1], ""
    else:
        rest, _, query = rest.partition("?")
    if not rest.startswith("/"):
        if scheme:
            return {"scheme": scheme, "host": "", "path": "", "query": query, "opaque": rest}
        raise ValueError("invalid URI for request")
    host = ""
    if scheme and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        user, at, host = authority.rpartition("@")
        _check_host(host)
        if at and (not set(user) <= _USER_OK or _BAD_ESCAPE.search(user)):
            raise ValueError("invalid userinfo")
    if _BAD_ESCAPE.search(rest):
        raise ValueError(f"invalid URL escape in {rest!r}")
    return {"scheme": scheme, "host": host, "path": rest, "query": query}


def _scheme(text: str) -> tuple[str, str]:
    for i, char in enumerate(text):
        if char.isascii() and char.isalpha():
            continue
        if char.isascii() and (char.isdigit() or char in "+-."):
            if i == 0:
                return "", text
            continue
        if char == ":":
            if i == 0:
                raise ValueError("missing protocol scheme")
            return text[:i].lower(), text[i + 1:]
        return "", text
    return "", text


def _check_host(host: str) -> None:
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            raise ValueError("missing ']' in host")
        port = host[end + 1:]
    else:
        port = host[host.rfind(":"):] if ":" in host else ""
    if port and not (port[0] == ":" and (port[1:] == "" or (port[1:].isdigit() and port[1:].isascii()))):
        raise ValueError(f"invalid port {port!r} after host")
    for i, char in enumerate(host):
        if char == "%":
            code = host[i + 1:i + 3]
            if len(code) < 2 or not all(c in "0123456789abcdefABCDEF" for c in code) or (
                    int(code[0], 16) < 8 and code != "25"):
                raise ValueError(f"invalid URL escape in host {host!r}")
        elif char.isascii() and char not in _HOST_OK:
            raise ValueError(f"invalid character {char!r} in host name")


class URL:
    """The value of ``url('https://example.com:8443/path?q=1')``."""

    cel_type = "kubernetes.URL"

    def __init__(self, text: str, parts: dict[str, str]) -> None:
        self.text, self.parts = text, parts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, URL) and other.text == self.text

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.text

    def cel_getScheme(self) -> str:
        return self.parts["scheme"]

    def cel_getHost(self) -> str:
        return self.parts["host"]

    def cel_getHostname(self) -> str:
        host = self.parts["host"]
        if host.startswith("["):
            return host[1:host.rfind("]")]
        return host.rpartition(":")[0] if ":" in host else host

    def cel_getPort(self) -> str:
        host = self.parts["host"]
        tail = host[host.rfind("]") + 1:] if host.startswith("[") else host
        return tail.rpartition(":")[2] if ":" in tail else ""

    def cel_getEscapedPath(self) -> str:
        return self.parts["path"]

    def cel_getQuery(self) -> dict[str, list[str]]:
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(self.parts["query"], keep_blank_values=True):
            query.setdefault(key, []).append(value)
        return query


@function("url")
def _url(text: Any) -> URL:
    if type(text) is not str:
        raise NoSuchOverload(f"no such overload: url({type_name(text)})")
    try:
        return URL(text, parse_request_uri(text))
    except ValueError as exc:
        raise CelError(f"URL parse error during conversion from string: {exc}") from None


@function("isURL")
def _is_url(text: Any) -> bool:
    try:
        return type(text) is str and bool(parse_request_uri(text))
    except ValueError:
        return False
