"""CRD ``x-kubernetes-validations`` rules as schema checks, evaluated as the API server evaluates them.

Each rule is compiled once (``Program`` objects are cached by their source text: CRD versions and nested nodes
repeat rules) and run with ``self`` bound to the value of the schema node that carries it; a null value is not
checked, as in apiextensions' validator. The outcomes follow apiextensions-apiserver
(pkg/apiserver/schema/cel/validation.go):

- false: an ``L2-CRD-RULE`` error with the rule's ``messageExpression`` (when it evaluates to a one-line string),
  else its ``message``, else "failed rule: RULE", at the node's path plus the rule's ``fieldPath``;
- an evaluation error (no such key, index out of bounds, overflow): also an error, "ERROR evaluating rule: RULE",
  as the API server reports it;
- a rule this evaluator cannot run (an unsupported function, syntax it does not parse, or operands whose types
  the API server's type checker would have settled when the CRD was created): an ``L2-CRD-RULE-UNCHECKED``
  warning, never an error, so that a gap here cannot reject a manifest the API server accepts.

Transition rules (those that use ``oldSelf``) are skipped: they compare an update with the stored object, and a
manifest being validated is a create, for which the API server does not run them either.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubedistill.verify.cel import CelError, NoSuchOverload, Program, Unsupported
from kubedistill.verify.cel.values import parse_duration, parse_timestamp
from kubedistill.verify.finding import Issue, Severity
from kubedistill.verify.pointer import escape
from kubedistill.verify.registry import rule

log = logging.getLogger(__name__)

FAILED = rule("L2-CRD-RULE", 2, "an x-kubernetes-validations rule of the CRD does not hold")
UNCHECKED = rule("L2-CRD-RULE-UNCHECKED", 2, "an x-kubernetes-validations rule could not be evaluated")
DISTINCT = frozenset({FAILED, UNCHECKED})
"""Rules whose findings at one path differ by message: every failing rule of a node is reported."""
BLOCKING = frozenset({"L2-TYPE", "L2-REQUIRED", "L2-ENUM"})
"""Schema errors after which the API server does not run the rules (its hasBlockingErr), so neither do we."""
_OLD_SELF = re.compile(r"\boldSelf\b")
_FIELD_PATH = re.compile(r"\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\]")


@functools.lru_cache(maxsize=4096)
def compiled(source: str) -> Program | Unsupported:
    """The program for a rule's text, or why it cannot run; cached, since CRDs repeat their rules."""
    try:
        return Program(source, ("self", "oldSelf"))
    except Unsupported as exc:
        return exc
    except RecursionError:
        return Unsupported("expression nested too deeply")


@dataclass(frozen=True, slots=True)
class ValidationRule:
    """One entry of ``x-kubernetes-validations``."""

    source: str
    program: Program | None
    message: str
    message_program: Program | None
    field_path: str
    """The rule's ``fieldPath`` as a JSON-pointer suffix ('' when unset or unreadable)."""
    reason: str
    unchecked: str
    """Why the rule is not evaluated, '' when it is."""

    def run(self, value: Any, errors: list[Issue]) -> None:
        """Append this rule's finding for ``value``, with a path relative to the node ('' or the fieldPath)."""
        if self.unchecked:
            errors.append(self._warning(self.unchecked))
            return
        try:
            result = self.program.evaluate(value)
        except NoSuchOverload as exc:
            errors.append(self._warning(str(exc)))
            return
        except CelError as exc:
            errors.append(Issue(FAILED, "", f"{exc} evaluating rule: {self._label()}",
                                f"the CRD's rule must evaluate without error here: {_short(self.source)}"))
            return
        except Unsupported as exc:
            errors.append(self._warning(str(exc)))
            return
        except Exception as exc:  # a bug here must cost a warning, not the whole verification
            log.debug("rule %r raised %r", self.source, exc)
            errors.append(self._warning(f"internal error {type(exc).__name__}: {exc}"))
            return
        if result is True:
            return
        if type(result) is not bool:
            errors.append(self._warning(f"the rule returned a {type(result).__name__}, not a bool"))
            return
        reason = f" (the API server reports {self.reason})" if self.reason else ""
        errors.append(Issue(FAILED, self.field_path, self._message(value),
                            f"the CRD requires: {_short(self.source)}{reason}"))

    def _message(self, value: Any) -> str:
        if self.message_program is not None:
            try:
                text = self.message_program.evaluate(value)
            except Exception:  # the API server falls back to message when messageExpression fails
                text = None
            if type(text) is str and text.strip() and "\n" not in text.strip():
                return text.strip()
        return self.message or f"failed rule: {self.source.strip()}"

    def _label(self) -> str:
        return self.message or self.source.strip()

    def _warning(self, why: str) -> Issue:
        return Issue(UNCHECKED, "", f"rule not evaluated ({why}): {_short(self.source)}",
                     "kubedistill cannot evaluate this rule; the API server will, when the object is applied",
                     severity=Severity.WARNING)


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def field_pointer(path: Any) -> str:
    """A rule's fieldPath ('.spec.ports', ".labels['app.kubernetes.io/name']") as a JSON-pointer suffix."""
    if not isinstance(path, str) or not path:
        return ""
    keys, pos = [], 0
    while pos < len(path):
        match = _FIELD_PATH.match(path, pos)
        if not match:
            return ""
        keys.append(match.group(1) if match.group(1) is not None else re.sub(r"\\(.)", r"\1", match.group(2)))
        pos = match.end()
    return "".join("/" + escape(k) for k in keys)


def compile_rule(entry: Any) -> ValidationRule | None:
    """None for a transition rule (it uses oldSelf) or an entry without a rule."""
    if not isinstance(entry, dict) or not isinstance(entry.get("rule"), str) or not entry["rule"].strip():
        return None
    source = entry["rule"]
    program = compiled(source)
    message_source = entry.get("messageExpression")
    message_program = compiled(message_source) if isinstance(message_source, str) else None
    if (isinstance(program, Program) and "oldSelf" in program.names) or (_OLD_SELF.search(source) and not isinstance(
            program, Program)):
        return None
    message = entry.get("message").strip() if isinstance(entry.get("message"), str) else ""
    return ValidationRule(source, program if isinstance(program, Program) else None, message,
                          message_program if isinstance(message_program, Program) else None,
                          field_pointer(entry.get("fieldPath")), str(entry.get("reason") or ""),
                          "" if isinstance(program, Program) else str(program))


def rules_check(schema: dict, render: Callable[[Any], str]) -> Callable | None:
    """The check running a schema node's rules, or None when it has none to run."""
    entries = schema.get("x-kubernetes-validations")
    rules = [r for r in map(compile_rule, entries) if r is not None] if isinstance(entries, list) else []
    if not rules:
        return None
    convert = typed(schema)

    def check(value: Any, path: Any, errors: list[Issue]) -> None:
        if value is None:
            return
        bound = convert(value) if convert is not None else value
        found: list[Issue] = []
        for each in rules:
            each.run(bound, found)
        if found:  # the path is rendered only for a finding
            where = render(path)
            errors.extend(dataclasses.replace(i, path=(where + i.path) or "/") for i in found)

    return check


def settle(issues: list[Issue]) -> list[Issue]:
    """The API server runs no rule on an object with blocking schema errors; a rule that cannot be evaluated is
    reported once per object, not once per list item."""
    if not any(i.rule in (FAILED, UNCHECKED) for i in issues):
        return issues
    if any(i.rule in BLOCKING or (i.rule == "L2-RANGE" and any(k in i.message for k in ("maxLength", "maxItems")))
           for i in issues):
        return [i for i in issues if i.rule not in (FAILED, UNCHECKED)]
    seen: set[str] = set()
    out = []
    for issue in issues:
        if issue.rule == UNCHECKED:
            if issue.message in seen:
                continue
            seen.add(issue.message)
        out.append(issue)
    return out


# --- typed values: the API server binds date-time strings as timestamps, durations as durations ------------

def _timestamp(text: Any) -> Any:
    try:
        return parse_timestamp(text) if type(text) is str else text
    except CelError:
        return text


def _date(text: Any) -> Any:
    return _timestamp(f"{text}T00:00:00Z") if type(text) is str and len(text) == 10 else text


def _duration(text: Any) -> Any:
    try:
        return parse_duration(text) if type(text) is str else text
    except CelError:
        return text


def _bytes(text: Any) -> Any:
    try:
        return base64.b64decode(text, validate=True) if type(text) is str else text
    except (binascii.Error, ValueError):
        return text


_CONVERTERS = {"date-time": _timestamp, "datetime": _timestamp, "date": _date, "duration": _duration,
               "byte": _bytes}


def typed(schema: Any) -> Callable[[Any], Any] | None:
    """A function giving a value the CEL types its schema declares, or None when plain values are right (the
    common case: only string formats byte, date, date-time and duration change a value's type)."""
    if not isinstance(schema, dict):
        return None
    if schema.get("type") == "string" and schema.get("format") in _CONVERTERS:
        return _CONVERTERS[schema["format"]]
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    subs = {k: c for k, s in props.items() if (c := typed(s)) is not None}
    extra = typed(schema.get("additionalProperties"))
    items = typed(schema.get("items"))
    if not subs and extra is None and items is None:
        return None

    def convert(value: Any) -> Any:
        if type(value) is dict and (subs or extra is not None):
            out = dict(value)
            for key, item in value.items():
                fn = subs.get(key) if key in props else extra
                if fn is not None:
                    out[key] = fn(item)
            return out
        if type(value) is list and items is not None:
            return [items(v) for v in value]
        return value

    return convert
