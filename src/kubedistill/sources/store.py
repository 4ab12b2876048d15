"""The raw-pair store: one JSONL file, appended record by record, that survives crashes and resumes.

Each record is written as one line and flushed; a crash can only leave a partial last line, which the next
open truncates. Records carry deterministic ids, so a resumed run skips exactly what is done: nothing is
lost and nothing is written twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kubedistill.errors import UserError


class PairStore:
    def __init__(self, path: str | Path, fsync_every: int = 200) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.done: set[str] = set()
        self._repair_and_index()
        self._handle = self.path.open("a", encoding="utf-8")
        self._since_sync, self.fsync_every = 0, fsync_every

    def _repair_and_index(self) -> None:
        """Index finished ids; cut a partial last line (a crash mid-write), refuse damage anywhere else."""
        if not self.path.exists():
            return
        good = 0
        with self.path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    self.done.add(json.loads(line)["id"])
                except (ValueError, KeyError, TypeError):
                    if line.endswith(b"\n") or handle.read(1):
                        raise UserError(f"{self.path}:{number}: damaged record in the middle of the store",
                                        "restore the file or move it away; only a partial last line is repaired "
                                        "automatically") from None
                    break  # the partial last line of a crashed write
                good += len(line)
        if good != self.path.stat().st_size:
            with self.path.open("r+b") as handle:
                handle.truncate(good)

    def append(self, record: dict[str, Any]) -> None:
        self._handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._handle.flush()
        self.done.add(record["id"])
        self._since_sync += 1
        if self._since_sync >= self.fsync_every:
            os.fsync(self._handle.fileno())
            self._since_sync = 0

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()

    def __enter__(self) -> PairStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_pairs(*paths: str | Path) -> Iterator[dict]:
    """Stream the records of stores (or any JSONL files of pairs); a bad line is an error naming file:line."""
    for path in paths:
        with Path(path).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UserError(f"{path}:{number}: not a JSON line ({exc.msg})",
                                    "inputs are pairs.jsonl files written by kubedistill sources") from None
                if not isinstance(record, dict) or "id" not in record:
                    raise UserError(f"{path}:{number}: a pair needs an 'id' field")
                yield record


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write beside the target and rename over it: a reader sees the old file or the new one, never half."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json_atomic(path: str | Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def read_json_object(path: str | Path, what: str, hint: str = "") -> dict:
    """A JSON object a run wrote for itself (a marker, a stamp); a damaged one is a clear error naming the file,
    not a traceback, since a crash mid-write or a hand edit can leave one behind."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{what}: {path} cannot be read: {exc}", hint) from None
    if not isinstance(data, dict):
        raise UserError(f"{what}: {path} holds {type(data).__name__}, not a JSON object", hint)
    return data


def changed_settings(before: Mapping[str, Any], now: Mapping[str, Any],
                     older: Callable[[str], Any]) -> dict[str, tuple[Any, Any]]:
    """Each setting of ``now`` that differs from the stored ``before``, as (old, new). A setting missing from
    ``before`` was added after that run was written, so it counts as ``older(key)``: what such runs ran with.
    Without that, adding a setting would refuse every earlier run's resume."""
    changes = {}
    for key, value in now.items():
        old = before[key] if key in before else older(key)
        if old != value:
            changes[key] = (old, value)
    return changes
