"""The fast YAML path: a Rust parser's data, kept only where it provably equals the exact path's.

``yaml_rs`` (Rust, YAML 1.2) builds a document's data several times faster than libyaml composing Python
nodes. Kubernetes and our exact path (``syntax``) follow YAML 1.1 instead: ``yes``/``on`` are booleans,
``0755`` is octal, ``1e3`` is a string, ``<<`` merges. So the fast result is kept only when it must equal
the exact one: documents with tabs, directives, several documents, leading-zero or underscored numbers,
colons inside flow collections, or a block scalar at the very end go to the exact path unread; the built
data is then checked for floats, non-string keys and strings that YAML 1.1 would read as something else,
and a ``!`` or ``&`` where a tag or an anchor may start is told from string content by parsing a copy with
those characters marked. Anything the fast parser refuses (syntax errors, duplicate keys) is parsed again
on the exact path, which reports it with its position. Both paths are compared on every real manifest,
exhaustively on short scalars (number-like, and with the indicators ``& * | > ! [ ] { } :``) and on
random documents in tests/test_fast_yaml.py.
"""

from __future__ import annotations

import re

import yaml

try:
    import yaml_rs
except ImportError:  # pragma: no cover - yaml-rs is a dependency, but the exact path stands alone
    yaml_rs = None

_STR = "tag:yaml.org,2002:str"
STRING_LIKE_TAGS = frozenset({_STR, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value",
                              "tag:yaml.org,2002:binary"})
"""Tags whose values the exact path keeps as strings (Kubernetes' YAML-to-JSON does the same)."""

_SECOND_DOC = re.compile(r"\n(?:---|\.\.\.)(?=\s|$)")
_ZERO_FIRST = re.compile(r"0[0-9a-zA-Z_]")
_UNDERSCORE_DIGIT = re.compile(r"_[0-9_]")
_BANG = re.compile(r"!")
_AMPERSAND = re.compile(r"&")
_TOKEN = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NUMBER_TOKEN = re.compile(r"[+-]?[0-9_][0-9a-zA-Z_]*")
_QUOTED = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\n]|'')*'")
_ODD_FLOW_SCALAR = re.compile(r":[^\s]|[\[{,:]\s*[:|>%@`]")
"""In a flow collection, libyaml rejects plain scalars with a colon (``[a:]``, ``[:0]``) or that start with an
indicator (``[|]``) that YAML 1.2 parsers accept."""
_FLOW_LEAD = frozenset(",[{")
_BLOCK_LEAD = frozenset("\n\r:-?")
"""Characters after which (spaces aside) a block node may start; anywhere else a ``!``, ``[`` or ``0`` is inside a
longer plain scalar (``if [ ! -f x ]``, ``a || !has(b)``) or a quoted string."""

# Every guard below is led by a literal, so the regex engine scans at memchr speed; Python looks only at the hits.
# The regexes that would say it in one line (look-behinds, character classes first) cost as much as parsing.


def _lead(text: str, at: int) -> str:
    """The indicator before ``at``, spaces skipped ('\n' at the start of the text); ``:``, ``-`` and ``?`` count
    only when a space follows them, as YAML requires of indicators in block context (``a:{`` is one scalar)."""
    before = at - 1
    while before >= 0 and text[before] == " ":
        before -= 1
    if before < 0:
        return "\n"
    lead = text[before]
    return "" if lead in ":-?" and before == at - 1 else lead


def _node_start(text: str, at: int) -> bool:
    """May a node start at ``at``: after a block indicator, or inside a flow collection that starts on this line?"""
    lead = _lead(text, at)
    if lead in _BLOCK_LEAD:
        return True
    if lead not in _FLOW_LEAD:  # a set, not the string ",[{": the empty lead is a substring of every string
        return False
    line_start = text.rfind("\n", 0, at) + 1
    return any(text[i] in "[{" and _lead(text, i) in _BLOCK_LEAD for i in range(line_start, at))


def _number_scalar_at(text: str, at: int) -> bool:
    """Is the word starting at ``at`` a whole plain scalar shaped like a number with a leading zero (octal in
    YAML 1.1, decimal in 1.2: ``0755``, ``-0o17``) or with underscores (YAML 1.2 parsers disagree on where they
    may go: ``_1``, ``1_000``)?"""
    end = at
    while end < len(text) and text[end] in _TOKEN:
        end += 1
    start = at - 1 if at > 0 and text[at - 1] in "+-" else at
    if end < len(text) and text[end] not in " \r\n,]}#":
        return False  # part of a longer scalar (1.5, 00:00, 0a-b): read alike, or decided by the data checks
    if not _node_start(text, start) or _NUMBER_TOKEN.fullmatch(text, start, end) is None:
        return False
    digits = text[start:end].lstrip("+-")
    return "_" in digits or (digits.startswith("0") and len(digits) > 1)


def _word_start(text: str, at: int) -> bool:
    return at == 0 or text[at - 1] not in _TOKEN


def _odd_number(text: str) -> bool:
    if any(_word_start(text, m.start()) and _number_scalar_at(text, m.start()) for m in _ZERO_FIRST.finditer(text)):
        return True
    if "_" not in text:
        return False
    for m in _UNDERSCORE_DIGIT.finditer(text):
        at = m.start()
        while at > 0 and text[at - 1] in _TOKEN:
            at -= 1
        if _number_scalar_at(text, at):
            return True
    return False


def _odd_flow(text: str) -> bool:
    """A flow collection that libyaml and YAML 1.2 parsers may read differently (``_ODD_FLOW_SCALAR``), or one that
    spans lines (checked line by line, so sent to the exact path)."""
    for bracket in ("[", "{"):
        at = text.find(bracket)
        while at >= 0:
            if _lead(text, at) in _BLOCK_LEAD:  # an outer flow collection; its line holds the inner ones
                end = text.find("\n", at)
                line = _QUOTED.sub("q", text[at:] if end < 0 else text[at:end])
                if ('"' in line or "'" in line or line.count("[") + line.count("{") != line.count("]") + line.count("}")
                        or _ODD_FLOW_SCALAR.search(line)):
                    return True
            at = text.find(bracket, at + 1)
    return False


def _needs_exact(text: str) -> bool:
    """Text the fast parser may read differently from YAML 1.1, or that needs the exact path's bounds.

    False alarms cost speed, never correctness.
    """
    if "\t" in text or text.startswith("%") or "\n%" in text:
        return True  # tabs (the exact path names them), directives
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return True  # a lone carriage return: a line break to libyaml, which the fast path's line count misses
    if ("\n---" in text or "\n..." in text) and _SECOND_DOC.search(text):
        return True  # several documents: the exact path numbers them
    return _odd_number(text) or _odd_flow(text)


def _indicator_hits(text: str) -> list[int]:
    """Offsets of the ``!`` and ``&`` that may start a node: a tag or an anchor (hence aliases and merges; ``&&x``
    too, which yaml_rs takes for an anchor named '&'). Most are not: long CEL rules in CRDs break inside quoted
    strings before ``!has(..)`` and ``&& ..``, or hold ``: !has(..)``, hundreds of times in a file, where the lead
    alone cannot tell a quoted string from a block. ``_content_only`` decides them on the data."""
    hits: list[int] = []
    for char, finder in (("!", _BANG), ("&", _AMPERSAND)):
        if char in text:
            hits.extend(m.start() for m in finder.finditer(text) if _node_start(text, m.start()))
    return hits


_MARKS = {"!": "\ue000", "&": "\ue001"}
_UNMARK = str.maketrans({mark: char for char, mark in _MARKS.items()})


def _content_only(text: str, offsets: list[int], data: dict) -> bool:
    """Are the ``!``/``&`` at these offsets scalar content rather than tags or anchors?

    Each is replaced by a private-use character and the text parsed again: as content, the character only moves
    into the same strings (mapping it back gives the same data); as a tag or anchor it would have been consumed,
    so it now appears in a string where the first parse had none (or the alias it names is gone: an error).
    """
    if any(mark in text for mark in _MARKS.values()):
        return False
    chars = list(text)
    for at in offsets:
        chars[at] = _MARKS[chars[at]]
    try:
        marked = yaml_rs.loads("".join(chars), parse_datetime=False)
    except Exception:
        return False
    return _unmarked(marked) == data


def _unmarked(value: object) -> object:
    cls = type(value)
    if cls is str:
        return value.translate(_UNMARK) if "\ue000" in value or "\ue001" in value else value
    if cls is dict:
        return {_unmarked(k): _unmarked(v) for k, v in value.items()}
    if cls is list:
        return [_unmarked(v) for v in value]
    return value


_RESOLVER = yaml.resolver.Resolver()
_AMBIGUOUS: dict[str, bool] = {}
_SCALAR_FIRST = frozenset("yYnNoO0123456789+-.<")
"""First characters of the strings that may be in doubt: PyYAML keys its resolvers by first character, and of
those, t/T/f/F (only true/false), ~ (null) and = (kept as a string) read the same in YAML 1.2."""


def _ambiguous(text: str) -> bool:
    """Would this string, written plain, be a non-string in YAML 1.1 but a string in YAML 1.2 (``yes``, ``1:20``)?

    The fast parser gives a string for a plain ``yes``; it gives a string for a quoted ``"true"`` too, but a plain
    ``true`` would have been a boolean in both, so only strings where the two resolvers disagree are in doubt.
    """
    known = _AMBIGUOUS.get(text)
    if known is None:
        tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
        known = False
        if tag != _STR and tag not in STRING_LIKE_TAGS:
            try:
                known = isinstance(yaml_rs.loads(f"k: {text}", parse_datetime=False).get("k"), str)
            except Exception:
                known = True
        if len(_AMBIGUOUS) < 50_000:
            _AMBIGUOUS[text] = known
    return known


class _Doubt(Exception):
    """The fast result might differ from the exact one; parse the document on the exact path."""


def _check(value: dict | list, depth: int, max_depth: int) -> None:
    """Raise _Doubt unless the fast parser's collection is exactly what the exact path would build."""
    if depth >= max_depth:
        raise _Doubt
    if type(value) is dict:
        for key in value:
            if type(key) is not str or (key and key[0] in _SCALAR_FIRST and _ambiguous(key)):
                raise _Doubt
        value = value.values()
    for item in value:
        cls = type(item)
        if cls is str:
            if item and item[0] in _SCALAR_FIRST and _ambiguous(item):
                raise _Doubt
        elif cls is dict or cls is list:
            _check(item, depth + 1, max_depth)
        elif cls is float:
            raise _Doubt


_SKIPPABLE_FIRST = frozenset(" \t\r\n#-")
"""First characters of a line that may hold no content (blank, a comment, a ``---`` marker)."""


_SKIPPABLE_LINES = re.compile(r"(?:[ \t]*(?:---)?[ \t]*(?:#[^\n]*)?\n)*")
"""Blank lines, comments and a ``---`` marker line, as the loop of ``first_content_line`` skips them (a licence
header is often twenty lines): matched in one go, the loop goes on from where the match stops."""


def first_content_line(text: str) -> int:
    """1-based line where a document's root node starts (what the exact path reads from the node's mark)."""
    if text[:1] not in _SKIPPABLE_FIRST:
        return 1  # most documents: content on the first line
    start = _SKIPPABLE_LINES.match(text).end()
    number = text.count("\n", 0, start) + 1
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        stripped = text[start:end].strip()
        if stripped.startswith("---"):
            stripped = stripped[3:].strip()
        if stripped and not stripped.startswith("#"):
            return number
        start, number = end + 1, number + 1
    return 1


_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*(?:\s+#.*)?$")


def _block_scalar_ends(text: str) -> bool:
    """A block scalar that ends the text, where libyaml and yaml_rs disagree on the final line break: one
    without a newline after it (``k: |\n  a``: libyaml 'a', yaml_rs 'a\n'), or an empty one (``k: |``: libyaml
    '', yaml_rs '\n')."""
    if not text.endswith("\n") and ("|" in text or ">" in text):
        return True
    tail = text.rstrip()
    return _BLOCK_HEADER.search(tail, tail.rfind("\n") + 1) is not None


def load(text: str, max_depth: int) -> dict | None:
    """One document's data by the fast path, or None when only the exact path can be trusted with it."""
    if yaml_rs is None or _needs_exact(text):
        return None
    if _block_scalar_ends(text):
        return None
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
        if not isinstance(data, dict):  # None (empty), a list, a scalar or several documents: rare, left exact
            return None
        _check(data, 1, max_depth)
    except Exception:  # any refusal (syntax, duplicate key, doubt) means: ask the exact path
        return None
    hits = _indicator_hits(text)
    if hits and not _content_only(text, hits, data):
        return None
    return data
