"""CRD rules (x-kubernetes-validations, CEL), string formats, defaults and CRDs read from the inputs.

Each behaviour has a passing and a failing twin, checked against tests/fixtures/crds/gizmo-crd.yaml; the CEL
evaluator's semantics (error absorption, 64-bit ints, the Kubernetes libraries) are checked directly below.
"""

from __future__ import annotations

import pytest

from conftest import FIXTURES, errors_of, rules_of
from kubedistill.verify import Severity, Verifier, VerifyConfig, verify_paths
from kubedistill.verify.cel import CelError, Program, Unsupported
from kubedistill.verify.crdrules import compile_rule
from kubedistill.verify.formats import format_checker

GIZMO_CRD = (FIXTURES / "crds" / "gizmo-crd.yaml").read_text()
GIZMO = "apiVersion: example.com/v1\nkind: Gizmo\nmetadata:\n  name: g\nspec:\n"


@pytest.fixture(scope="module")
def gizmos() -> Verifier:
    return Verifier(VerifyConfig(schema_locations=(str(FIXTURES / "crds" / "gizmo-crd.yaml"),)))


def findings(verifier: Verifier, body: str) -> list:
    return [f for r in verifier.verify_text(GIZMO + body) for f in r.findings]


def rule_errors(verifier: Verifier, body: str) -> list[tuple[str, str]]:
    return [(f.path, f.message) for f in findings(verifier, body) if f.rule == "L2-CRD-RULE"]


# --- x-kubernetes-validations ------------------------------------------------------------------------------

def test_failing_rule_reports_its_message(gizmos):
    assert rule_errors(gizmos, "  minReplicas: 2\n  maxReplicas: 4\n") == []
    assert rule_errors(gizmos, "  minReplicas: 5\n  maxReplicas: 4\n") == [
        ("/spec", "minReplicas must not exceed maxReplicas")]


def test_rule_sees_schema_defaults(gizmos):
    # maxReplicas defaults to 3 and mode to Strict: without defaulting, both rules would fail on "no such key"
    assert rule_errors(gizmos, "  minReplicas: 2\n") == []
    assert rule_errors(gizmos, "  minReplicas: 4\n") == [("/spec", "minReplicas must not exceed maxReplicas")]


def test_message_expression_field_path_and_reason(gizmos):
    assert rule_errors(gizmos, "  mode: Lenient\n  owner: me\n") == []
    found = [f for f in findings(gizmos, "  mode: Lenient\n") if f.rule == "L2-CRD-RULE"]
    assert [(f.path, f.message) for f in found] == [("/spec/owner", "mode Lenient needs an owner")]
    assert "FieldValueRequired" in found[0].hint


def test_has_rule(gizmos):
    assert rule_errors(gizmos, "  tls:\n    secretName: cert\n") == []
    assert rule_errors(gizmos, "  tls: {}\n") == [("/spec", "tls needs a secretName")]


def test_rule_on_a_list_with_all(gizmos):
    assert rule_errors(gizmos, "  ports:\n  - {name: a, port: 80}\n  - {name: b, port: 443}\n") == []
    assert rule_errors(gizmos, "  ports:\n  - {name: a, port: 80}\n  - {name: b, port: 70000}\n") == [
        ("/spec/ports", "every port must be 1-65535")]


def test_rule_on_map_values(gizmos):
    assert rule_errors(gizmos, "  labels: {team: web}\n") == []
    assert rule_errors(gizmos, "  labels: {team: web, tier: much-too-long}\n") == [
        ("/spec/labels/tier", "label values are at most 10 characters")]


@pytest.mark.parametrize(("field", "good", "bad", "message"), [
    ("address", "10.0.0.1", "10.0.0.256", "address must be an IP address"),
    ("size", "512Mi", "20Gi", "size must be a quantity below 10Gi"),
    ("hostname", "web-1", "Web_1", None),
])
def test_kubernetes_library_functions(gizmos, field, good, bad, message):
    assert rule_errors(gizmos, f"  {field}: {good}\n") == []
    [(path, text)] = rule_errors(gizmos, f"  {field}: {bad}\n")
    assert path == f"/spec/{field}"
    assert text == message if message else "DNS-1123 label" in text  # the messageExpression's list, joined


def test_evaluation_error_rejects_like_the_api_server(gizmos):
    # `self.minReplicas <= self.maxReplicas` with maxReplicas explicitly null: the default fills a null too
    assert rule_errors(gizmos, "  maxReplicas: null\n") == []
    program = Program("self.a.b == 1")
    with pytest.raises(CelError, match="no such key: b"):
        program.evaluate({"a": {}})


def test_transition_rule_is_skipped(gizmos):
    # `self.size == oldSelf.size` needs the stored object; a create has none, so the API server skips it
    assert compile_rule({"rule": "self.size == oldSelf.size", "message": "size is immutable"}) is None
    found = findings(gizmos, "  size: 1Gi\n  minReplicas: 5\n")
    assert [f.message for f in found] == ["minReplicas must not exceed maxReplicas"]  # the other rules did run


def test_unsupported_function_warns_and_does_not_reject(gizmos):
    found = findings(gizmos, "  plugin: x\n")
    assert [f.rule for f in found] == ["L2-CRD-RULE-UNCHECKED"]
    assert found[0].severity == Severity.WARNING and "frobnicate" in found[0].message
    assert not errors_of(gizmos.verify_text(GIZMO + "  plugin: x\n"))


def test_blocking_schema_errors_suppress_rules(gizmos):
    # a wrong type stops the API server before the rules run; only the type error is reported
    assert rules_of(gizmos.verify_text(GIZMO + "  minReplicas: 5\n  maxReplicas: 1\n")) == {"L2-CRD-RULE"}
    assert rules_of(gizmos.verify_text(GIZMO + "  minReplicas: 5\n  maxReplicas: 1\n  owner: 7\n")) == {"L2-TYPE"}


def test_status_is_dropped_with_the_status_subresource(gizmos):
    assert not errors_of(gizmos.verify_text(GIZMO + "  owner: me\nstatus: {}\n"))  # status.phase is required


# --- string formats ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "good", "bad"), [
    ("created", "'2024-05-01T12:00:00Z'", "yesterday"),
    ("created", "'2024-05-01T23:59:59.5+02:00'", "'2024-05-01T24:00:00Z'"),
    ("id", "123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456"),
    ("nodeIP", "10.1.2.3", "10.1.2.300"),
])
def test_string_formats(gizmos, field, good, bad):
    assert not errors_of(gizmos.verify_text(GIZMO + f"  {field}: {good}\n"))
    found = errors_of(gizmos.verify_text(GIZMO + f"  {field}: {bad}\n"))
    assert [(f.rule, f.path) for f in found] == [("L2-FORMAT", f"/spec/{field}")]


def test_format_checkers_follow_the_api_server(gizmos):
    assert not errors_of(gizmos.verify_text(GIZMO + "  width: 9999999999\n"))  # int32 is not range-checked
    assert format_checker("date-time", 33)("2024-05-01t12:00:00z")  # strfmt lower-cases before splitting
    assert not format_checker("date", 33)("2023-02-29")
    assert format_checker("duration", 33)("3 days") and not format_checker("duration", 33)("3 fortnights")
    assert format_checker("ipv4", 33)("::ffff:1.2.3.4")  # govalidator: parses as an IP and contains a dot
    assert not format_checker("ipv4", 33)("010.0.0.1")  # Go rejects leading zeros
    assert format_checker("uri", 33)("https://example.com/x?y=1") and not format_checker("uri", 33)("example.com")
    assert format_checker("mac", 33)("00:1a:2b:3c:4d:5e") and not format_checker("mac", 33)("00:1a:2b:3c:4d")
    assert format_checker("hostname", 33)("example.com") and not format_checker("hostname", 33)("-bad.com")
    assert format_checker("k8s-short-name", 33) is None and format_checker("k8s-short-name", 34)("web-1")
    assert format_checker("int32", 33) is None and format_checker("email", 33) is None


# --- CRDs among the inputs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("crd_first", [True, False])
def test_custom_resource_checked_against_a_crd_in_the_same_input(crd_first):
    bad = GIZMO + "  minReplicas: 5\n"
    text = f"{GIZMO_CRD}---\n{bad}" if crd_first else f"{bad}---\n{GIZMO_CRD}"
    results = Verifier(VerifyConfig()).verify_text(text)
    gizmo = next(r for r in results if r.kind == "Gizmo")
    assert [f.message for f in gizmo.findings if f.is_error] == ["minReplicas must not exceed maxReplicas"]
    assert not errors_of([r for r in results if r.kind == "CustomResourceDefinition"])


def test_an_inputs_crds_do_not_leak_into_the_next_input():
    verifier = Verifier(VerifyConfig())
    assert not errors_of(verifier.verify_text(GIZMO_CRD + "---\n" + GIZMO + "  owner: me\n"))
    assert "L2-SCHEMA-MISSING" in rules_of(verifier.verify_text(GIZMO + "  owner: me\n"))


def test_crds_of_one_file_serve_the_other_files_of_a_run(tmp_path):
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "gizmo.yaml").write_text(GIZMO_CRD)
    (tmp_path / "app.yaml").write_text(GIZMO + "  minReplicas: 5\n")
    by_file = {r.file: r for batch in verify_paths([str(tmp_path)], VerifyConfig()) for r in batch}
    app = by_file[str(tmp_path / "app.yaml")]
    assert [f.rule for f in app.findings if f.is_error] == ["L2-CRD-RULE"]


# --- the evaluator -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "value", "expected"), [
    ("self.all(l, self.exists_one(m, l.name == m.name))", [{"name": "a"}, {"name": "b"}], True),
    ("self.all(l, self.exists_one(m, l.name == m.name))", [{"name": "a"}, {"name": "a"}], False),
    ("self.exists(x, x.y == 1)", [{"z": 1}, {"y": 1}], True),  # the error on {z: 1} is absorbed by the true
    ("self.filter(f, f.type == 'A').size() <= 1", [{"type": "A"}, {"type": "B"}], True),
    ("self.map(x, x * 2) == [2, 4]", [1, 2], True),
    ("[has(self.a), has(self.b)].filter(x, x).size() == 1", {"a": 1}, True),
    ("self.x > 0 || true", {}, True),  # error || true is true
    ("(has(self.s3) ? 1 : 0) + (has(self.git) ? 1 : 0) <= 1", {"s3": {}, "git": {}}, False),
    ("self.__namespace__ == 'x'", {"namespace": "x"}, True),  # Kubernetes escapes CEL keywords in names
    ("self.matches('^[a-z]+$')", "abc\n", False),  # RE2's $ is the end of the text
    ("self.split('/')[0].size() < 5", "a/b", True),
    ("self.lowerAscii().startsWith('ab') && self.endsWith('C')", "ABC", True),
    ("'a-b-c'.replace('-', '.', 1) + ['x', 'y'].join('')", None, "a.b-cxy"),
    ("'hello'.indexOf('l') + 'hello'.substring(1, 3).size() + ' x '.trim().size()", None, 5),
    ("[3, 1, 2].max() + [3, 1, 2].sum() + [1, 2, 3].indexOf(3)", None, 11),
    ("[1, 2, 3].isSorted() && !([2, 1].isSorted())", None, True),
    ("sets.contains([1, 2, 3], [2, 3]) && sets.intersects([1], [1, 4]) && !sets.equivalent([1], [2])", None, True),
    ("1 in [1, 2] && 'k' in {'k': 1} && 2 == 2.0 && !(true == 1)", None, True),
    ("7 / -2 == -3 && -7 % 3 == -1", None, True),
    ("ip('10.0.0.1').family() == 4 && cidr('10.0.0.0/8').containsIP('10.2.3.4')", None, True),
    ("isIP('::ffff:1.2.3.4') || isCIDR('10.0.0.1/33')", None, False),
    ("url('https://example.com:8443/a?b=c').getPort() == '8443' && !isURL('example.com')", None, True),
    ("quantity('1Gi').isGreaterThan(quantity('1G')) && quantity('1.5').isInteger() == false", None, True),
    ("format.named('dns1123Label').hasValue() && !format.named('nope').hasValue()", None, True),
    ("format.dns1123Label().validate('ok-name') == optional.none()", None, True),
    ("format.dns1123Label().validate('ok-name') == null", None, False),  # cel-go: an optional is never null
    ("semver('1.2.3').isLessThan(semver('1.10.0'))", None, True),
    ("duration('1h30m') > duration('90s') && timestamp('2024-01-02T00:00:00Z') > timestamp('2024-01-01T00:00:00Z')",
     None, True),
    ("self.?a.orValue(5) + optional.of(1).value()", {}, 6),
    ("cel.bind(x, self * 2, x + x)", 3, 12),
    ("self.transformList(i, v, v + i)", [10, 20], [10, 21]),
    ("self.all(k, v, v > 0)", {"a": 1, "b": 2}, True),
    ("type(self) == string && string(1.5) == '1.5' && int('42') == 42", "x", True),
])
def test_evaluator(source, value, expected):
    assert Program(source).evaluate(value) == expected


@pytest.mark.parametrize(("source", "value", "error"), [
    ("self.a", {}, "no such key: a"),
    ("self[2]", [1], "index out of bounds"),
    ("9223372036854775807 + 1", None, "overflow"),
    ("1 / 0", None, "division by zero"),
    ("self.exists(x, x.y == 1)", [{"z": 1}], "no such key"),  # no element decides: the error stands
])
def test_evaluation_errors(source, value, error):
    with pytest.raises(CelError, match=error):
        Program(source).evaluate(value)


@pytest.mark.parametrize("source", ["self.frobnicate()", "self.size(", "Foo{a: 1}", "self.matches('\\\\p{L}')"])
def test_unsupported_or_malformed_rules(source):
    with pytest.raises(Unsupported):
        Program(source).evaluate("x")
