"""L4 for edits: the requested change is made, and nothing else changes (``verify/edit.py``)."""

from __future__ import annotations

import pytest

from kubedistill.context.spec import TaskSpec
from kubedistill.verify import Verifier, VerifyConfig

INPUT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - {name: http, containerPort: 8080}
          env:
            - {name: MODE, value: fast}
            - {name: LEVEL, value: info}
        - name: log
          image: busybox:1.36
          args: [tail, -f, /var/log/app.log]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: http}
"""
PROBE = "          readinessProbe:\n            httpGet: {path: /healthz, port: 8080}\n"
SPEC = {"objects": [{"kind": "Deployment", "name": "web", "fields": {
    "/spec/template/spec/containers/0/readinessProbe/httpGet/path": "/healthz"}}],
    "changes": ["Deployment/web /spec/template/spec/containers/web/readinessProbe"], "input": INPUT}


def _answer(text: str = INPUT) -> str:
    return text.replace("            - {name: http, containerPort: 8080}\n",
                        "            - {name: http, containerPort: 8080}\n" + PROBE, 1)


def _rules(answer: str, spec: dict = SPEC) -> list[tuple[str, str]]:
    results = Verifier(VerifyConfig(policy="baseline")).verify_text(answer, spec=TaskSpec.from_dict(spec))
    return [(f.rule, f.path) for r in results for f in r.findings if f.is_error]


def test_the_requested_change_alone_passes():
    assert _rules(_answer()) == []


def test_the_input_handed_back_misses_the_requested_change():
    assert [rule for rule, _ in _rules(INPUT)] == ["L4-SPEC-MISMATCH"]


def test_an_unasked_change_is_reported_where_it_is():
    changed = _answer().replace("replicas: 2", "replicas: 3")
    assert _rules(changed) == [("L4-EDIT-UNASKED", "/spec/replicas")]
    image = _answer().replace("busybox:1.36", "busybox:1.37")
    assert _rules(image) == [("L4-EDIT-UNASKED", "/spec/template/spec/containers/1/image")]


def test_a_dropped_container_or_object_is_reported():
    no_sidecar = _answer().split("        - name: log")[0] + "---" + _answer().split("---", 1)[1]
    assert _rules(no_sidecar) == [("L4-EDIT-UNASKED", "/spec/template/spec/containers")]
    no_service = _answer().split("---")[0]
    assert [rule for rule, _ in _rules(no_service)] == ["L4-EDIT-DROPPED"]
    renamed = _answer().replace("kind: Service\nmetadata:\n  name: web", "kind: Service\nmetadata:\n  name: web-svc")
    assert sorted(rule for rule, _ in _rules(renamed)) == ["L4-EDIT-DROPPED", "L4-EDIT-UNASKED"]


def test_reordered_named_lists_formatting_and_server_defaults_are_not_changes():
    answer = _answer()
    answer = answer.replace("            - {name: MODE, value: fast}\n            - {name: LEVEL, value: info}\n",
                            "            - name: LEVEL\n              value: info\n"
                            "            - {name: MODE, value: fast}\n")
    web, log = answer.split("        - name: log\n")
    head, first = web.split("        - name: web\n")
    answer = head + "        - name: log\n" + log.split("---")[0] + "        - name: web\n" + first + "---" + log.split(
        "---", 1)[1]
    answer = answer.replace("kind: Service\nmetadata:\n  name: web\n", "kind: Service\nmetadata:\n  name: web\n"
                            "  namespace: default\n").replace("targetPort: http}", "targetPort: http, protocol: TCP}")
    answer = answer.replace("          image: nginx:1.27\n", "          image: nginx:1.27\n"
                            "          imagePullPolicy: IfNotPresent\n")
    assert _rules(answer) == []
    assert [rule for rule, _ in _rules(answer.replace("imagePullPolicy: IfNotPresent", "imagePullPolicy: Always"))] == [
        "L4-EDIT-UNASKED"]


@pytest.mark.parametrize(("extra", "asked"), [
    ("---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  minAvailable: 1\n"
     "  selector: {matchLabels: {app: web}}\n", False),
    ("---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  minAvailable: 1\n"
     "  selector: {matchLabels: {app: web}}\n", True),
])
def test_an_added_object_must_be_asked_for(extra, asked):
    spec = {**SPEC, "changes": [*SPEC["changes"], "PodDisruptionBudget/web"]} if asked else SPEC
    assert [rule for rule, _ in _rules(_answer() + extra, spec)] == ([] if asked else ["L4-EDIT-UNASKED"])


def test_an_object_the_edit_removes_may_go():
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: one}\nspec:\n  containers:\n    - {name: a, image: nginx:1.27}\n"
    deploy = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: one}\nspec:\n  replicas: 2\n  selector:\n"
              "    matchLabels: {app: one}\n  template:\n    metadata:\n      labels: {app: one}\n    spec:\n"
              "      containers:\n        - {name: a, image: nginx:1.27}\n")
    spec = {"objects": [{"kind": "Deployment", "name": "one", "replicas": 2}],
            "absent": [{"kind": "Pod", "name": "one"}],
            "input": pod}
    assert _rules(deploy, spec) == []
    assert [rule for rule, _ in _rules(deploy, {**spec, "absent": []})] == ["L4-EDIT-DROPPED"]
