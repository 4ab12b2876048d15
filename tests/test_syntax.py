"""L1: safe parsing, positions, and hostile input that must fail fast."""

from __future__ import annotations

import pytest

from conftest import rules_of
from kubedistill.verify import Status, pointer
from kubedistill.verify.syntax import MAX_DEPTH, decode, parse_stream

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"

BILLION_LAUGHS = "\n".join(
    ["a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
) + "\n"


def test_duplicate_key_reports_line_and_column(verifier):
    results = verifier.verify_text(CM + "data:\n  a: 1\n  a: 2\n", "x.yaml")
    finding = results[0].findings[0]
    assert (finding.rule, finding.line, finding.column, finding.path) == ("L1-DUPLICATE-KEY", 7, 3, "/data/a")


def test_a_missing_document_separator_is_named_in_the_hint(verifier):
    glued = CM + "\n" + CM.replace("name: cfg", "name: other")  # two objects, no --- between them
    results = verifier.verify_text(glued, "x.yaml")
    first = results[0].findings[0]
    assert first.rule == "L1-DUPLICATE-KEY" and first.path == "/apiVersion" and "'---'" in first.hint
    results = verifier.verify_text(CM + "data:\n  a: 1\n  a: 2\n", "x.yaml")
    assert "'---'" not in results[0].findings[0].hint


@pytest.mark.parametrize("template, line", [
    ("data:\n  a: {{ .Values.a | quote }}\n", 6),  # a flow mapping with a mapping for its key
    ("{{- if .Values.enabled }}\ndata:\n  a: b\n{{- end }}\n", 6),  # the parser stops a line later
])
def test_an_unrendered_template_is_named_in_the_hint(verifier, template, line):
    finding = verifier.verify_text(CM + template, "chart.yaml")[0].findings[0]
    assert finding.level == 1 and finding.line == line and "helm template" in finding.hint
    # a quoted template is a plain string, and a syntax error elsewhere keeps the parser's own hint
    assert verifier.verify_text(CM + 'data:\n  a: "{{ .Values.a }}"\n', "x.yaml")[0].status is Status.VALID
    plain = verifier.verify_text(CM + 'data:\n  a: "{{ x }}"\n  b: [unclosed\n', "x.yaml")[0].findings[0]
    assert plain.rule == "L1-YAML" and "helm" not in plain.hint


def test_billion_laughs_is_refused_not_expanded(verifier):
    # no time bound here (a loaded CI machine once took over 5 s): expanding 9**9 nodes would not finish at all,
    # so reaching the assertion with the rule reported is the check
    results = verifier.verify_text(BILLION_LAUGHS)
    assert "L1-ALIAS-BOMB" in rules_of(results)


def test_small_aliases_are_fine():
    docs = list(parse_stream("x: &v {k: 1}\ny: *v\nz:\n  <<: *v\n  m: 2\n"))
    assert docs[0].data == {"x": {"k": 1}, "y": {"k": 1}, "z": {"k": 1, "m": 2}}


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 200_000])
def test_deep_nesting_is_rejected_without_crashing(verifier, depth):
    results = verifier.verify_text("a: " + "[" * depth + "]" * depth + "\n")
    assert "L1-DEPTH" in rules_of(results)


def test_deep_block_nesting_is_rejected(verifier):
    text = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * (MAX_DEPTH + 5) + "v: 1\n"
    assert "L1-DEPTH" in rules_of(verifier.verify_text(text))


def test_binary_and_bad_encoding(verifier):
    assert rules_of(verifier.verify_text(b"\x7fELF\x00\x00\x01")) == {"L1-BINARY"}
    assert rules_of(verifier.verify_text(b"kind: \xff\xfe\xfa")) == {"L1-ENCODING"}


def test_utf16_with_bom_is_decoded():
    text, issue = decode(CM.encode("utf-16"))
    assert issue is None and text == CM


def test_kubernetes_scalar_semantics():
    data = next(parse_stream("date: 2024-01-01\n1: one\ntrue: yes\nn: 0x1F\nf: 1.5\ne: =\n")).data
    assert data == {"date": "2024-01-01", "1": "one", "true": True, "n": 31, "f": 1.5, "e": "="}


MERGED = """apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  labels: &labels {app: web, tier: front}
x-base: &base {mode: fast, size: small, zone: a}
x-more: &more {size: large, extra: one}
x-mid: &mid
  <<: *base
  zone: b
data:
  <<: [*mid, *more]
  mode: slow
"""


def test_merge_keys_are_read_as_kubectl_reads_them(verifier):
    """An own key overrides a merged one; of several merged maps the first wins; merges nest; an alias of a
    merged map reads the same the second time (no duplicate key in any of them)."""
    doc = next(parse_stream(MERGED + "binaryData: {}\nx-again: *mid\n"))
    assert doc.issues == []
    assert doc.data["data"] == {"mode": "slow", "size": "small", "zone": "b", "extra": "one"}
    assert doc.data["x-again"] == {"mode": "fast", "size": "small", "zone": "b"}
    assert not any(f.level == 1 for r in verifier.verify_text(MERGED, "x.yaml") for f in r.findings)


def test_a_genuine_duplicate_beside_a_merge_is_still_an_error(verifier):
    results = verifier.verify_text(MERGED + "  mode: again\n", "x.yaml")
    finding = results[0].findings[0]
    assert (finding.rule, finding.path, finding.line) == ("L1-DUPLICATE-KEY", "/data/mode", 14)


def test_bad_merge_key(verifier):
    assert "L1-MERGE" in rules_of(verifier.verify_text(CM + "data:\n  <<: 5\n"))


def test_empty_documents_are_empty_not_errors(verifier):
    results = verifier.verify_text("---\n---\n---\n" + CM)
    assert [r.status for r in results] == [Status.EMPTY, Status.EMPTY, Status.VALID]


def test_syntax_error_fails_only_its_own_document(verifier):
    results = verifier.verify_text(CM + "---\nkind: [\n---\n" + CM.replace("cfg", "other"))
    assert [r.status for r in results] == [Status.VALID, Status.INVALID, Status.VALID]
    assert results[1].findings[0].rule == "L1-YAML" and results[1].findings[0].line == 7


def test_positions_are_file_lines_in_later_documents(verifier):
    results = verifier.verify_text(CM + "---\n" + CM.replace("cfg", "x") + "data:\n  a: 1\n  a: 2\n")
    assert (results[1].findings[0].rule, results[1].findings[0].line) == ("L1-DUPLICATE-KEY", 12)


def test_bad_bytes_fail_only_their_document(verifier):
    data = CM.encode() + b"---\n" + CM.replace("cfg", "x").encode() + b"data:\n  a: \xff\n---\n" + \
        CM.replace("cfg", "y").encode()
    results = verifier.verify_text(data)
    assert [r.status for r in results] == [Status.VALID, Status.INVALID, Status.VALID]
    assert results[1].findings[0].rule == "L1-ENCODING" and results[1].findings[0].line == 11


def test_python_tags_are_never_constructed(verifier, tmp_path):
    marker = tmp_path / "pwned"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\n"
    assert "L1-TAG" in rules_of(verifier.verify_text(text))
    assert not marker.exists()


def test_block_boundaries_do_not_change_results(verifier, monkeypatch, tmp_path):
    from kubedistill.verify import stream

    text = "".join(CM.replace("cfg", f"c{i}") + "data:\n  k: v\n---\n" for i in range(30)) + "kind: [\n"
    path = tmp_path / "many.yaml"
    path.write_text(text)
    whole = [(r.doc, r.status, r.line, [f.rule for f in r.findings]) for r in verifier.verify_file(str(path))]
    monkeypatch.setattr(stream, "BLOCK_BYTES", 7)
    small = [(r.doc, r.status, r.line, [f.rule for f in r.findings]) for r in verifier.verify_file(str(path))]
    assert whole == small and len(whole) == 31 and whole[-1][3] == ["L1-YAML"]


@pytest.mark.parametrize("key", ["app.kubernetes.io/name", "a~1b", "~/~", "plain", ""])
def test_pointer_segments_round_trip(key):
    """`~` is escaped before `/`: a literal '~1' in a key must not come back as '/'."""
    assert pointer.parts("/x/" + pointer.escape(key)) == ["x", key]


def test_a_finding_in_a_slashed_label_key_points_at_its_line(verifier):
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n"
            "    app.kubernetes.io/name: 'bad value!'\n")
    found = [f for r in verifier.verify_text(text) for f in r.findings if f.path.startswith("/metadata/labels/")]
    assert found and found[0].path == "/metadata/labels/app.kubernetes.io~1name" and found[0].line == 6
