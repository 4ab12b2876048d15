"""Degenerate loops while decoding: an answer that writes the same block of lines again and again.

A small model decoding greedily can fall into a loop (the same env entry, argument or ports block repeated until
max_new_tokens): the quickstart's student did so on 7 of 16 hand-written requests. Every token after the loop
begins is wasted time, so the backends check the end of the answer as it grows and stop once it repeats.

A legitimate manifest repeats structure too (several containers, env entries with different names), never the
same text: the rule asks for *exact* repetition of the last lines, back to back, several times. The thresholds
were set on the shared real-manifest corpus (no file fires, raw or canonical; tests/test_loops.py) and on the
loops the 0.5B model wrote (bench/loop_detect.py).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BLOCK = 40
"""Longest repeating block looked for, in lines."""
MIN_REPEATS = 3
"""A block must appear at least this many times in a row..."""
MIN_SPAN = 12
"""...and the repeats must cover at least this many lines: a one-line block 12 times, a two-line one 6 times,
three lines 4 times, four lines or more 3 times."""
MIN_CHARS = 12
"""Non-blank characters a block must hold, so that runs of blank lines or closing brackets never count."""
CHECK_EVERY = 16
"""Tokens between two checks while decoding (a check is a few microseconds; decoding a token, milliseconds)."""


@dataclass(frozen=True)
class Repeat:
    lines: int
    """Lines in the repeating block."""
    times: int
    """Times it appears in a row at the end of the text."""


def needed(block: int) -> int:
    """Repeats in a row that make a loop of a ``block``-line block."""
    return max(MIN_REPEATS, -(-MIN_SPAN // block))


def repeat_at_end(lines: list[str]) -> Repeat | None:
    """The loop the last lines of ``lines`` are in, if any (the shortest such block)."""
    for block in range(1, MAX_BLOCK + 1):
        want = needed(block)
        if len(lines) < block * want:
            break
        if lines[-1] != lines[-1 - block]:  # cheap first test: most periods fail on the last line
            continue
        tail = lines[-block:]
        if sum(len(line.strip()) for line in tail) < MIN_CHARS:
            continue
        times = 1
        while times < want and lines[-(times + 1) * block:len(lines) - times * block] == tail:
            times += 1
        if times >= want:
            return Repeat(block, times)
    return None


def complete_lines(text: str) -> list[str]:
    """The finished lines of ``text`` (the last one is still being written unless the text ends in a newline)."""
    return text.split("\n")[:-1]


def looped(text: str) -> bool:
    """Whether ``text`` ends in a loop: the check of a finished generation, e.g. one cached before detection."""
    return repeat_at_end(complete_lines(text)) is not None


class LoopWatch:
    """Text as it is produced, checked every ``every`` pieces (tokens) for a loop at its end."""

    def __init__(self, every: int = CHECK_EVERY) -> None:
        self.every = every
        self.pieces: list[str] = []
        self.fired = False

    def feed(self, piece: str) -> bool:
        """Add a piece; True once the text has fallen into a loop."""
        self.pieces.append(piece)
        if not self.fired and len(self.pieces) % self.every == 0:
            self.fired = looped("".join(self.pieces))
        return self.fired
