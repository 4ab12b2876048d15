"""Compact facts about one object, enough for the cross-object checks of L4.

The engine keeps facts, not whole documents, for every object of a bundle, so a bundle of
100,000 documents stays small in memory while L4 still sees every relation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubedistill.verify.objects import as_dict, as_list, containers, dig, pod_spec

CLUSTER_SCOPED = frozenset({"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
                            "StorageClass", "CustomResourceDefinition", "PriorityClass", "IngressClass",
                            "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
                            "RuntimeClass", "CSIDriver", "VolumeAttachment", "ClusterIssuer", "GatewayClass"})


@dataclass(frozen=True, slots=True)
class Reference:
    """One object naming another: kind and name, where it was named, and whether it may be absent."""

    kind: str
    name: str
    path: str
    optional: bool = False


@dataclass(slots=True)
class Facts:
    doc: int
    kind: str
    name: str
    namespace: str
    pod_labels: dict | None = None
    port_names: set[str] = field(default_factory=set)
    port_numbers: set[int] = field(default_factory=set)
    replicas: int | None = None
    cpu_requests: bool = True
    references: list[Reference] = field(default_factory=list)
    raw: dict = field(default_factory=dict)
    """The small part of the spec that relations need (selectors, ports, backends, targets)."""


def extract(doc_index: int, doc: dict) -> Facts:
    meta = as_dict(doc.get("metadata"))
    kind = str(doc.get("kind", ""))
    namespace = "" if kind in CLUSTER_SCOPED else str(meta.get("namespace") or "default")
    facts = Facts(doc_index, kind, str(meta.get("name", "")), namespace)
    spec = as_dict(doc.get("spec"))
    ref = pod_spec(doc)
    if ref is not None:
        _pod_facts(facts, ref)
        if kind == "Job" and facts.name:  # the Job controller labels its pods with the Job's name
            facts.pod_labels = {**facts.pod_labels, "job-name": facts.name,
                                "batch.kubernetes.io/job-name": facts.name}
        replicas = spec.get("replicas", 1) if kind in ("Deployment", "StatefulSet", "ReplicaSet") else None
        facts.replicas = replicas if isinstance(replicas, int) else None
        if kind == "StatefulSet" and isinstance(spec.get("serviceName"), str) and spec["serviceName"]:
            facts.raw["serviceName"] = spec["serviceName"]
        names = [as_dict(as_dict(c).get("metadata")).get("name") for c in as_list(spec.get("volumeClaimTemplates"))]
        facts.raw["claimTemplates"] = {n for n in names if isinstance(n, str)}
    if kind == "Service":
        facts.raw = {"selector": spec.get("selector"), "ports": as_list(spec.get("ports")),
                     "headless": spec.get("clusterIP") == "None", "type": spec.get("type", "ClusterIP")}
    elif kind == "Ingress":
        facts.raw["backends"] = list(_ingress_backends(spec))
        for i, tls in enumerate(as_list(spec.get("tls"))):
            if isinstance(as_dict(tls).get("secretName"), str):
                facts.references.append(Reference("Secret", tls["secretName"], f"/spec/tls/{i}/secretName"))
    elif kind == "HorizontalPodAutoscaler":
        target = as_dict(spec.get("scaleTargetRef"))
        low = spec.get("minReplicas", 1)  # the API server defaults it to 1
        facts.raw = {"target": (target.get("kind"), target.get("name")),
                     "minReplicas": low if isinstance(low, int) and not isinstance(low, bool) else None,
                     "cpu_metric": any(dig(m, "resource", "name") == "cpu" for m in as_list(spec.get("metrics")))
                     or "targetCPUUtilizationPercentage" in spec}
    elif kind == "PodDisruptionBudget":
        facts.raw = {"selector": spec.get("selector"), "minAvailable": spec.get("minAvailable")}
    elif kind == "NetworkPolicy":
        facts.raw = {"selector": spec.get("podSelector")}
    elif kind in ("RoleBinding", "ClusterRoleBinding"):
        _binding_facts(facts, doc)
    elif kind == "ServiceAccount":
        facts.raw["automount"] = doc.get("automountServiceAccountToken")
    return facts


def _pod_facts(facts: Facts, ref: Any) -> None:
    facts.pod_labels = ref.labels
    spec = ref.spec
    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    facts.raw["account"] = account if isinstance(account, str) and account else "default"
    facts.raw["automount"] = spec.get("automountServiceAccountToken")
    if isinstance(account, str) and account != "default":
        facts.references.append(Reference("ServiceAccount", account, f"{ref.path}/serviceAccountName"))
    for i, volume in enumerate(as_list(spec.get("volumes"))):
        volume = as_dict(volume)
        at = f"{ref.path}/volumes/{i}"
        if isinstance(dig(volume, "configMap", "name"), str):
            facts.references.append(Reference("ConfigMap", volume["configMap"]["name"], f"{at}/configMap/name",
                                              bool(dig(volume, "configMap", "optional"))))
        if isinstance(dig(volume, "secret", "secretName"), str):
            facts.references.append(Reference("Secret", volume["secret"]["secretName"], f"{at}/secret/secretName",
                                              bool(dig(volume, "secret", "optional"))))
        if isinstance(dig(volume, "persistentVolumeClaim", "claimName"), str):
            facts.references.append(Reference("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"],
                                              f"{at}/persistentVolumeClaim/claimName"))
    for c in containers(ref, ("initContainers", "containers")):
        _container_facts(facts, c)


def _container_facts(facts: Facts, c: Any) -> None:
    container = c.container
    for port in as_list(container.get("ports")):
        port = as_dict(port)
        if isinstance(port.get("name"), str):
            facts.port_names.add(port["name"])
        if isinstance(port.get("containerPort"), int):
            facts.port_numbers.add(port["containerPort"])
    if c.list_name == "containers" and "cpu" not in as_dict(dig(container, "resources", "requests")):
        facts.cpu_requests = False
    for i, source in enumerate(as_list(container.get("envFrom"))):
        source = as_dict(source)
        for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if isinstance(dig(source, key, "name"), str):
                facts.references.append(Reference(kind, source[key]["name"], f"{c.path}/envFrom/{i}/{key}/name",
                                                  bool(dig(source, key, "optional"))))
    for i, env in enumerate(as_list(container.get("env"))):
        for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            selector = dig(env, "valueFrom", key)
            if isinstance(as_dict(selector).get("name"), str):
                facts.references.append(Reference(kind, selector["name"], f"{c.path}/env/{i}/valueFrom/{key}/name",
                                                  bool(selector.get("optional"))))


def _ingress_backends(spec: dict):
    default = as_dict(spec.get("defaultBackend"))
    if default.get("service"):
        yield "/spec/defaultBackend/service", as_dict(default["service"])
    for i, rule in enumerate(as_list(spec.get("rules"))):
        for j, path in enumerate(as_list(dig(rule, "http", "paths"))):
            service = dig(path, "backend", "service")
            if isinstance(service, dict):
                yield f"/spec/rules/{i}/http/paths/{j}/backend/service", service


def _binding_facts(facts: Facts, doc: dict) -> None:
    role = as_dict(doc.get("roleRef"))
    if isinstance(role.get("name"), str) and role.get("kind") in ("Role", "ClusterRole"):
        facts.references.append(Reference(role["kind"], role["name"], "/roleRef/name"))
    for i, subject in enumerate(as_list(doc.get("subjects"))):
        subject = as_dict(subject)
        if subject.get("kind") == "ServiceAccount" and isinstance(subject.get("name"), str):
            facts.raw.setdefault("subjects", []).append(
                (subject["name"], subject.get("namespace") or facts.namespace, f"/subjects/{i}/name"))
