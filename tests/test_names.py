"""Object names as the API server holds each kind to them (``ValidateObjectMeta`` with the kind's name validator):
one passing and one failing twin per rule, each failing for the reason its finding names."""

from __future__ import annotations

import pytest

from kubedistill.verify import Verifier, VerifyConfig
from kubedistill.verify.names import object_name_problem

SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  ports:\n    - port: 80\n"
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
ROLE = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {name}\nrules: []\n"
PVC = ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {name}\nspec:\n  accessModes: [ReadWriteOnce]"
       "\n  resources:\n    requests:\n      storage: 1Gi\n")
JOB = ("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\nspec:\n  template:\n    spec:\n"
       "      restartPolicy: Never\n      containers:\n        - name: run\n          image: busybox:1.36\n")
CRONJOB = ("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\nspec:\n  schedule: '0 * * * *'\n"
           "  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n"
           "          containers:\n            - name: run\n              image: busybox:1.36\n")
POD = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: db-0\nspec:\n  hostname: {name}\n  containers:\n"
       "    - name: db\n      image: postgres:16\n")
GENERATED = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: {name}\n"

CASES = [
    # (template, a name the kind accepts, one it refuses, words the refusal must carry)
    (SERVICE, "web-1", "1web", "DNS-1035 label"),  # a Service name must start with a letter
    (SERVICE, "w" * 63, "w" * 64, "longer than 63"),
    (NAMESPACE, "team-a", "team.a", "DNS-1123 label"),  # a Namespace name has no dots
    (CONFIGMAP, "app.settings", "App.Settings", "DNS-1123 subdomain"),  # most kinds: a subdomain, dots allowed
    (CONFIGMAP, "9lives", "-lives", "DNS-1123 subdomain"),  # a subdomain may start with a digit
    (ROLE, "system:reader", "a/b", "path segment"),  # RBAC names are path segments: ':' is fine
    (PVC, "Data_01", "data%01", "path segment"),  # so are volume claim names
    (JOB, "j" * 63, "j" * 64, "63 characters"),  # the job-name label value of its pods
    (CRONJOB, "c" * 52, "c" * 53, "52 characters"),  # the Job names it creates add 11 characters
    (POD, "db-0", "db.0", "hostname must be a DNS-1123 label"),
    (GENERATED, "web-", "Web-", "name prefixes must be"),  # generateName: a trailing '-' is allowed
]


@pytest.fixture(scope="module")
def l2() -> Verifier:
    return Verifier(VerifyConfig(levels=(1, 2)))


@pytest.mark.parametrize(("template", "good", "bad", "words"), CASES, ids=[f"{c[0].split('kind: ')[1].split()[0]}-"
                                                                          f"{c[3].split()[0]}" for c in CASES])
def test_each_kind_is_held_to_its_own_name_rule(l2, template, good, bad, words):
    passing = l2.verify_text(template.format(name=good))
    assert not [f.message for r in passing for f in r.findings if f.rule == "L2-NAME"]
    failing = l2.verify_text(template.format(name=bad))
    found = [f for r in failing for f in r.findings if f.rule == "L2-NAME"]
    assert found and words in found[0].message, [f.message for f in found]


def test_the_finding_names_the_validator():
    assert object_name_problem("Service", "1web").startswith("Service names must be a DNS-1035 label "
                                                             "(ValidateServiceName)")
    assert object_name_problem("Deployment", "web") == ""
