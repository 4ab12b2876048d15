"""Splitting a YAML stream into documents without reading it whole.

A 100,000-document file must not be held in memory as one string, and a syntax error in one document
should not hide the documents after it. Like kubeconform, we split on document markers (``---`` and
``...`` at the start of a line) and parse each document on its own; YAML anchors never cross documents,
so nothing is lost. Bytes are decoded line by line, so binary input and bad UTF-8 are found where they are.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from kubedistill.verify.finding import Issue
from kubedistill.verify.syntax import decode


@dataclass(slots=True)
class Chunk:
    """The text of one document and the 1-based line where it starts in the file (or why it is unreadable)."""

    first_line: int
    text: str = ""
    issue: Issue | None = None


_MARKER_AT = re.compile(r"(?:---|\.\.\.)(?=[ \t\r\n]|$)")
_MARKER_AFTER_NEWLINE = re.compile(r"\n(?:---|\.\.\.)(?=[ \t\r\n]|$)")
"""Led by a literal newline, the regex engine jumps from line to line; ``^`` in MULTILINE mode tries every
character and cost six times as much on the real-manifest corpus."""


def _markers(block: str) -> Iterator[int]:
    """Offsets of the document markers that start a line of ``block`` (blocks hold whole lines)."""
    if _MARKER_AT.match(block):
        yield 0
    for match in _MARKER_AFTER_NEWLINE.finditer(block):
        yield match.start() + 1


BLOCK_BYTES = 1 << 20


def decoded_blocks(handle: BinaryIO) -> Iterator[str | Issue]:
    """Text in blocks of whole lines (about 1 MiB each); a line that is binary or not UTF-8 becomes an Issue."""
    pending, offset, line = b"", 0, 1
    first = True
    while True:
        chunk = handle.read(BLOCK_BYTES)
        data = pending + chunk
        if first and data.startswith(codecs.BOM_UTF8):
            data, offset = data[len(codecs.BOM_UTF8):], len(codecs.BOM_UTF8)
        if first and data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # rare: decode whole
            text, issue = decode(data + handle.read())
            yield issue if issue is not None else text or ""
            return
        first = False
        cut = data.rfind(b"\n") + 1 if chunk else len(data)
        if not data:
            return
        if cut == 0:
            pending = data
            continue
        block, pending = data[:cut], data[cut:]
        yield from _decode_block(block, offset, line)
        offset += len(block)
        line += block.count(b"\n")
        if not chunk and not pending:
            return


def _decode_block(block: bytes, offset: int, line: int) -> Iterator[str | Issue]:
    if b"\x00" not in block:
        try:
            yield block.decode("utf-8")
            return
        except UnicodeDecodeError:
            pass
    for number, raw in enumerate(block.splitlines(keepends=True), start=line):
        nul = raw.find(b"\x00")
        if nul >= 0:
            yield Issue("L1-BINARY", "", f"binary input: NUL byte at offset {offset + nul}",
                        "pass a YAML or JSON text file", line=number)
        else:
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Issue("L1-ENCODING", "", f"not valid UTF-8 at byte {offset + exc.start}",
                            "save the file as UTF-8", line=number)
        offset += len(raw)


def split_documents(blocks: Iterable[str | Issue]) -> Iterator[Chunk]:
    """Chunks of one document each; the first issue inside a document makes the whole chunk unreadable."""
    current, parts, explicit, line = Chunk(1), [], False, 1
    for block in blocks:
        if isinstance(block, Issue):
            current.issue = current.issue or block
            line += 1
            continue
        start = 0
        for at in _markers(block):
            segment = block[start:at]
            if current.issue is None:
                parts.append(segment)
            line += segment.count("\n")
            if _has_text(parts) or explicit or current.issue:
                yield _finish(current, parts)
            starts = block.startswith("---", at)
            current, parts, explicit = Chunk(line if starts else line + 1), [], starts
            start = at
            if not starts:  # '...' ends a document: skip the marker line itself
                end = block.find("\n", start)
                start = len(block) if end < 0 else end + 1
                line += 1
        segment = block[start:]
        if current.issue is None:
            parts.append(segment)
        line += segment.count("\n")
    if _has_text(parts) or explicit or current.issue:
        yield _finish(current, parts)


def _has_text(parts: list[str]) -> bool:
    """Any non-blank text (``isspace`` copies nothing, where ``strip`` copied every document once more)."""
    return any(part and not part.isspace() for part in parts)


def _finish(chunk: Chunk, parts: list[str]) -> Chunk:
    if chunk.issue is None:
        chunk.text = "".join(parts)
    return chunk


def text_blocks(text: str) -> Iterator[str]:
    yield text
