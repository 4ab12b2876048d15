"""The function registry, and the CEL standard library: size, contains/startsWith/endsWith/matches, the type
conversions and the timestamp and duration accessors (extensions.py and kubernetes.py add the rest).

Functions register in two tables, ``GLOBAL`` (``size(x)``, ``sets.contains(a, b)``) and ``MEMBER``
(``x.size()``; the receiver is the first argument), with the argument counts they take, so the program
compiler rejects an unknown name or a wrong arity once, when the rule is compiled.
"""

from __future__ import annotations

import functools
import inspect
import re
import warnings
from collections.abc import Callable
from datetime import UTC, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kubedistill.verify.cel.values import (
    INT_MIN,
    UINT_MAX,
    CelError,
    CelType,
    Duration,
    NoSuchOverload,
    Timestamp,
    UInt,
    Unsupported,
    check_int,
    parse_duration,
    parse_timestamp,
    size,
    to_string,
    type_name,
)

GLOBAL: dict[str, tuple[Callable[..., Any], int, int]] = {}
MEMBER: dict[str, tuple[Callable[..., Any], int, int]] = {}


def function(*names: str, member: bool = False, both: bool = False) -> Callable:
    """Register ``fn`` under ``names`` as a global function, a member function (receiver first), or both."""

    def register(fn: Callable) -> Callable:
        params = inspect.signature(fn).parameters.values()
        low = sum(1 for p in params if p.default is p.empty and p.kind == p.POSITIONAL_OR_KEYWORD)
        high = 99 if any(p.kind == p.VAR_POSITIONAL for p in params) else len(params)
        for name in names:
            if member or both:
                MEMBER[name] = (fn, low, high)
            if not member or both:
                GLOBAL[name] = (fn, low, high)
        return fn

    return register


def methods(*names: str) -> None:
    """Members served by the receiver's ``cel_NAME`` method (the Kubernetes types: ip, cidr, url, quantity...)."""
    for name in names:
        def dispatch(target: Any, *args: Any, _name: str = "cel_" + name) -> Any:
            method = getattr(target, _name, None)
            if method is None:
                raise NoSuchOverload(f"no such overload: {type_name(target)}.{_name[4:]}()")
            return method(*args)

        MEMBER.setdefault(name, (dispatch, 1, 4))


def string_arg(value: Any, what: str) -> str:
    """``value`` when it is a string; else the operands do not fit the function."""
    if type(value) is not str:
        raise NoSuchOverload(f"no such overload: {what} on {type_name(value)}")
    return value


# --- the standard library --------------------------------------------------------------------------------

function("size", both=True)(size)


@function("contains", member=True)
def _contains(text: Any, part: Any) -> bool:
    return string_arg(part, "contains") in string_arg(text, "contains")


@function("startsWith", member=True)
def _starts_with(text: Any, prefix: Any) -> bool:
    return string_arg(text, "startsWith").startswith(string_arg(prefix, "startsWith"))


@function("endsWith", member=True)
def _ends_with(text: Any, suffix: Any) -> bool:
    return string_arg(text, "endsWith").endswith(string_arg(suffix, "endsWith"))


@function("matches", both=True)
def _matches(text: Any, pattern: Any) -> bool:
    return regex(string_arg(pattern, "matches")).search(string_arg(text, "matches")) is not None


_POSIX = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
          "space": r"\t\n\v\f\r ", "xdigit": "0-9A-Fa-f", "word": "0-9A-Za-z_", "punct": r"!-/:-@\[-`{-~",
          "blank": r"\t ", "cntrl": r"\x00-\x1f\x7f", "print": r" -~", "graph": "!-~", "ascii": r"\x00-\x7f"}


@functools.lru_cache(maxsize=1024)
def regex(pattern: str) -> re.Pattern:
    """An RE2 pattern as a Python one: ``$`` ends the text (Python's also matches before a final newline),
    ``\\z`` is ``\\Z``, POSIX classes are spelled out; what Python cannot express raises ``Unsupported``."""
    leading = re.match(r"\^(\(\?[imsU]+\))", pattern)
    if leading:  # '^(?i)abc' (fine in RE2): Python wants global flags first, and they do not change '^' here
        pattern = leading.group(1) + "^" + pattern[leading.end():]
    multiline = pattern.startswith("(?") and "m" in pattern[2:pattern.find(")")]
    out, i, in_class = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            pair = pattern[i:i + 2]
            out.append(r"\Z" if pair == r"\z" else pair)
            i += 2
            continue
        if in_class and pattern.startswith("[:", i):
            end = pattern.find(":]", i)
            name = pattern[i + 2:end] if end > 0 else ""
            if name.lstrip("^") in _POSIX and not name.startswith("^"):
                out.append(_POSIX[name])
                i = end + 2
                continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            if pattern.startswith("^]", i + 1) or pattern.startswith("]", i + 1):
                skip = 2 if pattern[i + 1] == "^" else 1
                out.append(pattern[i + 1:i + 1 + skip])
                i += 1 + skip
                continue
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        elif char == "$" and not in_class and not multiline:
            out.append(r"\Z")
        else:
            out.append(char)
        i += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Python's FutureWarnings about '[[' inside classes
            return re.compile("".join(out))
    except re.error as exc:
        raise Unsupported(f"regular expression {pattern!r}: {exc}") from None


@function("int")
def _int(value: Any) -> int:
    kind = type(value)
    if kind is int:
        return value
    if kind is UInt:
        return check_int(int(value))
    if kind is float:
        if value != value or not INT_MIN <= value < 2.0**63:
            raise CelError("integer overflow")
        return int(value)
    if kind is str:
        if not re.fullmatch(r"[+-]?\d+", value):
            raise CelError(f"cannot convert {value!r} to int")
        return check_int(int(value))
    if kind is Timestamp:
        return value.ns // 10**9
    if kind is Duration:
        return value.ns
    raise NoSuchOverload(f"no such overload: int({type_name(value)})")


@function("uint")
def _uint(value: Any) -> UInt:
    kind = type(value)
    if kind in (int, UInt) or (kind is str and re.fullmatch(r"\+?\d+", value)) or (
            kind is float and value == value and -1 < value < 2.0**64):
        number = int(value)
    else:
        raise NoSuchOverload(f"no such overload: uint({type_name(value)})") if kind not in (str, float) else \
            CelError(f"cannot convert {value!r} to uint")
    if not 0 <= number <= UINT_MAX:
        raise CelError("unsigned integer overflow")
    return UInt(number)


@function("double")
def _double(value: Any) -> float:
    kind = type(value)
    if kind in (int, UInt, float):
        return float(value)
    if kind is str:
        try:
            if "_" in value:
                raise ValueError
            return float(value)
        except ValueError:
            raise CelError(f"cannot convert {value!r} to double") from None
    raise NoSuchOverload(f"no such overload: double({type_name(value)})")


function("string")(to_string)


@function("bool")
def _bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    if type(value) is str:
        if value in ("1", "t", "T", "TRUE", "true", "True"):
            return True
        if value in ("0", "f", "F", "FALSE", "false", "False"):
            return False
        raise CelError(f"cannot convert {value!r} to bool")
    raise NoSuchOverload(f"no such overload: bool({type_name(value)})")


@function("bytes")
def _bytes(value: Any) -> bytes:
    if type(value) is bytes:
        return value
    return string_arg(value, "bytes").encode("utf-8")


@function("duration")
def _duration(value: Any) -> Duration:
    if type(value) is Duration:
        return value
    return parse_duration(string_arg(value, "duration"))


@function("timestamp")
def _timestamp(value: Any) -> Timestamp:
    if type(value) is Timestamp:
        return value
    if type(value) is int:
        return Timestamp(value * 10**9)
    return parse_timestamp(string_arg(value, "timestamp"))


@function("type")
def _type(value: Any) -> CelType:
    return CelType(type_name(value))


@function("dyn")
def _dyn(value: Any) -> Any:
    return value


def _zone(tz: str | None) -> Any:
    if tz is None:
        return UTC
    match = re.fullmatch(r"([+-])?(\d{2}):(\d{2})", string_arg(tz, "time zone"))
    if match:
        sign = -1 if match.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CelError(f"unknown time zone {tz!r}") from None


def _timestamp_getter(name: str, read: Callable[[Any], int]) -> None:
    def getter(value: Any, tz: Any = None) -> int:
        if type(value) is Timestamp:
            return read(value.datetime(_zone(tz)))
        if type(value) is Duration and tz is None and name in _DURATION_PARTS:
            return int(value.ns / _DURATION_PARTS[name])
        raise NoSuchOverload(f"no such overload: {type_name(value)}.{name}()")

    function(name, member=True)(getter)


_DURATION_PARTS = {"getHours": 3600 * 10**9, "getMinutes": 60 * 10**9, "getSeconds": 10**9,
                   "getMilliseconds": 10**6}
for _name, _read in (("getFullYear", lambda d: d.year), ("getMonth", lambda d: d.month - 1),
                     ("getDayOfYear", lambda d: d.timetuple().tm_yday - 1), ("getDayOfMonth", lambda d: d.day - 1),
                     ("getDate", lambda d: d.day), ("getDayOfWeek", lambda d: (d.weekday() + 1) % 7),
                     ("getHours", lambda d: d.hour), ("getMinutes", lambda d: d.minute),
                     ("getSeconds", lambda d: d.second), ("getMilliseconds", lambda d: d.microsecond // 1000)):
    _timestamp_getter(_name, _read)
