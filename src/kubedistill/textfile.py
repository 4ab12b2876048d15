"""Reading a user's text from a file or stdin with a size cap: what ``--request @FILE`` and ``--input FILE|-``
both do, so that a missing file, an oversized one and one that is not UTF-8 each end in one clear message."""

from __future__ import annotations

import sys

from kubedistill.errors import UserError


def read_capped(path: str, limit: int, flag: str, unreadable_hint: str, too_long_hint: str,
                encoding: str = "utf-8", dash_is_stdin: bool = True) -> str:
    """The text of ``path`` ('-': stdin, where ``dash_is_stdin``), at most ``limit`` bytes; a ``UserError`` naming
    ``flag`` otherwise."""
    stdin = dash_is_stdin and path == "-"
    where = "stdin" if stdin else path
    try:
        if stdin:
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(limit + 1)
    except OSError as exc:
        raise UserError(f"{flag}: cannot read {path}: {exc.strerror or exc}", unreadable_hint) from None
    if len(data) > limit:
        raise UserError(f"{flag}: {where} is longer than {limit} bytes", too_long_hint)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise UserError(f"{flag}: {where} is not UTF-8 text") from None
