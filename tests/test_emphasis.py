"""Which manifest lines state the values a task spec asks for: those lines and the keys they sit under, not the
lines the spec is silent about (train/emphasis.py)."""

from __future__ import annotations

from kubedistill.train.emphasis import emphasis_lines, emphasis_spans, spec_terms

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
  namespace: batch
spec:
  schedule: 0 9 * * 1-5
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 3
      template:
        spec:
          restartPolicy: OnFailure
          securityContext:
            runAsNonRoot: true
          containers:
          - name: report
            image: alpine:3.20
            env:
            - name: MODE
              value: nightly
            resources:
              requests:
                cpu: 250m
                memory: 1Gi
              limits:
                memory: 2Gi
---
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  ports:
  - port: 5432
"""

SPEC = {"objects": [
    {"kind": "CronJob", "name": "report", "namespace": "batch", "schedule": "0 9 * * 1-5", "image": "alpine:3.20",
     "limits": {"memory": "2Gi"}, "env": {"MODE": "nightly"}, "run_as_non_root": True,
     "fields": {"/spec/concurrencyPolicy": "Forbid", "/spec/jobTemplate/spec/backoffLimit": 3}},
    {"kind": "Service", "name": "db", "ports": [5432], "fields": {"/spec/clusterIP": "None"}}]}


def _marked(manifest: str, spec: dict) -> list[str]:
    lines = manifest.split("\n")
    return [lines[i].strip() for i in sorted(emphasis_lines(manifest, spec))]


def test_marks_the_requested_values_and_the_key_above_each():
    assert _marked(CRONJOB, SPEC) == [
        "spec:", "schedule: 0 9 * * 1-5", "concurrencyPolicy: Forbid",
        "spec:", "backoffLimit: 3",
        "securityContext:", "runAsNonRoot: true",
        "- name: report", "image: alpine:3.20",
        "env:", "- name: MODE", "value: nightly",
        "limits:", "memory: 2Gi",
        "spec:", "clusterIP: None", "ports:", "- port: 5432"]


def test_leaves_names_common_keys_and_unasked_values_alone():
    marked = _marked(CRONJOB, SPEC)
    # a memory request the spec does not ask for, the names (on every object) and restartPolicy stay at weight 1
    assert "memory: 1Gi" not in marked and "requests:" not in marked
    assert "name: report" not in marked and "restartPolicy: OnFailure" not in marked
    assert emphasis_lines(CRONJOB, None) == set() and emphasis_lines(CRONJOB, {"objects": []}) == set()


def test_terms_skip_flags_short_values_and_names():
    values, keys = spec_terms({"objects": [{"kind": "Ingress", "name": "web", "path": "/", "host": "a.example",
                                            "read_only_root_fs": True, "run_as_non_root": False}]})
    assert values == {"a.example"} and keys == {"readOnlyRootFilesystem"}


def test_spans_cover_whole_lines_and_merge_neighbours():
    manifest = "a: 1\nb: x1\nc: x2\nd: 4\n"
    spans = emphasis_spans(manifest, {"objects": [{"kind": "X", "labels": {"b": "x1", "c": "x2"}}]})
    assert [manifest[s:e] for s, e in spans] == ["b: x1\nc: x2\n"]
