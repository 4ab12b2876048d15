"""Numbers written in words, as digits, so the request reader's patterns see them: "three replicas" -> "3 replicas",
"port eight thousand eighty" -> "port 8080", "half a core" -> "500m of CPU".

People write counts and sizes in words in chat and in prose; the reader's patterns are written for digits. A lone
"one" or "zero" is left as it is ("one of the pods", "the one that ..."): the reader's patterns already read "one"
where it is a count, and a pronoun turned into "1" would be a number nobody wrote.
"""

from __future__ import annotations

import re

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
VALUES = {**{w: i for i, w in enumerate(_UNITS)}, **{w: 20 + 10 * i for i, w in enumerate(_TENS)}}
_WORD = "(?:" + "|".join(sorted([*VALUES, "hundred", "thousand"], key=len, reverse=True)) + ")"
_RUN = re.compile(rf"(?<![-\w]){_WORD}(?:(?:\s+and\s+|[\s-]+){_WORD})*(?![-\w])", re.I)
_BINARY_WORDS = re.compile(r"\b(\d+)\s*(kibi|mebi|gibi|tebi)bytes?\b", re.I)
_FRACTIONS = re.compile(r"\b(half|a\s+quarter)\s+(?:of\s+)?an?\s+(?:cpu|core|vcpu)\b", re.I)


def value(words: list[str]) -> int | None:
    """The number a run of number words spells, or None when they spell none ("two three")."""
    total, current, last = 0, 0, ""
    for word in words:
        if word == "hundred":
            if not current or current >= 100:
                return None
            current *= 100
        elif word == "thousand":
            if not current:
                return None
            total, current = total + current * 1000, 0
        else:
            number = VALUES[word]
            if last in VALUES and not (VALUES[last] >= 20 and VALUES[last] % 10 == 0 and number < 10):
                return None  # "two three", "twenty thirty": no number; "twenty four" is one
            current += number
        last = word
    return total + current


def spelled_out(text: str) -> str:
    """``text`` with every number of two or more written in words as digits, kibi- to tebibytes as Ki-Ti, and half
    or a quarter of a core as millicores (gigs and megs stay: 10^9 or 2^30 is not said)."""
    def digits(match: re.Match) -> str:
        words = [w for w in re.split(r"[\s-]+", match.group(0).lower()) if w != "and"]
        number = value(words)
        if number is None or (len(words) == 1 and number < 2):
            return match.group(0)
        return str(number)

    text = _RUN.sub(digits, text)
    text = _BINARY_WORDS.sub(lambda m: f"{m[1]}{m[2][0].upper()}i", text)  # "256 gibibytes" is 256Gi exactly
    return _FRACTIONS.sub(lambda m: "500m of CPU" if m[1].lower() == "half" else "250m of CPU", text)
