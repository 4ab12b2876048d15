"""L2a: strict schemas, defaulted fields, versions, removed APIs and custom resources."""

from __future__ import annotations

import pytest
import yaml

from conftest import FIXTURES, errors_of, rules_of
from kubedistill.verify import Status, Verifier, VerifyConfig
from kubedistill.verify.schema import removed_api

JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: j
spec:
  podFailurePolicy:
    rules:
      - action: Ignore
        onPodConditions:
          - type: DisruptionTarget
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: j
          image: busybox:1.36
"""


def test_server_defaulted_fields_are_not_required(verifier):
    # onPodConditions[].status is required in the OpenAPI schema but the API server defaults it to "True".
    assert not errors_of(verifier.verify_text(JOB))


def test_unknown_field_suggests_the_right_name(verifier):
    findings = errors_of(verifier.verify_text(JOB.replace("restartPolicy", "restartPolicyy")))
    unknown = next(f for f in findings if f.rule == "L2-UNKNOWN-FIELD")
    assert unknown.path == "/spec/template/spec/restartPolicyy"
    assert "restartPolicy" in unknown.hint


def test_removed_api_names_replacement():
    assert removed_api("autoscaling/v2beta2", "HorizontalPodAutoscaler", 33).startswith("autoscaling/v2")
    assert removed_api("autoscaling/v2beta2", "HorizontalPodAutoscaler", 25) is None
    assert removed_api("extensions/v1beta1", "Ingress", 33).startswith("networking.k8s.io/v1")


def test_kubernetes_version_changes_the_verdict():
    # NetworkPolicy.spec.podSelector became optional after 1.33.
    netpol = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: n\n"
              "spec:\n  policyTypes: [Ingress]\n")
    assert "L2-REQUIRED" in rules_of(Verifier(VerifyConfig(k8s_version="1.33")).verify_text(netpol))
    assert not errors_of(Verifier(VerifyConfig(k8s_version="1.37")).verify_text(netpol))


def test_unsupported_version_is_a_config_problem():
    assert VerifyConfig(k8s_version="1.12").problems()


WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n"


@pytest.fixture(scope="module")
def crd_verifier():
    return Verifier(VerifyConfig(schema_locations=(str(FIXTURES / "crds"), str(FIXTURES / "schemas"))))


def test_custom_resource_validated_against_crd(crd_verifier):
    assert not errors_of(crd_verifier.verify_text(WIDGET + "  size: 3\n  port: http\n  extra: {any: thing}\n"))
    assert "L2-RANGE" in rules_of(crd_verifier.verify_text(WIDGET + "  size: 30\n"))
    assert "L2-ENUM" in rules_of(crd_verifier.verify_text(WIDGET + "  size: 3\n  colour: pink\n"))
    assert "L2-REQUIRED" in rules_of(crd_verifier.verify_text(WIDGET + "  colour: red\n"))
    assert "L2-UNKNOWN-FIELD" in rules_of(crd_verifier.verify_text(WIDGET + "  size: 3\n  sise: 4\n"))


def test_custom_resource_validated_against_json_schema_file(crd_verifier):
    gadget = "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\nspec:\n"
    assert not errors_of(crd_verifier.verify_text(gadget + "  replicas: 2\n"))
    assert "L2-TYPE" in rules_of(crd_verifier.verify_text(gadget + "  replicas: two\n"))


def test_missing_schema_is_error_or_skipped():
    widget = WIDGET + "  size: 3\n"
    assert "L2-SCHEMA-MISSING" in rules_of(Verifier(VerifyConfig()).verify_text(widget))
    skipped = Verifier(VerifyConfig(ignore_missing_schemas=True)).verify_text(widget)
    assert skipped[0].status == Status.SKIPPED


def test_compiler_keywords_pattern_and_one_of():
    from kubedistill.verify.compiler import Compiler

    check = Compiler({}).compile({"type": "object", "properties": {
        "name": {"type": "string", "pattern": "^[a-z]+$"},
        "either": {"oneOf": [{"type": "object", "required": ["a"]}, {"type": "object", "required": ["b"]}]}}})
    issues: list = []
    check({"name": "ABC", "either": {"a": 1, "b": 2}}, "", issues)
    assert {i.rule for i in issues} == {"L2-PATTERN", "L2-ONE-OF"}
    issues = []
    check({"name": "abc", "either": {"a": 1}}, "", issues)
    assert issues == []


def test_every_builtin_kind_of_the_schema_compiles():
    from kubedistill.verify.schema import builtin_schemas

    schemas = builtin_schemas("1.33")
    for group, version, kind in schemas.index:
        check = schemas.lookup(group, version, kind)
        issues: list = []
        check({"apiVersion": f"{group + '/' if group else ''}{version}", "kind": kind, "metadata": {"name": "x"}},
              "", issues)
        assert not [i for i in issues if i.path in ("/apiVersion", "/kind")], (kind, issues)


def test_schema_yaml_fixture_is_a_crd():
    doc = yaml.safe_load((FIXTURES / "crds" / "widget-crd.yaml").read_text())
    assert doc["kind"] == "CustomResourceDefinition"
