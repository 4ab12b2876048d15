"""CEL runtime values and the operators on them, with cel-go's semantics where they differ from Python's.

Manifest values stay plain Python (None, bool, int, float, str, list, dict) so that ``self`` is bound without a
conversion pass; only values no manifest holds get classes here (uint, duration, timestamp, optional, type).
Python's own rules would be wrong in places CEL is precise about: ``true == 1`` is false, int arithmetic is
64-bit and fails on overflow, ``/`` and ``%`` truncate toward zero, and ``optional.none() == null`` is false.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
UINT_MAX = 2**64 - 1


class CelError(Exception):
    """An evaluation error the API server reports as the rule failing (no such key, index out of bounds, ...)."""


class NoSuchOverload(CelError):
    """Operands of types the operator or function does not take. The API server's type checker rejects most of
    these when the CRD is created, so here they usually mean a typing our dynamic evaluator does not model."""


class Unsupported(Exception):
    """A function, macro or syntax this evaluator does not implement: the rule is not evaluated."""


class CelSyntaxError(Unsupported):
    """The rule does not parse (or uses syntax we do not parse)."""


class UInt(int):
    """CEL's uint: an int that remembers its type."""

    __slots__ = ()


class Optional:
    """``optional.of(x)`` / ``optional.none()``."""

    __slots__ = ("has", "value")

    def __init__(self, value: Any = None, has: bool = False) -> None:
        self.value, self.has = value, has

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Optional):
            return False
        return self.has == other.has and (not self.has or eq(self.value, other.value))

    __hash__ = None  # type: ignore[assignment]


NONE = Optional()


class Duration:
    """A signed span of nanoseconds."""

    __slots__ = ("ns",)

    def __init__(self, ns: int) -> None:
        self.ns = ns

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and other.ns == self.ns

    def __lt__(self, other: Duration) -> bool:
        return self.ns < other.ns

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        seconds = self.ns / 1e9 if self.ns % 10**9 else self.ns // 10**9
        return f"{seconds}s"


class Timestamp:
    """A point in time as nanoseconds since the Unix epoch (UTC)."""

    __slots__ = ("ns",)

    def __init__(self, ns: int) -> None:
        self.ns = ns

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timestamp) and other.ns == self.ns

    def __lt__(self, other: Timestamp) -> bool:
        return self.ns < other.ns

    __hash__ = None  # type: ignore[assignment]

    def datetime(self, tz: Any = UTC) -> datetime:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=self.ns // 1000) if tz is UTC else \
            self.datetime().astimezone(tz)

    def __str__(self) -> str:
        base = self.datetime().strftime("%Y-%m-%dT%H:%M:%S")
        frac = self.ns % 10**9
        return base + (f".{frac:09d}".rstrip("0") if frac else "") + "Z"


class CelType:
    """A type as a value: ``type(x) == string``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CelType) and other.name == self.name

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.name


_TYPE_NAMES = {type(None): "null_type", bool: "bool", int: "int", UInt: "uint", float: "double", str: "string",
               bytes: "bytes", list: "list", tuple: "list", dict: "map", Duration: "google.protobuf.Duration",
               Timestamp: "google.protobuf.Timestamp", Optional: "optional_type", CelType: "type"}
TYPES = {name: CelType(name) for name in set(_TYPE_NAMES.values())} | {
    "duration": CelType("google.protobuf.Duration"), "timestamp": CelType("google.protobuf.Timestamp")}
_NUMBERS = (int, float, UInt)


def type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value)) or getattr(type(value), "cel_type", type(value).__name__)


def is_number(value: Any) -> bool:
    return type(value) in _NUMBERS


def check_int(value: int) -> int:
    if not INT_MIN <= value <= INT_MAX:
        raise CelError("integer overflow")
    return value


def check_uint(value: int) -> UInt:
    if not 0 <= value <= UINT_MAX:
        raise CelError("unsigned integer overflow")
    return UInt(value)


def eq(a: Any, b: Any) -> bool:
    """CEL equality: heterogeneous values are unequal, except numbers, which compare by value."""
    ta, tb = type(a), type(b)
    if ta is tb or (ta in (list, tuple) and tb in (list, tuple)):
        if ta is list or ta is tuple:
            return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b, strict=True))
        if ta is dict:
            return len(a) == len(b) and all(k in b and eq(v, b[k]) for k, v in a.items())
        return a == b
    if ta in _NUMBERS and tb in _NUMBERS:
        return a == b
    return False


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1; cross-type numeric comparison as Kubernetes enables it (CrossTypeNumericComparisons)."""
    ta, tb = type(a), type(b)
    if (ta is tb and ta in (int, float, UInt, str, bytes, bool, Duration, Timestamp)) or (
            ta in _NUMBERS and tb in _NUMBERS):
        if (ta is float and math.isnan(a)) or (tb is float and math.isnan(b)):
            return 2  # NaN compares false with everything; callers test the sign
        return -1 if a < b else 1 if b < a else 0
    compare_to = getattr(a, "compare", None)
    if compare_to is not None and ta is tb:
        return compare_to(b)
    raise NoSuchOverload(f"no such overload: {type_name(a)} < {type_name(b)}")


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return check_int(a + b)
    if (ta is str and tb is str) or (ta is bytes and tb is bytes):
        return a + b
    if ta in (list, tuple) and tb in (list, tuple):
        return [*a, *b]
    if ta is UInt and tb is UInt:
        return check_uint(a + b)
    if ta in _NUMBERS and tb in _NUMBERS:
        return float(a) + float(b)
    if ta is Duration and tb is Duration:
        return Duration(check_int(a.ns + b.ns))
    if ta is Timestamp and tb is Duration:
        return Timestamp(a.ns + b.ns)
    if ta is Duration and tb is Timestamp:
        return Timestamp(a.ns + b.ns)
    raise NoSuchOverload(f"no such overload: {type_name(a)} + {type_name(b)}")


def subtract(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return check_int(a - b)
    if ta is UInt and tb is UInt:
        return check_uint(a - b)
    if ta in _NUMBERS and tb in _NUMBERS:
        return float(a) - float(b)
    if ta is Duration and tb is Duration:
        return Duration(check_int(a.ns - b.ns))
    if ta is Timestamp and tb is Duration:
        return Timestamp(a.ns - b.ns)
    if ta is Timestamp and tb is Timestamp:
        return Duration(check_int(a.ns - b.ns))
    raise NoSuchOverload(f"no such overload: {type_name(a)} - {type_name(b)}")


def multiply(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return check_int(a * b)
    if ta is UInt and tb is UInt:
        return check_uint(a * b)
    if ta in _NUMBERS and tb in _NUMBERS:
        return float(a) * float(b)
    raise NoSuchOverload(f"no such overload: {type_name(a)} * {type_name(b)}")


def divide(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta in (int, UInt) and ta is tb:
        if b == 0:
            raise CelError("division by zero")
        quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
        return check_int(quotient) if ta is int else UInt(quotient)
    if ta in _NUMBERS and tb in _NUMBERS:
        if b == 0:
            return math.copysign(math.inf, a) * math.copysign(1, b) if a else math.nan
        return float(a) / float(b)
    raise NoSuchOverload(f"no such overload: {type_name(a)} / {type_name(b)}")


def modulo(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta in (int, UInt) and ta is tb:
        if b == 0:
            raise CelError("modulus by zero")
        result = abs(a) % abs(b) * (1 if a >= 0 else -1)
        return result if ta is int else UInt(result)
    raise NoSuchOverload(f"no such overload: {type_name(a)} % {type_name(b)}")


def negate(a: Any) -> Any:
    if type(a) is int:
        return check_int(-a)
    if type(a) is float:
        return -a
    raise NoSuchOverload(f"no such overload: -{type_name(a)}")


def contains(container: Any, item: Any) -> bool:
    """``item in container``: list membership by CEL equality, map key presence."""
    kind = type(container)
    if kind is dict:
        if type(item) is str:
            return item in container
        return any(eq(item, key) for key in container)
    if kind in (list, tuple):
        if type(item) is str:  # the common case, without the generic equality's overhead
            return any(type(x) is str and x == item for x in container)
        return any(eq(item, x) for x in container)
    raise NoSuchOverload(f"no such overload: {type_name(item)} in {type_name(container)}")


def size(value: Any) -> int:
    kind = type(value)
    if kind in (str, bytes, list, tuple, dict):
        return len(value)
    raise NoSuchOverload(f"no such overload: size({type_name(value)})")


def truth(value: Any) -> bool:
    """A value used as a condition must be a bool."""
    if type(value) is bool:
        return value
    raise NoSuchOverload(f"no such overload: expected bool, got {type_name(value)}")


_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
            "h": 3600 * 10**9}


def parse_duration(text: str) -> Duration:
    """Go's time.ParseDuration: '1h30m', '-1.5s', '300ms', '0'."""
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    if body == "0":
        return Duration(0)
    total, pos = 0.0, 0
    if not body:
        raise CelError(f"invalid duration {text!r}")
    while pos < len(body):
        match = _DURATION.match(body, pos)
        if not match or match.group(1) in ("", "."):
            raise CelError(f"invalid duration {text!r}")
        total += float(match.group(1)) * _UNIT_NS[match.group(2)]
        pos = match.end()
    return Duration(check_int(sign * round(total)))


_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(text: str) -> Timestamp:
    """RFC 3339, as timestamp('2024-01-02T03:04:05Z') takes it."""
    match = _TIMESTAMP.match(text)
    if not match:
        raise CelError(f"invalid timestamp {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise CelError(f"invalid timestamp {text!r}: {exc}") from None
    zone = match.group(8)
    offset = 0 if zone == "Z" else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    seconds = int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) - offset
    nanos = int((match.group(7) or ".0")[1:].ljust(9, "0"))
    return Timestamp(seconds * 10**9 + nanos)


def to_string(value: Any) -> str:
    """string(x)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind in (int, UInt):
        return str(int(value))
    if kind is float:
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if kind is bytes:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise CelError("invalid UTF-8 in bytes, cannot convert to string") from None
    if kind in (Duration, Timestamp) or (hasattr(kind, "cel_type") and kind.__str__ is not object.__str__):
        return str(value)
    raise NoSuchOverload(f"no such overload: string({type_name(value)})")
