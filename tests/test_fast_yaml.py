"""The fast YAML path (yaml_rs) must build exactly what the exact path (libyaml + our constructor) builds.

yaml_rs follows YAML 1.2, Kubernetes and the exact path YAML 1.1; every case here is one where the two readings
differ or where only the exact path has the bounds and messages we need. Each is parsed both ways and compared:
data, L1 issues and the document's line.
"""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubedistill.verify import Verifier, VerifyConfig, fastyaml, pointer, syntax
from kubedistill.verify.stream import decoded_blocks, split_documents


def _exact(text: str) -> list:
    saved, fastyaml.yaml_rs = fastyaml.yaml_rs, None
    try:
        return [(d.data, d.line, [i.rule for i in d.issues]) for d in syntax.parse_stream(text)]
    finally:
        fastyaml.yaml_rs = saved


def _both(text: str) -> tuple[list, list, bool]:
    docs = list(syntax.parse_stream(text))
    fast = bool(docs) and docs[0].source is not None
    return [(d.data, d.line, [i.rule for i in d.issues]) for d in docs], _exact(text), fast


def _assert_agree_on_all(alphabet: str, templates: tuple[str, ...]) -> None:
    """Every scalar of one to three characters from ``alphabet``, in every template: both paths agree."""
    for size in (1, 2, 3):
        for chars in itertools.product(alphabet, repeat=size):
            for template in templates:
                text = template.format("".join(chars))
                fast, exact, _ = _both(text)
                assert fast == exact, text


YAML_11_CASES = [
    "a: yes\n", "a: On\n", "a: n\n", "on: push\n", "a: 0755\n", "a: -0755\n", "a: 09\n", "a: 0o17\n", "a: 0b101\n",
    "a: 0x1F\n", "a: 1_000\n", "a: _1\n", "a: 1e3\n", "a: 0.1e5\n", "a: 1:20\n", "a: 190:20:30.15\n", "a: .inf\n",
    "a: .NaN\n", "a: 2024-01-01\n", "a: =\n", "<<: {b: 1}\nc: 2\n", "a: &x 1\nb: *x\n", "a: !!str 5\n", "a: !foo x\n",
    "a: [x:]\n", "a: [:0]\n", "a: {b: :c}\n", "a:\tb\n", "a: b\na: c\n", "1: x\n", "true: x\n", "null: x\n",
    "? [a]\n: x\n", "%YAML 1.1\n---\na: 1\n", "a: 1\n---\nb: 2\n", "a: |\n  text", "a: >\n  folded",
    "- a\n- b\n", "just a scalar\n", "", "# only a comment\n", "--- # comment\na: 1\n", "\n\n  a: 1\n",
    "a:\n  0755\n", "a: [1, 0755]\n", "a: {b: 0755}\n", "a: 'yes'\nb: \"0755\"\nc: \"true\"\n",
    "spec:\n  defaultMode: 0400\n", "cmd: if [ ! -f x ]; then y; fi\n", "rule: a || !has(b)\n",
    "args: [\"--addr=:8080\", '-v']\n", "a: x:1\n", "a:{b}\n", "a: 1.5\n", "a: -1\n", "a: +1\n",
    "a: &&\n", "a: && b\n", "rule: a && b\n", "a: |\n", "a: >+\n\n", "- |\n", "a: | # note\n   \n",
    "a: |\n  x\nb: |\n", "# c\r\r\na: 1\r\n", "\r\ra: 1\n", "a: 1\r\nb: 2\r\n", "# c\ra: 1\n",
]


@pytest.mark.parametrize("text", YAML_11_CASES)
def test_fast_path_agrees_with_the_exact_path(text):
    fast, exact, _ = _both(text)
    assert fast == exact


def test_fast_path_is_taken_for_a_plain_manifest_and_refused_for_yaml_11_forms():
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: 'true'\n  b: \"0755\"\n  c: '80'\n"
    assert _both(plain)[2]
    # a quoted 'yes' reads as a string on both paths, but the fast parser's data cannot tell it from a plain yes
    assert not _both("a: 'yes'\n")[2]
    for text in ("a: yes\n", "a: 0755\n", "a: 1e3\n", "a: !foo x\n", "a: &x 1\n", "a: [x:]\n", "a:\tb\n"):
        assert not _both(text)[2], text


def test_exhaustive_short_number_like_scalars():
    """Every scalar of up to three characters from the characters that make YAML numbers, in block and flow
    positions: where the fast path answers, it answers like the exact path."""
    alphabet = "01+-._:eExob"
    templates = ("k: {}\n", "{}: v\n", "k: [{}]\n", "k: {{a: {}}}\n", "- {}\n", "k:\n  {}\n")
    _assert_agree_on_all(alphabet, templates)


def test_exhaustive_short_scalars_with_indicators():
    """Every scalar of up to three characters from YAML's indicators, in block and flow positions (this is how
    ``k: &&`` (an anchor named '&' to yaml_rs, an error to libyaml) and ``k: [|]`` were found)."""
    alphabet = "a1:, []{}'\"!&*#-|>%@`"
    templates = ("k: {}\n", "- {}\n", "k: [{}]\n", "k: {{{}}}\n", "k: {{a: {}}}\n", "k: x, {}\n", "k:{}\n",
                 "{}: v\n")
    _assert_agree_on_all(alphabet, templates)


def test_exhaustive_indicators_starting_continuation_lines():
    """``!`` and ``&`` where a node may start by the look of the line, inside multi-line quoted and plain scalars
    (CEL rules in CRDs: ``'a ||\n  !has(b)'``, ``: !has(b)``) and as real tags and anchors: the fast path decides
    them by parsing a marked copy, and must agree with the exact path on each."""
    alphabet = "a!&*: |'\""
    templates = ("k: 'x\n  {}'\n", "k: \"x\n  {} y\"\n", "k: x\n  {}\n", "k:\n  {}\n", "- x\n  {}\n",
                 "k: 'a\n\n  {}'\n", "k: 'a : {}'\n", "k:\n  {}\nj: *a\n")
    _assert_agree_on_all(alphabet, templates)


def test_cel_rules_take_the_fast_path_and_real_tags_do_not():
    cel = ("rule: 'self.all(l, l.name == \"a\"\n  ? !has(l.tls) : true)\n  && size(self) > 0'\n"
           "other: \"a ||\n  !has(b) && x : !has(c)\"\nplain: a\n  && b\n")
    fast, exact, took_fast = _both(cel)
    assert fast == exact and took_fast
    for text in ("a:\n  !!str 5\n", "a:\n  &x 1\nb: *x\n", "- !foo\n  b: 1\n", "a:\n  !!map\n  b: 1\n",
                 "a:\n  !!str\n  foo\n", "a: !!int '1'\n", "a: x\nb: !t\n", "a: '\ue000'\nb:\n  !t x\n"):
        fast, exact, took_fast = _both(text)
        assert fast == exact and not took_fast, text


def test_event_stream_locator_agrees_with_the_tree():
    text = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {a: b, 'c/d': e}\nspec:\n  containers:\n"
            "  - name: c\n    image: x\n    ports: [{containerPort: 80}, {containerPort: 81}]\n  - name: d\n"
            "    args:\n    - |\n      text\n    - y\n")
    [doc] = syntax.parse_stream(text)
    assert doc.tree is None
    node = syntax._PositionLoader(text).get_single_node()
    for key in ("kind", "apiVersion", "metadata", "spec", "missing", "c/d"):
        assert syntax._event_locate(text, key) == syntax.locate(node, "/" + pointer.escape(key)), key
    for other in ("- a\n", "a\n", "[a, b]\n", "{a: 1, kind: x}\n", "? [x]\n: y\nkind: z\n"):
        expected = syntax.locate(syntax._PositionLoader(other).get_single_node(), "/kind")
        assert syntax._event_locate(other, "kind") in (expected, None), other
    assert doc.locate("/kind") == (2, 1) and doc.tree is None  # found without composing the tree
    assert doc.locate("/spec/containers/1") == (11, 5) and doc.tree is None  # read from the lines (position.py)
    assert doc.locate("/spec/containers/0/ports/1") == (10, 34) and doc.tree is not None  # flow: the tree is composed
    long = "a:\n" + "".join(f"  k{i}: {i}\n" for i in range(syntax._EVENT_BUDGET)) + "b: 1\n"
    assert syntax._event_locate(long, "b") is None  # too far: the caller composes the tree
    [doc] = syntax.parse_stream(long)
    assert doc.locate("/b") == (syntax._EVENT_BUDGET + 2, 1)


def test_block_scalars_at_the_end_of_a_document():
    """libyaml keeps no line break for an empty block scalar or one the text ends inside; yaml_rs adds one."""
    for header in ("|", "|+", "|-", ">", ">+", ">-", "|2", ">1+", "| # c"):
        for body in ("", "\n", "\n\n", "  a\n", "  a\n\n", "   \n", "  a", "\n  a\n"):
            for template in ("k: {h}\n{b}", "k: {h}\n{b}j: x\n", "- {h}\n{b}", "a:\n  - {h}\n{b}"):
                text = template.format(h=header, b=body)
                fast, exact, _ = _both(text)
                assert fast == exact, text


_SCALAR = st.sampled_from(["yes", "no", "on", "off", "y", "true", "True", "null", "~", "0755", "09", "0o17", "1_0",
                           "_1", "1e3", "1.5", ".inf", "1:20", "80", "-1", "x", "a b", "x:y", "'q'", '"0755"',
                           "'yes'", "!t", "[]", "{}", "[a, b]", "{a: b}", "[a:]", "2024-01-01", "=", "<<", ""])
_KEY = st.sampled_from(["a", "b", "on", "yes", "1", "0755", "true", "null", "'k'", "x_1", "<<"])


@st.composite
def _block_docs(draw, depth: int = 0) -> str:
    lines = []
    for key in draw(st.lists(_KEY, min_size=1, max_size=4)):
        if depth < 2 and draw(st.booleans()):
            child = draw(_block_docs(depth + 1))
            lines.append(f"{key}:\n" + "".join(f"  {line}\n" for line in child.splitlines()))
        elif draw(st.booleans()):
            items = draw(st.lists(_SCALAR, min_size=1, max_size=3))
            lines.append(f"{key}:\n" + "".join(f"- {item}\n" for item in items))
        else:
            lines.append(f"{key}: {draw(_SCALAR)}\n")
    return "".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_block_docs())
def test_random_block_documents_agree(text):
    fast, exact, _ = _both(text)
    assert fast == exact


def test_findings_of_fast_parsed_documents_keep_their_positions():
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n"
            "    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n"
            "      containers:\n      - name: web\n        image: nginx:1.27\n        bogusField: 1\n")
    assert _both(text)[2]
    results = Verifier(VerifyConfig(levels=(1, 2))).verify_text(text)
    [finding] = [f for f in results[0].findings if f.rule == "L2-UNKNOWN-FIELD"]
    assert (finding.line, finding.column) == (16, 9)


def test_real_manifests_parse_alike_on_both_paths(real_dir):
    root = real_dir
    fast_docs = total = 0
    for path in sorted(root.rglob("*.y*ml")):
        with path.open("rb") as handle:
            for chunk in split_documents(decoded_blocks(handle)):
                fast, exact, took_fast = _both(chunk.text)
                assert fast == exact, f"{path} line {chunk.first_line}"
                fast_docs += took_fast
                total += 1
    assert total > 5000 and fast_docs / total > 0.8  # the fast path serves most real documents


def test_mutated_real_documents_agree(real_dir):
    """Real documents with CRLF line ends, a YAML indicator inserted at a random place, and a continuation line
    starting with a tag, an anchor or CEL text: wherever the fast path answers, it answers like the exact path
    (this differential fuzz found that a lone carriage return counted as a line break on one path only)."""
    rng = random.Random(0)
    texts = []
    for path in sorted(real_dir.rglob("*.y*ml"))[::7]:
        with path.open("rb") as handle:
            texts += [c.text for c in split_documents(decoded_blocks(handle)) if not c.issue and len(c.text) < 20000]
    variants = 0
    for text in texts:
        at = rng.randrange(len(text) + 1)
        line = text.find("\n", rng.randrange(len(text) + 1))
        for variant in (text.replace("\r\n", "\n").replace("\n", "\r\n"),
                        text[:at] + rng.choice("!&*|>'\"#:-[]{}%@`\r") + text[at:],
                        text if line < 0 else text[:line + 1] + " " * rng.randrange(12)
                        + rng.choice(["!has(x)", "&& y", "!t z", "&a b", "!!str 1"]) + "\n" + text[line + 1:]):
            fast, exact, _ = _both(variant)
            assert fast == exact, variant[:200]
            variants += 1
    assert variants > 1000


def test_first_content_line_skips_what_libyaml_skips():
    """Blank lines, comments and one '---' before the root node, however they are mixed (a licence header)."""
    headers = ["", "\n", "# c\n", "  # c ---\n", "   \n", "---\n", "--- # c\n", "#\n#\n", "\n# a: 1\n"]
    for combo in itertools.product(headers, repeat=3):
        text = "".join(combo) + "a: 1\n"
        if text.count("---") - text.count("# c ---") > 1:
            continue  # a second marker starts a second document
        [(data, line, _issues)] = _exact(text)
        assert data == {"a": 1} and fastyaml.first_content_line(text) == line, text
