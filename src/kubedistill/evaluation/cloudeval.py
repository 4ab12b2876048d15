"""The CloudEval-YAML Kubernetes problems as an external benchmark, read from a user's local copy.

Layout: ``Kubernetes/<category>/qN/question.txt`` and ``labeled_code.yaml`` (plus ``unit_test.sh``, which needs
a live cluster and is not run here). In the labeled reference a line whose comment ends in ``*`` (``# *``)
marks a value that is not checked. Scores, as the benchmark defines them:

- *exact match*: the answer equals the reference after stripping surrounding whitespace; the reference is taken
  with its label comments removed, since they are annotations, not part of the expected YAML.
- *key-value wildcard match*: both sides as lists of documents; per document the leaves (key path, value), with
  lists of mappings flattened into their parent path; score = matched reference leaves / union of leaves, where
  a wildcard leaf matches any value at the same key path. An answer that does not parse scores 0.

The benchmark asks that its unzipped data not be republished: never commit it (tests use a tiny fixture).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from kubedistill.errors import UserError
from kubedistill.evaluation.tasks import Task

_LABEL = re.compile(r"\s*#[^\n]*\*\s*$")


def problems_root(data: str | Path) -> Path:
    root = Path(data)
    for candidate in (root / "Kubernetes", root / "data" / "Kubernetes", root):
        if candidate.is_dir() and any(candidate.glob("*/q*/question.txt")):
            return candidate
    raise UserError(f"no CloudEval-YAML Kubernetes problems under {data}",
                    "point --data at the unzipped benchmark (the folder holding Kubernetes/<category>/qN/)")


def _order(path: Path) -> tuple[float, str]:
    try:
        return float(path.name.lstrip("q")), path.name
    except ValueError:
        return float("inf"), path.name


def load_problems(data: str | Path, limit: int = 0) -> list[Task]:
    root = problems_root(data)
    tasks: list[Task] = []
    for category in sorted(p for p in root.iterdir() if p.is_dir()):
        for problem in sorted((p for p in category.glob("q*") if p.is_dir()), key=_order):
            question, reference = problem / "question.txt", problem / "labeled_code.yaml"
            if not question.is_file() or not reference.is_file():
                raise UserError(f"{problem}: a problem needs question.txt and labeled_code.yaml")
            tasks.append(Task(f"Kubernetes_{category.name}_{problem.name}", question.read_text(encoding="utf-8"),
                              None, category.name, "cloudeval", reference.read_text(encoding="utf-8")))
            if limit and len(tasks) >= limit:
                return tasks
    return tasks


def unlabeled(labeled: str) -> str:
    return "\n".join(_LABEL.sub("", line) for line in labeled.splitlines())


def exact_match(answer: str, labeled: str) -> bool:
    return answer.strip() == unlabeled(labeled).strip()


def _mark_wildcards(labeled: str) -> str:
    """Append ``*`` to the key of every labeled line so that the mark survives parsing."""
    out = []
    for line in labeled.splitlines():
        if "#" in line and line.rstrip().endswith("*") and ":" in line:
            key, rest = line.split(":", 1)
            out.append(key.rstrip() + "*:" + rest)
        else:
            out.append(line)
    return "\n".join(out)


def _leaves(node: Any, prefix: tuple = ()) -> list[tuple[tuple, Any, bool]]:
    found: list[tuple[tuple, Any, bool]] = []
    if not isinstance(node, dict):
        return found
    for key, value in node.items():
        name = str(key)
        path = (*prefix, name.rstrip("*"))
        if isinstance(value, dict):
            found += _leaves(value, path)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                found += _leaves(item, path)
        else:
            found.append((path, value, name.endswith("*")))
    return found


def kv_wildcard(answer: str, labeled: str) -> float:
    try:
        produced = [d for d in yaml.safe_load_all(answer)]
    except yaml.YAMLError:
        return 0.0
    try:
        expected = [d for d in yaml.safe_load_all(_mark_wildcards(labeled))]
    except yaml.YAMLError as exc:
        raise UserError(f"the labeled reference does not parse: {exc}") from None
    width = max(len(produced), len(expected))
    produced += [{}] * (width - len(produced))
    expected += [{}] * (width - len(expected))
    matched = union = 0
    for mine, theirs in zip(produced, expected, strict=True):
        got, want = _leaves(mine), _leaves(theirs)
        hits = 0
        for path, value, wildcard in want:
            if any(p == path and (wildcard or v == value) for p, v, _ in got):
                hits += 1
        matched += hits
        union += len(got) + len(want) - hits
    return matched / union if union else 1.0


def score(answer_manifest: str, labeled: str) -> dict[str, float]:
    return {"exact_match": float(exact_match(answer_manifest, labeled)),
            "kv_wildcard": kv_wildcard(answer_manifest, labeled)}
