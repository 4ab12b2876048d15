"""Where a JSON-pointer path is written in a block-style YAML document, read from its lines and indentation.

Findings carry a line and column: the mark libyaml gives the path's key (or item) in the composed node tree, or
that of the deepest part of the path that exists (``syntax.locate``). Composing the tree of every document with
findings took a fifth of a ``best-practice`` run, where nearly every document has some; most manifests are plain
block YAML whose structure the indentation tells. ``locate`` walks the path over the lines and answers only when
the text leaves no doubt; anything else (flow collections on the path, complex or escaped keys, quoted scalars
spanning lines, null sequence items) returns None and the caller composes the tree. It is used for documents the
fast path has read (no tabs, anchors, tags, directives, multi-line flow collections or second document), and is
compared with the composed tree on every path of every real manifest in tests/test_position.py.
"""

from __future__ import annotations

from kubedistill.verify import pointer

_OTHER_BREAKS = ("\r", "\t", "\x85", "\u2028", "\u2029", "\ufeff")
"""Characters libyaml counts as line breaks (or skips, or that the fast path sends elsewhere): left to the tree."""
_SKIP = 1 << 30
"""The indentation given to blank and comment lines: deeper than any, so they neither end nor start a node."""
_KEY_LEADS = frozenset("-?:,[]{}#&*!|>'\"%@`")
"""First characters of a line that is not a plain ``key:`` (an indicator, or a plain scalar that starts with one)."""


class Lines:
    """A document's lines with their indentation (``_SKIP`` for blank and comment lines)."""

    __slots__ = ("indents", "lines", "mappings", "root", "sequences", "trusted", "values", "walked")

    def __init__(self, source: str) -> None:
        self.lines = lines = source.split("\n")
        self.indents = [len(line) - len(rest) if rest and rest[0] != "#" else _SKIP
                        for line in lines for rest in (line.lstrip(" "),)]
        self.trusted = not any(c in source for c in _OTHER_BREAKS) and self._quotes_close()
        self.mappings: dict[tuple[int, int], tuple[dict[str, tuple[int, int, int]], bool]] = {}
        """(line, column) of a block mapping -> its keys (line, column, where the value starts), and whether every
        line of it was read (when not, a key missing from the dict may still be there)."""
        self.sequences: dict[tuple[int, int], list[tuple[int, int]] | None] = {}
        """(line, column) of a block sequence -> where each item starts (None for a null item)."""
        self.values: dict[tuple[int, int], tuple[str, int, int] | None] = {}
        """(line, column) of a key -> its value node."""
        self.root = self.first_content() if self.trusted else None
        self.walked: dict[str, tuple] = {"": (self.root, _node_at(self, *self.root))} if self.root else {}
        """Path -> (mark, node) after walking it; see ``locate``."""

    def _quotes_close(self) -> bool:
        """No quoted scalar spans lines: its next lines may sit at any indentation, where they would pass for keys.
        Every place on a line where a quoted scalar may start is tried; False when one does not close there."""
        for number, line in enumerate(self.lines):
            if ('"' in line or "'" in line) and self.indents[number] != _SKIP:
                at = _after_dashes(line, self.indents[number])
                while at < len(line) and line[at] in "\"'":
                    end = _quoted_end(line, at)
                    if end < 0:
                        return False
                    at = _value_start(line, end)  # a quoted key: its value may be quoted too
                    if at < 0:
                        break
                else:
                    colon = _plain_key_end(line, at)
                    if colon >= 0:
                        value = _skip_spaces(line, colon + 1)
                        if value < len(line) and line[value] in "\"'" and _quoted_end(line, value) < 0:
                            return False
        return True

    def first_content(self) -> tuple[int, int] | None:
        """The root node's line and column, after blank lines, comments and a bare ``---``."""
        for number, indent in enumerate(self.indents):
            if indent == _SKIP:
                continue
            line = self.lines[number]
            if line.startswith(("---", "...")):
                rest = line[3:].strip()
                if number == 0 and line.startswith("---") and (not rest or rest.startswith("#")):
                    continue
                return None
            return number, indent
        return None


_STOP = ("scalar", -1, -1)
"""The node of a state whose path cannot go deeper (a scalar, a missing key or item): its mark stays."""
_UNKNOWN: tuple = (None, None)
"""The state of a path the lines cannot tell."""


def locate(lines: Lines, path: str) -> tuple[int, int] | None:
    """1-based line and column of ``path`` as ``syntax.locate`` finds it on the composed tree, or None when the
    text alone cannot tell. Walks from the longest prefix already walked: a document's findings share most of
    their paths (``/spec/template/spec/containers/0/...``)."""
    if lines.root is None or path[:1] not in ("", "/"):
        return None
    walked = lines.walked
    state = walked.get(path)
    if state is None:
        cut = path.rfind("/")
        while cut > 0 and path[:cut] not in walked:
            cut = path.rfind("/", 0, cut)
        cut = max(cut, 0)
        state = walked[path[:cut]]
        while cut < len(path) and state[0] is not None and state[1] is not _STOP:
            end = path.find("/", cut + 1)
            end = len(path) if end < 0 else end
            part = path[cut + 1:end]
            state = walked[path[:end]] = _step(lines, state, pointer.parts("/" + part)[0] if "~" in part else part)
            cut = end
    mark = state[0]
    return None if mark is None else (mark[0] + 1, mark[1] + 1)


def _step(lines: Lines, state: tuple, part: str) -> tuple:
    """The state (mark, node) one part deeper than ``state``, as ``syntax._walk`` takes it on the tree."""
    mark, node = state
    if node is None:
        return _UNKNOWN
    kind, number, column = node
    if kind == "map":
        found = _entry(lines, number, column, part)
    elif kind == "seq" and part.isascii() and part.isdigit():
        found = _item(lines, number, column, int(part))
    else:  # a scalar (or null), or a key a sequence does not have: nothing deeper, the path stops here
        return mark, _STOP
    if found is None:
        return _UNKNOWN
    return (mark, _STOP) if found is False else found


# --- reading one line ---------------------------------------------------------------------------------------


def _skip_spaces(line: str, at: int) -> int:
    while at < len(line) and line[at] == " ":
        at += 1
    return at


def _after_dashes(line: str, at: int) -> int:
    """Past the ``- `` indicators of (nested) block sequence items that start at ``at``."""
    while line.startswith("-", at) and (at + 1 == len(line) or line[at + 1] == " "):
        at = _skip_spaces(line, at + 1)
    return at


def _quoted_end(line: str, at: int) -> int:
    """Offset after the quoted scalar starting at ``at``, or -1 when it does not close on this line."""
    quote = line[at]
    i = at + 1
    while i < len(line):
        c = line[i]
        if quote == '"' and c == "\\":
            i += 2
            continue
        if c == quote:
            if quote == "'" and line.startswith("'", i + 1):  # '' is a quote inside single quotes
                i += 2
                continue
            return i + 1
        i += 1
    return -1


def _value_start(line: str, end: int) -> int:
    """After a quoted scalar ending at ``end``: where the value starts when it was a key (``"k": v``), else -1."""
    at = _skip_spaces(line, end)
    if line.startswith(":", at) and (at + 1 == len(line) or line[at + 1] == " "):
        return _skip_spaces(line, at + 1)
    return -1


def _plain_key_end(line: str, at: int) -> int:
    """Offset of the ``:`` that ends a plain key starting at ``at``, or -1 when the line holds no such key."""
    colon = line.find(":", at)
    while colon >= 0:
        if colon + 1 == len(line) or line[colon + 1] == " ":
            break
        colon = line.find(":", colon + 1)
    if colon < 0:
        return -1
    comment = line.find(" #", at, colon)
    return -1 if comment >= 0 else colon


def _key(line: str, at: int) -> tuple[str, int] | None:
    """The key written at ``at`` and where its value starts; None when it is not a key this module reads."""
    lead = line[at]
    if lead == "'" or lead == '"':
        end = _quoted_end(line, at)
        if end < 0 or (lead == '"' and "\\" in line[at:end]):
            return None
        value = _value_start(line, end)
        if value < 0:
            return None
        text = line[at + 1:end - 1]
        return (text.replace("''", "'") if lead == "'" else text), value
    if lead in _KEY_LEADS:
        return None
    colon = _plain_key_end(line, at)
    if colon < 0:
        return None
    return line[at:colon].rstrip(" "), _skip_spaces(line, colon + 1)


# --- nodes ----------------------------------------------------------------------------------------------------


def _node_at(lines: Lines, number: int, column: int) -> tuple[str, int, int] | None:
    """What starts at this position: ("map" | "seq" | "scalar", line, column), or None when this module cannot
    say (flow collections and other indicators)."""
    line = lines.lines[number]
    if line.startswith("-", column) and (column + 1 == len(line) or line[column + 1] == " "):
        return "seq", number, column
    lead = line[column]
    if lead in "[{?&*!%@`":
        return None
    if lead in "|>":
        return "scalar", number, column
    if lead == "'" or lead == '"':
        end = _quoted_end(line, column)
        if end < 0:
            return None
        return ("map" if _value_start(line, end) >= 0 else "scalar"), number, column
    return ("map" if _plain_key_end(line, column) >= 0 else "scalar"), number, column


def _value(lines: Lines, number: int, column: int, at: int) -> tuple[str, int, int] | None:
    """The value of the key at ``column`` of line ``number``, whose text after the key starts at ``at``."""
    line = lines.lines[number]
    if at < len(line) and line[at] != "#":
        kind = _node_at(lines, number, at)
        return None if kind is None or kind[0] != "scalar" else kind  # a value on the key's line is a scalar
    following = _next_content(lines, number)
    if following is None:
        return "scalar", number, at  # null: nothing deeper
    indent = lines.indents[following]
    text = lines.lines[following]
    if indent > column or (indent == column and text.startswith("-", indent)
                           and (indent + 1 == len(text) or text[indent + 1] == " ")):
        return _node_at(lines, following, indent)
    return "scalar", number, at  # null


def _next_content(lines: Lines, number: int) -> int | None:
    indents = lines.indents
    for following in range(number + 1, len(indents)):
        if indents[following] != _SKIP:
            return following
    return None


def _entry(lines: Lines, number: int, column: int, part: str):
    """In the block mapping whose first key is at (number, column): ((line, column) of the key ``part``, its value
    node), False when the mapping has no such key, None when a line of it cannot be read."""
    found = lines.mappings.get((number, column))
    if found is None:
        found = lines.mappings[number, column] = _mapping(lines, number, column)
    keys, whole = found
    where = keys.get(part)
    if where is None:
        return False if whole else None
    line, indent, at = where
    value = lines.values.get((line, indent), False)
    if value is False:
        value = lines.values[line, indent] = _value(lines, line, indent, at)
    return (line, indent), value


def _mapping(lines: Lines, number: int, column: int) -> tuple[dict[str, tuple[int, int, int]], bool]:
    texts = lines.lines
    key = _key(texts[number], column)
    if key is None:
        return {}, False
    keys = {key[0]: (number, column, key[1])}
    current = _sibling(lines, number, column)
    while current is not None:
        text = texts[current]
        if not (text.startswith("-", column) and (column + 1 == len(text) or text[column + 1] == " ")):
            # (a '- ' line here is an item of a sequence that is the value of the key above, at the key's indentation)
            key = _key(text, column)
            if key is None:
                return keys, False
            keys.setdefault(key[0], (current, column, key[1]))
        current = _sibling(lines, current, column)
    return keys, True


def _sibling(lines: Lines, number: int, column: int) -> int | None:
    """The next line after ``number`` indented exactly ``column`` with only deeper lines between (the next key of a
    mapping, the next item of a sequence), or None. Searched by ``list.index`` and ``min`` rather than line by line:
    a mapping's keys are read without visiting their values."""
    indents = lines.indents
    try:
        found = indents.index(column, number + 1)
    except ValueError:
        return None
    return found if found == number + 1 or min(indents[number + 1:found]) > column else None


def _item(lines: Lines, number: int, column: int, index: int):
    """In the block sequence whose first ``-`` is at (number, column): ((line, column) where item ``index``
    starts, its node), False when there are fewer items, None when the item is null or cannot be read."""
    items = lines.sequences.get((number, column))
    if items is None:
        items = lines.sequences[number, column] = _sequence(lines, number, column)
    if index >= len(items):
        return False
    where = items[index]
    return None if where is None else (where, _node_at(lines, *where))


def _sequence(lines: Lines, number: int, column: int) -> list[tuple[int, int] | None]:
    indents, texts = lines.indents, lines.lines
    items: list[tuple[int, int] | None] = []
    current: int | None = number
    while current is not None:
        text = texts[current]
        if not (text.startswith("-", column) and (column + 1 == len(text) or text[column + 1] == " ")):
            break  # the key after a sequence written at its mapping's indentation
        at = _skip_spaces(text, column + 1)
        if at < len(text) and text[at] != "#":
            items.append((current, at))
        else:
            following = _next_content(lines, current)
            if following is None or indents[following] <= column:
                items.append(None)  # a null item: libyaml's mark for it is left to the tree
            else:
                items.append((following, indents[following]))
        current = _sibling(lines, current, column)
    return items


_LAST: list = [None, None]


def lines_of(source: str) -> Lines:
    """The ``Lines`` of a document's text, kept for the last document asked about: its findings come together."""
    if _LAST[0] is not source:
        _LAST[0], _LAST[1] = source, Lines(source)
    return _LAST[1]
