"""A JSON-schema compiler for Kubernetes schemas: schema -> nested Python closures.

``jsonschema`` re-interprets the schema for every document; compiling once per kind and running
plain closures is what lets L2 reach tens of thousands of documents per second. Only the keywords
that Kubernetes' OpenAPI and CRD structural schemas use are implemented; unknown keywords are
ignored (as the API server ignores descriptions and extensions it does not know).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from kubedistill.verify.crdrules import rules_check
from kubedistill.verify.finding import Issue
from kubedistill.verify.formats import format_check
from kubedistill.verify.pointer import escape as esc

Path = str | tuple
"""Where a value sits: a JSON-pointer string, or ``(parent, key_or_index)`` built while descending. Checks pass
tuples down and render a string only for an issue: building the pointer of every visited node cost a tenth of
schema validation."""
Check = Callable[[Any, Path, list[Issue]], None]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
_NAMES = {dict: "object", list: "array", str: "string", int: "integer", float: "number", bool: "boolean",
          type(None): "null"}


def render(path: Path) -> str:
    """The JSON-pointer string of a path."""
    if type(path) is str:
        return path
    keys = []
    while type(path) is tuple:
        path, key = path
        keys.append(esc(key) if type(key) is str else str(key))
    keys.append(path)
    return "/".join(reversed(keys))


def _accept(value: Any, path: Path, errors: list[Issue]) -> None:
    return None


class Compiler:
    """Compiles schemas that refer to named definitions (``#/$defs/NAME`` or any '/NAME' suffix)."""

    def __init__(self, definitions: dict[str, dict], defaulted: frozenset[tuple[str, str]] = frozenset(),
                 strict: bool = True, crd_minor: int | None = None) -> None:
        self.definitions = definitions
        self.defaulted = defaulted
        self.strict = strict
        self.crd_minor = crd_minor
        """Set for a CRD schema (the Kubernetes minor version): then ``format`` and ``x-kubernetes-validations``
        are checked too, as the API server checks them for custom resources only."""
        self._rules = crd_minor is not None
        self._compiled: dict[str, Check] = {}

    def definition(self, name: str) -> Check:
        """The compiled check for one named definition; recursion-safe through a late-bound cell."""
        if name in self._compiled:
            return self._compiled[name]
        cell: list[Check] = []

        def late(value: Any, path: Path, errors: list[Issue]) -> None:
            cell[0](value, path, errors)

        self._compiled[name] = late
        check = self.compile(self.definitions[name], name)
        cell.append(check)
        self._compiled[name] = check
        return check

    def compile(self, schema: dict, name: str = "") -> Check:
        if not isinstance(schema, dict) or not schema:
            return _accept
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = ref.rsplit("/", 1)[-1]
            if target in self.definitions:
                return self.definition(target)
            return _accept
        checks = [c for c in self._parts(schema, name) if c is not _accept]
        if not checks:
            return _accept
        if len(checks) == 1:
            combined = checks[0]
        else:
            def combined(value: Any, path: Path, errors: list[Issue]) -> None:
                for check in checks:
                    check(value, path, errors)

        return _with_defaults(schema, combined)

    def _parts(self, schema: dict, name: str) -> list[Check]:
        types = self._types(schema)
        parts: list[Check] = []
        if types is not None:
            parts.append(_type_check(types))
            # a value of the wrong type gets one message; the detailed checks below skip it
        if "enum" in schema and isinstance(schema["enum"], list):
            parts.append(_enum_check(schema["enum"]))
        if any(k in schema for k in ("properties", "additionalProperties", "required")) or (
            schema.get("type") == "object"
        ):
            parts.append(self._object(schema, name))
        if isinstance(schema.get("items"), dict):
            parts.append(self._array(self.compile(schema["items"])))
        parts.extend(_scalar_limits(schema))
        if self.crd_minor is not None:
            parts.extend(self._crd_parts(schema))
        for key, combine in (("oneOf", _one_of), ("anyOf", _any_of)):
            subs = schema.get(key)
            if isinstance(subs, list) and subs and not self._is_type_union(subs):
                parts.append(combine([self._open(s, rules=False) for s in subs], key))
        for sub in schema.get("allOf", []) if isinstance(schema.get("allOf"), list) else []:
            parts.append(self._open(sub))
        if isinstance(schema.get("not"), dict):
            parts.append(_not(self._open(schema["not"], rules=False)))
        if types is not None and parts[1:]:
            first, rest = parts[0], parts[1:]
            return [_guarded(first, rest, types)]
        return parts

    def _open(self, schema: dict, rules: bool = True) -> Check:
        """Compile a combinator branch: branches constrain values, they do not close the object. Rules run in
        allOf branches (the API server evaluates those), not in oneOf/anyOf/not, where a failing rule would only
        make a branch look unmatched."""
        strict, self.strict = self.strict, False
        saved, self._rules = self._rules, self._rules and rules
        try:
            return self.compile(schema)
        finally:
            self.strict, self._rules = strict, saved

    def _crd_parts(self, schema: dict) -> list[Check]:
        parts: list[Check] = []
        name = schema.get("format")
        declared = schema.get("type")
        if isinstance(name, str) and declared in (None, "string") and (
                found := format_check(name, self.crd_minor, render)) is not None:
            parts.append(found)
        if self._rules and "x-kubernetes-validations" in schema and (rules := rules_check(schema, render)):
            parts.append(rules)
        return parts

    def _is_type_union(self, subs: list) -> bool:
        return all(isinstance(s, dict) and set(s) <= {"type", "format"} for s in subs)

    def _types(self, schema: dict) -> tuple[type, ...] | None:
        if schema.get("x-kubernetes-int-or-string"):
            return (int, str)
        declared = schema.get("type")
        names: list[str] = []
        if isinstance(declared, str):
            names = [declared]
        elif isinstance(declared, list):
            names = [t for t in declared if isinstance(t, str)]
        for key in ("oneOf", "anyOf"):
            subs = schema.get(key)
            if not declared and isinstance(subs, list) and subs and self._is_type_union(subs):
                for sub in subs:
                    sub_type = sub.get("type")
                    names.extend([sub_type] if isinstance(sub_type, str) else list(sub_type or []))
        if not names:
            return None
        if schema.get("nullable") or (schema.get("x-kubernetes-preserve-unknown-fields") and "null" not in names):
            names.append("null")
        found: list[type] = []
        for type_name in names:
            found.extend(_TYPES.get(type_name, ()))
        return tuple(dict.fromkeys(found)) or None

    def _object(self, schema: dict, name: str) -> Check:
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        compiled = {key: self.compile(sub) for key, sub in props.items()}
        extra = schema.get("additionalProperties")
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        if isinstance(extra, dict):
            extra_check: Check | None = self.compile(extra)
            closed = False
        else:
            extra_check = None
            closed = (extra is False or (self.strict and extra is None and bool(props))) and not preserve
        required = tuple(r for r in schema.get("required", []) or [] if (name, r) not in self.defaulted)
        known = sorted(compiled)

        def check(value: Any, path: Path, errors: list[Issue]) -> None:
            if type(value) is not dict:
                return
            for key, item in value.items():
                sub = compiled.get(key)
                if sub is not None:
                    if sub is not _accept:
                        sub(item, (path, key), errors)
                elif extra_check is not None:
                    extra_check(item, (path, key), errors)
                elif closed:
                    errors.append(_unknown_field(key, path, known))
            for key in required:
                if key not in value:
                    where = render(path)
                    errors.append(Issue("L2-REQUIRED", where or "/", f"missing required field {key!r}",
                                        f"add '{key}' under {where or 'the document root'}"))

        return check

    @staticmethod
    def _array(item_check: Check) -> Check:
        if item_check is _accept:
            return _accept

        def check(value: Any, path: Path, errors: list[Issue]) -> None:
            if type(value) is list:
                for i, item in enumerate(value):
                    item_check(item, (path, i), errors)

        return check


def _with_defaults(schema: dict, check: Check) -> Check:
    """The API server fills CRD defaults before validating, so absent defaulted fields count as set."""
    props = schema.get("properties")
    defaults = {k: s["default"] for k, s in props.items() if isinstance(s, dict) and "default" in s} if isinstance(
        props, dict) else {}
    if not defaults:
        return check

    def defaulted(value: Any, path: Path, errors: list[Issue]) -> None:
        if type(value) is dict and not defaults.keys() <= value.keys():
            value = {**defaults, **value}
        check(value, path, errors)

    return defaulted


def _unknown_field(key: str, path: Path, known: list[str]) -> Issue:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]!r}?" if close else (
        f"known fields here: {', '.join(known[:12])}{' ...' if len(known) > 12 else ''}" if known else
        "remove the field")
    return Issue("L2-UNKNOWN-FIELD", render((path, key)), f"unknown field {key!r}", hint)


def _type_name(value: Any) -> str:
    return _NAMES.get(type(value), type(value).__name__)


def _type_check(types: tuple[type, ...]) -> Check:
    wanted = " or ".join(dict.fromkeys(_NAMES[t] for t in types if t is not type(None))) or "null"
    article = "an" if wanted[0] in "aeiou" else "a"
    exact = frozenset(types)
    allow_int_as_number = float in exact

    def check(value: Any, path: Path, errors: list[Issue]) -> None:
        kind = type(value)
        if kind in exact or (allow_int_as_number and kind is int):
            return
        errors.append(Issue("L2-TYPE", render(path), f"expected {wanted}, got {_type_name(value)} {_short(value)}",
                            f"write {article} {wanted} value" + (" (quote numbers that are meant as strings)"
                                                                 if "string" in wanted else "")))

    return check


def _guarded(type_check: Check, rest: list[Check], types: tuple[type, ...]) -> Check:
    """Run detailed checks only when the type is right, so one wrong value gives one message."""
    exact = frozenset(types) | ({int} if float in types else set())

    def check(value: Any, path: Path, errors: list[Issue]) -> None:
        if type(value) not in exact:
            type_check(value, path, errors)
            return
        for part in rest:
            part(value, path, errors)

    return check


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _enum_check(allowed: list) -> Check:
    values = frozenset(v for v in allowed if isinstance(v, str | int | float | bool) or v is None)

    def check(value: Any, path: Path, errors: list[Issue]) -> None:
        if value is None or not isinstance(value, str | int | float | bool):
            return
        if value not in values:
            listed = ", ".join(sorted(map(str, values)))
            close = difflib.get_close_matches(str(value), [str(v) for v in values], n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"use one of: {listed}"
            errors.append(Issue("L2-ENUM", render(path), f"unsupported value {value!r}; allowed: {listed}", hint))

    return check


def _scalar_limits(schema: dict) -> list[Check]:
    checks: list[Check] = []
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        import re

        try:
            compiled = re.compile(pattern)
        except re.error:
            compiled = None
        if compiled is not None:
            def pattern_check(value: Any, path: Path, errors: list[Issue]) -> None:
                if isinstance(value, str) and not compiled.search(value):
                    errors.append(Issue("L2-PATTERN", render(path), f"{_short(value)} does not match {pattern!r}",
                                        "change the value to match the schema's pattern"))
            checks.append(pattern_check)
    bounds = [(k, schema[k]) for k in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")
              if isinstance(schema.get(k), int | float) and not isinstance(schema.get(k), bool)]
    if bounds:
        def bounds_check(value: Any, path: Path, errors: list[Issue]) -> None:
            for key, limit in bounds:
                problem = _bound_problem(key, limit, value)
                if problem:
                    errors.append(Issue("L2-RANGE", render(path), problem, f"keep {key} {limit}"))
        checks.append(bounds_check)
    return checks


def _bound_problem(key: str, limit: float, value: Any) -> str:
    if key in ("minimum", "maximum"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return ""
        bad = value < limit if key == "minimum" else value > limit
        return f"{value} is {'below the minimum' if key == 'minimum' else 'above the maximum'} {limit}" if bad else ""
    size_of = str if key.endswith("Length") else list
    if not isinstance(value, size_of):
        return ""
    bad = len(value) < limit if key.startswith("min") else len(value) > limit
    return f"length {len(value)} violates {key} {limit}" if bad else ""


def _one_of(subs: list[Check], key: str) -> Check:
    """oneOf: exactly one branch must accept the value."""

    def check(value: Any, path: Path, errors: list[Issue]) -> None:
        matches = 0
        for sub in subs:
            trial: list[Issue] = []
            sub(value, path, trial)
            matches += not trial
        if matches != 1:
            errors.append(Issue("L2-ONE-OF", render(path), f"value matches {matches} of the {len(subs)} allowed shapes "
                                f"({key} needs exactly one)", "match exactly one of the allowed forms"))

    return check


def _any_of(subs: list[Check], key: str) -> Check:
    """anyOf: some branch must accept the value; otherwise report the branch that came closest."""

    def check(value: Any, path: Path, errors: list[Issue]) -> None:
        best: list[Issue] | None = None
        for sub in subs:
            trial: list[Issue] = []
            sub(value, path, trial)
            if not trial:
                return
            best = trial if best is None or len(trial) < len(best) else best
        errors.extend(best or [])

    return check


def _not(sub: Check) -> Check:
    """not: the value must not match the sub-schema."""

    def check(value: Any, path: Path, errors: list[Issue]) -> None:
        trial: list[Issue] = []
        sub(value, path, trial)
        if not trial:
            errors.append(Issue("L2-ONE-OF", render(path), "value matches a shape the schema forbids ('not')",
                                "remove the combination of fields the schema excludes"))

    return check
