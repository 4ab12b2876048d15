"""L4: bundle modes, task-spec conformance, and the policy rules that have no fixture twins."""

from __future__ import annotations

import pytest

from conftest import REPO, errors_of, rules_of
from kubedistill.context.spec import ObjectRef, ObjectSpec, TaskSpec
from kubedistill.verify import Severity, Verifier, VerifyConfig

WEB = (REPO / "examples" / "web-app.yaml").read_text()
DEPLOY_ONLY = WEB.split("---\n")[1]


def _verifier(**kw) -> Verifier:
    return Verifier(VerifyConfig(**kw))


def test_cluster_reference_is_a_warning_in_bundle_mode_and_an_error_in_strict_mode():
    # The Deployment alone refers to ConfigMap web-config, which may exist in the cluster.
    bundle = _verifier(context="bundle").verify_text(DEPLOY_ONLY)
    refs = [f for r in bundle for f in r.findings if f.rule == "L4-REFERENCE"]
    assert refs and all(f.severity == Severity.WARNING for f in refs) and not errors_of(bundle)
    strict = _verifier(context="strict").verify_text(DEPLOY_ONLY)
    assert "L4-REFERENCE" in {f.rule for f in errors_of(strict)}


def test_context_off_skips_bundle_checks():
    assert "L4-REFERENCE" not in rules_of(_verifier(context="off").verify_text(DEPLOY_ONLY))


def test_dangling_selector_is_an_error_when_the_bundle_ships_workloads():
    broken = WEB.replace("  selector:\n    app.kubernetes.io/name: web\n  ports:",
                         "  selector:\n    app.kubernetes.io/name: webapp\n  ports:")
    assert "L4-SERVICE-SELECTOR" in {f.rule for f in errors_of(_verifier().verify_text(broken))}


def test_examples_pass_the_strictest_settings():
    verifier = _verifier(policy="restricted", context="strict")
    for path in sorted((REPO / "examples").glob("*.yaml")):
        assert not errors_of(verifier.verify_file(str(path))), path.name


SCALED = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources:
            requests: {cpu: 100m}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 10
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 2
  selector:
    matchLabels:
      app: web
"""


def test_an_hpa_owns_the_replica_count_a_pdb_is_held_to(verifier):
    """The Deployment leaves replicas out (it would default to 1) because the HPA scales it from 3."""
    assert not errors_of(verifier.verify_text(SCALED))
    for low in ("  minReplicas: 1\n", ""):  # minReplicas 1, and left out (the API server's default)
        broken = verifier.verify_text(SCALED.replace("  minReplicas: 3\n", low))
        [finding] = [f for f in errors_of(broken)]
        assert finding.rule == "L4-PDB-REPLICAS" and "HorizontalPodAutoscaler web (minReplicas 1)" in finding.message
    # without the HPA the Deployment's own count (defaulted to 1) still counts
    alone = SCALED.split("---\n")
    assert "L4-PDB-REPLICAS" in rules_of(verifier.verify_text(alone[0] + "---\n" + alone[2]))


def _spec(**fields) -> TaskSpec:
    return TaskSpec(family="web-app", objects=[ObjectSpec(**fields)])


@pytest.mark.parametrize("fields", [
    {"kind": "Deployment", "name": "web", "replicas": 3, "image": "nginxinc/nginx-unprivileged",
     "ports": [8080], "namespace": "shop", "requests": {"cpu": "0.1", "memory": "128Mi"}, "limits": {"memory": "256Mi"},
     "run_as_non_root": True, "read_only_root_fs": True, "refs": {"ConfigMap": "web-config"}},
    {"kind": "Service", "name": "web", "ports": [80], "target_ports": ["http"], "service_type": "ClusterIP"},
    {"kind": "Ingress", "host": "shop.example.com", "path": "/", "refs": {"Service": "web"}},
    {"kind": "HorizontalPodAutoscaler", "fields": {"/spec/maxReplicas": 10}, "refs": {"Deployment": "web"}},
])
def test_spec_that_the_manifest_meets(verifier, fields):
    assert not errors_of(verifier.verify_text(WEB, spec=_spec(**fields)))


@pytest.mark.parametrize(("fields", "rule"), [
    ({"kind": "Deployment", "replicas": 5}, "L4-SPEC-MISMATCH"),
    ({"kind": "Deployment", "image": "nginxinc/nginx-unprivileged:1.26"}, "L4-SPEC-MISMATCH"),
    ({"kind": "Deployment", "limits": {"memory": "512Mi"}}, "L4-SPEC-MISMATCH"),
    ({"kind": "Deployment", "env": {"LOG_LEVEL": "debug"}}, "L4-SPEC-MISMATCH"),
    ({"kind": "Service", "service_type": "NodePort"}, "L4-SPEC-MISMATCH"),
    ({"kind": "Ingress", "host": "api.example.com"}, "L4-SPEC-MISMATCH"),
    ({"kind": "CronJob"}, "L4-SPEC-MISSING-OBJECT"),
    ({"kind": "Deployment", "name": "api"}, "L4-SPEC-MISSING-OBJECT"),
])
def test_spec_that_the_manifest_misses(verifier, fields, rule):
    results = verifier.verify_text(WEB, spec=_spec(**fields))
    assert rule in {f.rule for f in errors_of(results)}


def test_exact_spec_rejects_extra_objects(verifier):
    spec = TaskSpec(objects=[ObjectSpec(kind="Deployment")], exact=True)
    assert "L4-SPEC-EXTRA-OBJECT" in rules_of(verifier.verify_text(WEB, spec=spec))


def test_quantities_compare_by_value(verifier):
    spec = TaskSpec(objects=[ObjectSpec(kind="StatefulSet", storage="10240Mi", access_modes=["ReadWriteOnce"])])
    text = (REPO / "examples" / "postgres.yaml").read_text()
    assert not errors_of(verifier.verify_text(text, spec=spec))


def test_existing_and_unwritten_objects_must_stay_out_of_the_answer(verifier):
    """"Our existing web-config ConfigMap" is used, not written; "no Ingress yet" leaves Ingresses out."""
    uses = TaskSpec(objects=[ObjectSpec(kind="Deployment", refs={"ConfigMap": "web-config"})],
                    existing=[ObjectRef("ConfigMap", "web-config")], absent=[ObjectRef("CronJob")])
    without_config = WEB.split("\n---\n", 1)[1]  # the ConfigMap is the first document
    assert "kind: ConfigMap" not in without_config
    assert not errors_of(verifier.verify_text(without_config, spec=uses))
    assert "L4-SPEC-UNWANTED-OBJECT" in rules_of(verifier.verify_text(WEB, spec=uses))
    writes = TaskSpec(objects=[ObjectSpec(kind="Deployment")], existing=[ObjectRef("Service", "web")])
    found = [f for f in errors_of(verifier.verify_text(WEB, spec=writes)) if f.rule == "L4-SPEC-UNWANTED-OBJECT"]
    assert [(f.kind, f.name) for f in found] == [("Service", "web")] and "exists in the cluster" in found[0].message
    unwritten = TaskSpec(objects=[ObjectSpec(kind="Deployment")], absent=[ObjectRef("Ingress")])
    assert "L4-SPEC-UNWANTED-OBJECT" in rules_of(verifier.verify_text(WEB, spec=unwritten))


def test_a_named_target_port_meets_the_number_its_pods_give_that_name(verifier):
    assert "targetPort: http" in WEB and "name: http" in WEB and "containerPort: 8080" in WEB
    spec = TaskSpec(objects=[ObjectSpec(kind="Service", target_ports=[8080])])
    assert not errors_of(verifier.verify_text(WEB, spec=spec))
    spec = TaskSpec(objects=[ObjectSpec(kind="Service", target_ports=[9090])])
    assert "L4-SPEC-MISMATCH" in rules_of(verifier.verify_text(WEB, spec=spec))


def test_each_required_object_needs_its_own_document(verifier):
    """"Two namespaces" is not met by one; two specs that fit one document each are met by two."""
    one = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n"
    two = one + "---\n" + one.replace("team-a", "team-b")
    spec = TaskSpec(objects=[ObjectSpec(kind="Namespace"), ObjectSpec(kind="Namespace")])
    assert "L4-SPEC-MISSING-OBJECT" in rules_of(verifier.verify_text(one, spec=spec))
    assert not errors_of(verifier.verify_text(two, spec=spec))
    named = TaskSpec(objects=[ObjectSpec(kind="Namespace"), ObjectSpec(kind="Namespace", name="team-a")])
    assert not errors_of(verifier.verify_text(two, spec=named))  # the named one is matched to team-a, not taken


def test_task_spec_round_trips_and_rejects_unknown_fields():
    spec = TaskSpec.from_dict({"family": "db", "objects": [{"kind": "StatefulSet", "replicas": 1, "storage": "1Gi"}]})
    assert TaskSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError, match="replica"):
        TaskSpec.from_dict({"objects": [{"kind": "Deployment", "replica": 2}]})
    refs = {"objects": [], "existing": [{"kind": "Secret", "name": "db"}], "absent": [{"kind": "Ingress"}]}
    assert TaskSpec.from_dict(refs).to_dict() == {"family": "", **refs}
    with pytest.raises(ValueError, match="existing"):
        TaskSpec.from_dict({"existing": [{"name": "db"}]})
    with pytest.raises(ValueError, match="exists"):
        TaskSpec.from_dict({"exists": []})


SOCKET_POD = """apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  volumes:
    - name: sock
      hostPath:
        path: /var/run/docker.sock
  containers:
    - name: c
      image: docker:27.1
      volumeMounts:
        - name: sock
          mountPath: /var/run/docker.sock
"""


def test_best_practice_extras():
    verifier = _verifier(policy="best-practice", levels=(3,))
    found = {f.rule: f.severity for r in verifier.verify_text(SOCKET_POD) for f in r.findings}
    assert "L3-DOCKER-SOCKET" in found
    assert found["L3-SA-TOKEN"] == Severity.WARNING
    assert found["L3-READ-ONLY-ROOT-FS"] == Severity.WARNING


def test_a_service_account_that_withholds_its_token_settles_the_pods_token_warning():
    verifier = _verifier(policy="best-practice")
    account = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\nautomountServiceAccountToken: {}\n"

    def token_warned(text: str) -> bool:
        return any(f.rule == "L3-SA-TOKEN" for r in verifier.verify_text(text) for f in r.findings)
    assert token_warned(SOCKET_POD)
    assert not token_warned(SOCKET_POD + "---\n" + account.format("false"))
    assert token_warned(SOCKET_POD + "---\n" + account.format("true"))
    # the pod's own setting decides over its account's
    own = SOCKET_POD.replace("spec:\n", "spec:\n  automountServiceAccountToken: true\n", 1)
    assert token_warned(own + "---\n" + account.format("false"))


def test_policy_profiles_nest():
    pod = SOCKET_POD
    baseline = rules_of(_verifier(policy="baseline").verify_text(pod))
    restricted = rules_of(_verifier(policy="restricted", levels=(1, 2, 3)).verify_text(pod))
    assert "L3-HOST-PATH" in baseline and "L3-HOST-PATH" in restricted
    assert "L3-RUN-AS-NON-ROOT" not in baseline and "L3-RUN-AS-NON-ROOT" in restricted
