"""Evaluation tasks: an instruction with its task spec, read from a corpus split or any JSONL file of pairs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kubedistill.context.spec import TaskSpec
from kubedistill.errors import UserError


@dataclass
class Task:
    id: str
    instruction: str
    spec: TaskSpec | None = None
    family: str = ""
    source: str = ""
    reference: str = ""
    """The corpus manifest (for reports); never shown to the model."""


def tasks_path(split: str, corpus: str = "") -> Path:
    """``--split test`` means ``CORPUS/data/test.jsonl``; anything else is a path to a JSONL file."""
    if split in ("train", "validation", "test"):
        if not corpus:
            raise UserError(f"--split {split} needs --corpus (a folder from kubedistill corpus build)",
                            "or pass a JSONL file of tasks as --split PATH")
        return Path(corpus) / "data" / f"{split}.jsonl"
    return Path(split)


def load_tasks(path: Path, limit: int = 0) -> list[Task]:
    """Every task in the file, with a clear message naming the line of a bad one."""
    if not path.is_file():
        raise UserError(f"no task file at {path}", "build a corpus with kubedistill corpus build")
    tasks: list[Task] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("a task must be a JSON object")
            if not str(row.get("instruction") or "").strip():
                raise ValueError("field 'instruction' is missing or empty")
            spec = TaskSpec.from_dict(row["spec"]) if row.get("spec") else None
        except (ValueError, TypeError) as exc:
            raise UserError(f"{path}:{number}: {exc}") from None
        ident = str(row.get("id") or f"line-{number}")
        if ident in seen:
            raise UserError(f"{path}:{number}: duplicate task id {ident!r}")
        seen.add(ident)
        tasks.append(Task(ident, row["instruction"], spec, str(row.get("family") or (spec.family if spec else "")),
                          str(row.get("source") or ""), str(row.get("manifest") or "")))
        if limit and len(tasks) >= limit:
            break
    if not tasks:
        raise UserError(f"{path} holds no tasks")
    return tasks
