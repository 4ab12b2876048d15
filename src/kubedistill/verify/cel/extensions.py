"""The CEL extension libraries Kubernetes enables: strings (cel-go ext.Strings v2), sets and optional values
(cel-go), and the Kubernetes list and regex libraries (k8s.io/apiserver/pkg/cel/library).

String indexes count code points, as in cel-go; every function raises ``NoSuchOverload`` for operands of other
types, so a rule that relies on a typing we do not model becomes a warning, never a wrong verdict.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from typing import Any

from kubedistill.verify.cel.functions import function, regex, string_arg
from kubedistill.verify.cel.values import (
    NONE,
    CelError,
    NoSuchOverload,
    Optional,
    UInt,
    Unsupported,
    add,
    compare,
    contains,
    eq,
    to_string,
    type_name,
)

# --- strings (cel-go ext.Strings, version 2): indexes count code points -----------------------------------

@function("charAt", member=True)
def _char_at(text: Any, index: Any) -> str:
    text = string_arg(text, "charAt")
    if not 0 <= index <= len(text):
        raise CelError(f"index out of range: {index}")
    return text[index:index + 1]


@function("indexOf", member=True)
def _index_of(target: Any, item: Any, offset: Any = 0) -> int:
    if type(target) in (list, tuple):
        return next((i for i, x in enumerate(target) if eq(x, item)), -1)
    text, part = string_arg(target, "indexOf"), string_arg(item, "indexOf")
    if not 0 <= offset <= len(text):
        raise CelError(f"index out of range: {offset}")
    return text.find(part, offset)


@function("lastIndexOf", member=True)
def _last_index_of(target: Any, item: Any, offset: Any = None) -> int:
    if type(target) in (list, tuple):
        return next((i for i in range(len(target) - 1, -1, -1) if eq(target[i], item)), -1)
    text, part = string_arg(target, "lastIndexOf"), string_arg(item, "lastIndexOf")
    if offset is None:
        return text.rfind(part)
    if not 0 <= offset < max(len(text), 1):
        raise CelError(f"index out of range: {offset}")
    return text.rfind(part, 0, offset + len(part))


@function("lowerAscii", member=True)
def _lower_ascii(text: Any) -> str:
    return "".join(c.lower() if c.isascii() else c for c in string_arg(text, "lowerAscii"))


@function("upperAscii", member=True)
def _upper_ascii(text: Any) -> str:
    return "".join(c.upper() if c.isascii() else c for c in string_arg(text, "upperAscii"))


@function("replace", member=True)
def _replace(text: Any, old: Any, new: Any, count: Any = -1) -> str:
    return string_arg(text, "replace").replace(string_arg(old, "replace"), string_arg(new, "replace"), count)


@function("split", member=True)
def _split(text: Any, separator: Any, limit: Any = -1) -> list[str]:
    text, separator = string_arg(text, "split"), string_arg(separator, "split")
    if limit == 0:
        return []
    if separator == "":
        parts = list(text)
        return parts if limit < 0 or limit >= len(parts) else [*parts[:limit - 1], "".join(parts[limit - 1:])]
    return text.split(separator, -1 if limit < 0 else limit - 1)


@function("substring", member=True)
def _substring(text: Any, start: Any, end: Any = None) -> str:
    text = string_arg(text, "substring")
    end = len(text) if end is None else end
    if not 0 <= start <= end <= len(text):
        raise CelError(f"index out of range: substring({start}, {end}) of a string of length {len(text)}")
    return text[start:end]


@function("trim", member=True)
def _trim(text: Any) -> str:
    return string_arg(text, "trim").strip()


@function("reverse", member=True)
def _reverse(text: Any) -> Any:
    if type(text) in (list, tuple):
        return list(reversed(text))
    return string_arg(text, "reverse")[::-1]


@function("join", member=True)
def _join(items: Any, separator: Any = "") -> str:
    if type(items) not in (list, tuple) or not all(type(i) is str for i in items):
        raise NoSuchOverload("no such overload: join() needs a list of strings")
    return string_arg(separator, "join").join(items)


@function("strings.quote")
def _quote(text: Any) -> str:
    return json.dumps(string_arg(text, "strings.quote"), ensure_ascii=False)


@function("format", member=True)
def _format(template: Any, args: Any) -> str:
    template = string_arg(template, "format")
    values = iter(args if type(args) in (list, tuple) else ())

    def one(match: re.Match) -> str:
        if match.group() == "%%":
            return "%"
        value, precision, verb = next(values, None), match.group(1), match.group(2)
        if verb == "s":
            return to_string(value) if type(value) not in (list, dict) else json.dumps(value)
        if verb == "d" and isinstance(value, int) and type(value) is not bool:
            return str(value)
        if verb in "fe" and type(value) in (int, float, UInt):
            return f"{float(value):.{int(precision or 6)}{verb}}"
        if verb in "xXob" and isinstance(value, int):
            return format(value, verb)
        raise Unsupported(f"format verb %{verb} for {type_name(value)}")

    return re.sub(r"%%|%(?:\.(\d+))?([sdfexXob])", one, template)


# --- Kubernetes regex and list libraries, cel-go sets ------------------------------------------------------

@function("find", member=True)
def _find(text: Any, pattern: Any) -> str:
    found = regex(string_arg(pattern, "find")).search(string_arg(text, "find"))
    return found.group() if found else ""


@function("findAll", member=True)
def _find_all(text: Any, pattern: Any, limit: Any = -1) -> list[str]:
    found = [m.group() for m in regex(string_arg(pattern, "findAll")).finditer(string_arg(text, "findAll"))]
    return found if limit < 0 else found[:limit]


def _list(value: Any, what: str) -> list:
    if type(value) not in (list, tuple):
        raise NoSuchOverload(f"no such overload: {what} on {type_name(value)}")
    return list(value)


@function("isSorted", member=True)
def _is_sorted(items: Any) -> bool:
    items = _list(items, "isSorted")
    return all(compare(a, b) <= 0 for a, b in itertools.pairwise(items))


@function("sum", member=True)
def _sum(items: Any) -> Any:
    items = _list(items, "sum")
    return functools.reduce(add, items) if items else 0


@function("min", member=True)
def _min(items: Any) -> Any:
    items = _list(items, "min")
    if not items:
        raise CelError("min called on empty list")
    return functools.reduce(lambda a, b: b if compare(b, a) < 0 else a, items)


@function("max", member=True)
def _max(items: Any) -> Any:
    items = _list(items, "max")
    if not items:
        raise CelError("max called on empty list")
    return functools.reduce(lambda a, b: b if compare(b, a) > 0 else a, items)


@function("sets.contains")
def _sets_contains(items: Any, subset: Any) -> bool:
    items = _list(items, "sets.contains")
    return all(contains(items, x) for x in _list(subset, "sets.contains"))


@function("sets.equivalent")
def _sets_equivalent(a: Any, b: Any) -> bool:
    return _sets_contains(a, b) and _sets_contains(b, a)


@function("sets.intersects")
def _sets_intersects(a: Any, b: Any) -> bool:
    a = _list(a, "sets.intersects")
    return any(contains(a, x) for x in _list(b, "sets.intersects"))


# --- optional values ---------------------------------------------------------------------------------------

@function("optional.of")
def _optional_of(value: Any) -> Optional:
    return Optional(value, True)


@function("optional.none")
def _optional_none() -> Optional:
    return NONE


@function("optional.ofNonZeroValue")
def _optional_non_zero(value: Any) -> Optional:
    zero = value is None or value is False or (type(value) in (int, float, UInt) and value == 0) or (
        type(value) in (str, bytes, list, tuple, dict) and not value)
    return NONE if zero else Optional(value, True)


def _optional(value: Any, what: str) -> Optional:
    if type(value) is not Optional:
        raise NoSuchOverload(f"no such overload: {what} on {type_name(value)}")
    return value


@function("hasValue", member=True)
def _has_value(value: Any) -> bool:
    return _optional(value, "hasValue").has


@function("value", member=True)
def _value(value: Any) -> Any:
    value = _optional(value, "value")
    if not value.has:
        raise CelError("optional.none() dereference")
    return value.value


@function("orValue", member=True)
def _or_value(value: Any, default: Any) -> Any:
    value = _optional(value, "orValue")
    return value.value if value.has else default


@function("or", member=True)
def _or(value: Any, other: Any) -> Any:
    value = _optional(value, "or")
    return value if value.has else _optional(other, "or")
