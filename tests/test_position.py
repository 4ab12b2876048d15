"""Positions read from a document's lines (``position``) must be the composed tree's (``syntax.locate``), or None.

Each case is compared on every path of its data, on a missing key under every mapping, an index past the end of
every sequence and a step below every scalar; the real-manifest corpus is compared the same way.
"""

from __future__ import annotations

import pytest

from kubedistill.verify import pointer, position, syntax
from kubedistill.verify.stream import decoded_blocks, split_documents


def _paths(data: object, prefix: str = ""):
    yield prefix + "/not-there"
    if isinstance(data, dict):
        for key, value in data.items():
            path = prefix + "/" + pointer.escape(str(key))
            yield path
            yield from _paths(value, path)
    elif isinstance(data, list):
        yield f"{prefix}/{len(data)}"
        for i, value in enumerate(data):
            yield from _paths(value, f"{prefix}/{i}")
            yield f"{prefix}/{i}"
    else:
        yield prefix + "/below"


def _compare(text: str) -> tuple[int, int]:
    """(paths answered from the lines, paths left to the tree); fails on any answer that differs from the tree's."""
    tree = syntax._PositionLoader(text).get_single_node()
    data = syntax.parse_stream(text).__next__().data
    lines = position.Lines(text)
    answered = left = 0
    for path in ["", *_paths(data)]:
        got = position.locate(lines, path)
        if got is None:
            left += 1
            continue
        assert got == syntax.locate(tree, path), (text, path)
        answered += 1
    return answered, left


BLOCK_CASES = [
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n",
    "---\n# comment\napiVersion: v1\nkind: ConfigMap\ndata:\n  a: |\n    b: c\n    - d\n  e: 'it''s'\n",
    "a:\n  - - x\n    - y\n  -   b: 1\n      c: 2\n  -\n    d: 3\n",
    "  a: 1\n  b:\n    c: 2\n",
    "a: x\n# b: y\nc:\n  # d: e\n  f: g\n",
    '"a b": 1\n\'c\': {x: 1}\nd: "q: r"\ne: [1, 2]\n',
    "spec:\n  template:\n    spec:\n      containers:\n      - name: a\n        resources:\n          limits:\n"
    "            memory: 1Gi\n      - name: b\n        args:\n        - --x\n        - \"--y\"\n",
    "a: plain\n  continued text\nb: 1\n",
    "a: >\n  folded\n\n  text\nb:\n- x\n- y\nc: 3\n",
    "key with spaces: 1\nk:v: 2\nurl: http://x\n",
    "a:\nb: 1\nc:\n  -\nd: 2\n",
]


@pytest.mark.parametrize("text", BLOCK_CASES)
def test_lines_agree_with_the_tree(text):
    answered, _ = _compare(text)
    assert answered


@pytest.mark.parametrize("text", [
    'a: "first line\n  b: second line"\nb: 1\n',  # a quoted scalar over two lines: its second could pass for a key
    "a: 'x\nb: y'\n",
    "a\r\nb: 1\r\n",
    "? complex\n: key\nb: 1\n",
])
def test_what_the_lines_cannot_tell_is_left_to_the_tree(text):
    lines = position.Lines(text)
    assert all(position.locate(lines, path) is None for path in ("/b", "/a", "/zz"))


def test_flow_collections_and_null_items_are_left_to_the_tree():
    text = "a: [x, y]\nb: {c: 1}\nd:\n-\n- e\n"
    lines = position.Lines(text)
    assert position.locate(lines, "/a") == (1, 1)  # the key itself is on a block line
    assert position.locate(lines, "/a/1") is None and position.locate(lines, "/b/c") is None
    assert position.locate(lines, "/d/0") is None and position.locate(lines, "/d/1") == (5, 3)
    _compare(text)


def test_every_path_of_every_real_manifest(real_dir):
    answered = left = 0
    for path in sorted(real_dir.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        with open(path, "rb") as handle:
            for chunk in split_documents(decoded_blocks(handle)):
                for doc in syntax.parse_stream(chunk.text) if chunk.issue is None else ():
                    if doc.source is not None and doc.data is not None:
                        done, not_done = _compare(doc.source)
                        answered, left = answered + done, left + not_done
    assert answered > 4 * left  # most paths are read from the lines
