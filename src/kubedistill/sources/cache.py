"""An on-disk answer cache keyed by prompt hash, so that a rerun never pays twice for the same request."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


class AnswerCache:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        entry = self.entry(key)
        return entry["text"] if entry else None

    def entry(self, key: str) -> dict | None:
        """The stored text with its metadata; None when absent or unreadable (a torn entry is a miss)."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("text"), str) else None

    def put(self, key: str, text: str, meta: dict | None = None) -> None:
        """Write atomically (temp file + rename): a crash never leaves a half-written entry."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"text": text, **(meta or {})}, handle, ensure_ascii=False)
        os.replace(tmp, path)
