"""Which lines of a training answer carry the request's values, so that the loss can weigh them more.

The distilled student's misses are rarely broken YAML: they are single values of a long request that it drops or
puts in the wrong place (a memory *limit* written as a request, an env var left out next to ``envFrom``, a
headless Service without ``clusterIP: None``). Those values are a few percent of an answer's tokens, so the plain
mean cross-entropy spends almost all of its gradient on boilerplate the model already writes well. The pair's
task spec says which values the instruction asked for; here we find the manifest lines that state them, plus the
keys they sit under (``limits:`` above ``memory: 256Mi``), so that those tokens can get a larger loss weight.

The match is textual and deliberately generous: a value that also appears on an unrelated line (an app name in
a label) marks that line too, which costs nothing but a little emphasis.
"""

from __future__ import annotations

import re
from typing import Any

BOOLEAN_KEYS = {"run_as_non_root": "runAsNonRoot", "read_only_root_fs": "readOnlyRootFilesystem"}
"""Spec flags whose value (true) is too common to find by text: the manifest key that states them."""

KEYED = ("env", "labels")
"""Spec mappings whose keys are values a request names too (an env var's name, a label's key); the keys of
``requests`` and ``limits`` (cpu, memory) are not: they are on every container's lines."""

SKIPPED = ("kind", "name", "namespace")
"""Spec fields left unmarked: object names and namespaces are on half an answer's lines, and the student that
needs this emphasis already writes them right."""

ANCESTORS = 1
"""How many enclosing keys of a matched line to mark: ``limits:`` above ``memory: 256Mi``, ``env:`` above
``- name: LOG_LEVEL``."""

_LINE = re.compile(r"^(?P<indent>\s*(?:-\s+)*)(?:(?P<key>[^:#\s][^:#]*?):(?:\s+|$))?(?P<value>.*)$")


def spec_terms(spec: dict | None) -> tuple[set[str], set[str]]:
    """The values (strings as a manifest writes them) and the key names a task spec asks for."""
    values: set[str] = set()
    keys: set[str] = set()
    for obj in (spec or {}).get("objects") or []:
        for name, item in obj.items():
            if name in SKIPPED:
                continue
            if name in BOOLEAN_KEYS:
                if item:
                    keys.add(BOOLEAN_KEYS[name])
            elif name == "fields" and isinstance(item, dict):
                for pointer, value in item.items():
                    keys.add(str(pointer).rstrip("/").rsplit("/", 1)[-1])
                    _add_value(values, value)
            elif isinstance(item, dict):
                for key, value in item.items():
                    if name in KEYED:
                        _add_value(values, key)
                    _add_value(values, value)
            elif isinstance(item, list):
                for value in item:
                    _add_value(values, value)
            else:
                _add_value(values, item)
    return values, keys


def _add_value(values: set[str], value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return
    text = str(value).strip()
    if len(text) >= 2 or text.isdigit():  # "/" (a path) would mark every path
        values.add(text)


def emphasis_lines(manifest: str, spec: dict | None) -> set[int]:
    """Indices of the manifest's lines that state a value or key of ``spec``, and of their enclosing keys."""
    values, keys = spec_terms(spec)
    if not values and not keys:
        return set()
    numbers = {v for v in values if v.isdigit()}
    patterns = [re.compile(r"(?<![\w.-])" + re.escape(v) + r"(?![\w.-])") for v in sorted(values - numbers)]
    lines = manifest.split("\n")
    marked: set[int] = set()
    for index, line in enumerate(lines):
        match = _LINE.match(line)
        if not match or not line.strip() or line.lstrip().startswith("#"):
            continue
        key = (match.group("key") or "").strip().strip("'\"")
        value = match.group("value").strip().strip("'\"")
        if (key in keys or key in values or value in numbers
                or (value and any(p.search(value) for p in patterns))):
            marked.add(index)
            marked.update(_ancestors(lines, index))
    return marked


def _indent(line: str) -> int:
    """The column a line's key starts at: a list item's ``- `` counts as indentation."""
    match = _LINE.match(line)
    return len(match.group("indent")) if match else len(line) - len(line.lstrip())


def _ancestors(lines: list[str], index: int) -> list[int]:
    found: list[int] = []
    depth = _indent(lines[index])
    for above in range(index - 1, -1, -1):
        if len(found) == ANCESTORS or depth == 0:
            break
        line = lines[above]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.strip() == "---":
            break
        column = len(line) - len(line.lstrip())
        if column < depth:
            found.append(above)
            depth = column
    return found


def emphasis_spans(manifest: str, spec: dict | None) -> list[tuple[int, int]]:
    """Character spans (start, end) of ``manifest`` to weigh more: its marked lines, each with its newline."""
    marked = emphasis_lines(manifest, spec)
    spans, start = [], 0
    for index, line in enumerate(manifest.split("\n")):
        end = start + len(line) + 1
        if index in marked:
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], min(end, len(manifest)))
            else:
                spans.append((start, min(end, len(manifest))))
        start = end
    return spans
