"""The rule registry: every rule id with its level, title and checkov twin, and the checks per kind.

Checks register themselves with ``@check(level, kinds)``; the engine asks ``checks_for(level, kind)``.
Rule metadata is data so that ``--summary``, SARIF output and the docs list the same ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kubedistill.verify.finding import Issue


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    level: int
    title: str
    checkov: str = ""


RULES: dict[str, Rule] = {}
_CHECKS: dict[int, list[tuple[frozenset[str] | None, Callable[..., Iterable[Issue]]]]] = {}


def rule(rule_id: str, level: int, title: str, checkov: str = "") -> str:
    """Declare a rule once; returns its id so a module can keep it as a constant."""
    RULES[rule_id] = Rule(rule_id, level, title, checkov)
    return rule_id


def check(level: int, kinds: Iterable[str] | None = None) -> Callable:
    def register(fn: Callable[..., Iterable[Issue]]) -> Callable[..., Iterable[Issue]]:
        _CHECKS.setdefault(level, []).append((frozenset(kinds) if kinds is not None else None, fn))
        return fn

    return register


def checks_for(level: int, kind: Any) -> list[Callable[..., Iterable[Issue]]]:
    return [fn for kinds, fn in _CHECKS.get(level, []) if kinds is None or kind in kinds]


for _id, _title in [
    ("L1-YAML", "YAML syntax error"), ("L1-TAB", "tab used for indentation"),
    ("L1-DUPLICATE-KEY", "duplicate mapping key"), ("L1-NOT-MAPPING", "document is not a mapping"),
    ("L1-BINARY", "binary input"), ("L1-ENCODING", "not UTF-8"), ("L1-DEPTH", "nesting too deep"),
    ("L1-ALIAS-BOMB", "alias expansion too large"), ("L1-TAG", "unsupported YAML tag"),
    ("L1-KEY", "non-scalar or null mapping key"), ("L1-MERGE", "invalid merge key"),
    ("L1-EMPTY", "input holds no Kubernetes object"),
]:
    rule(_id, 1, _title)
for _id, _title in [
    ("L2-MISSING-APIVERSION", "apiVersion missing"), ("L2-MISSING-KIND", "kind missing"),
    ("L2-TYPE", "wrong value type"), ("L2-UNKNOWN-FIELD", "field not in the schema"),
    ("L2-REQUIRED", "required field missing"), ("L2-ENUM", "value not allowed"),
    ("L2-PATTERN", "value does not match pattern"), ("L2-RANGE", "value out of range"),
    ("L2-ONE-OF", "value matches no allowed shape"), ("L2-REMOVED-API", "API version removed"),
    ("L2-UNKNOWN-KIND", "kind not served by this API group"), ("L2-SCHEMA-MISSING", "no schema for kind"),
]:
    rule(_id, 2, _title)
