"""Splitting a YAML stream into documents without reading it whole.

A 100,000-document file must not be held in memory as one string, and a syntax error in one document
should not hide the documents after it. Like kubeconform, we split on document markers (``---`` and
``...`` at the start of a line) and parse each document on its own; YAML anchors never cross documents,
so nothing is lost. Bytes are decoded line by line, so binary input and bad UTF-8 are found where they are.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kubedistill.verify.finding import Issue


@dataclass(slots=True)
class Chunk:
    """The text of one document and the 1-based line where it starts in the file (or why it is unreadable)."""

    first_line: int
    text: str = ""
    issue: Issue | None = None


def _is_marker(line: str, marker: str) -> bool:
    return line.startswith(marker) and (len(line) == 3 or line[3] in " \t\r\n")


def decoded_lines(lines: Iterable[bytes]) -> Iterator[str | Issue]:
    """UTF-8 lines, or an Issue in place of a line that is binary or not UTF-8."""
    offset = 0
    for number, raw in enumerate(lines):
        if number == 0 and raw.startswith(codecs.BOM_UTF8):
            raw, offset = raw[len(codecs.BOM_UTF8):], len(codecs.BOM_UTF8)
        nul = raw.find(b"\x00")
        if nul >= 0:
            yield Issue("L1-BINARY", "", f"binary input: NUL byte at offset {offset + nul}",
                        "pass a YAML or JSON text file", line=number + 1)
        else:
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Issue("L1-ENCODING", "", f"not valid UTF-8 at byte {offset + exc.start}",
                            "save the file as UTF-8", line=number + 1)
        offset += len(raw)


def split_documents(lines: Iterable[str | Issue]) -> Iterator[Chunk]:
    """Chunks of one document each; the first issue inside a document makes the whole chunk unreadable."""
    current = Chunk(1)
    parts: list[str] = []
    explicit = False
    for number, line in enumerate(lines, start=1):
        if isinstance(line, str) and (_is_marker(line, "---") or _is_marker(line, "...")):
            if parts or explicit or current.issue:
                yield _finish(current, parts)
            starts = _is_marker(line, "---")
            current, parts, explicit = Chunk(number), [line] if starts else [], starts
            if not starts:
                current.first_line = number + 1
            continue
        if isinstance(line, Issue):
            current.issue = current.issue or line
        elif current.issue is None:
            parts.append(line)
    if parts or explicit or current.issue:
        yield _finish(current, parts)


def _finish(chunk: Chunk, parts: list[str]) -> Chunk:
    if chunk.issue is None:
        chunk.text = "".join(parts)
    return chunk


def text_lines(text: str) -> Iterator[str]:
    return iter(text.splitlines(keepends=True))
