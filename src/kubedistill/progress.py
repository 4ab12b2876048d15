"""A small progress line for long jobs (count, rate, ETA) on stderr; silent when stderr is not a terminal
unless asked, so logs and CI output stay clean."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def wanted(choice: bool | None, stream: TextIO | None = None) -> bool:
    """Whether progress is shown: as asked, else when the stream (stderr by default) is a terminal."""
    return (stream or sys.stderr).isatty() if choice is None else choice


class Progress:
    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None,
                 enabled: bool | None = None, every: float = 0.5) -> None:
        self.label, self.total, self.stream = label, total, stream or sys.stderr
        self.enabled = wanted(enabled, self.stream)
        self.every, self.count, self.start, self.last = every, 0, time.monotonic(), 0.0

    def advance(self, n: int = 1, note: str = "") -> None:
        self.count += n
        now = time.monotonic()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            self._draw(now, note)

    def _draw(self, now: float, note: str, end: str = "\r") -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.count / elapsed
        total = f"/{self.total}" if self.total else ""
        eta = ""
        if self.total and rate > 0:
            eta = f", ETA {max(0.0, (self.total - self.count) / rate):.0f}s"
        self.stream.write(f"{self.label}: {self.count}{total} ({rate:.1f}/s{eta}){' ' + note if note else ''}   {end}")
        self.stream.flush()

    def close(self, note: str = "") -> None:
        if self.enabled:
            self._draw(time.monotonic(), note, end="\n")
