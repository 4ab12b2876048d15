"""One canonical YAML form for manifests, without changing their meaning.

Conventional key order (apiVersion, kind, metadata, spec ...; name before image in containers), 2-space
block style, no comments, libyaml's stable quoting, and documents in a dependency-friendly order (Namespace,
ConfigMap/Secret, RBAC, storage, workloads, Service, Ingress, HPA ...). Parsing uses the verifier's loader, so
values keep their Kubernetes meaning (a date stays a string), and ``parse(canonical) == parse(original)``
holds document for document (tested on every real manifest).
"""

from __future__ import annotations

import hashlib
from typing import Any

import yaml

from kubedistill.verify.syntax import parse_stream

KEY_ORDER = (
    "apiVersion", "kind", "metadata", "name", "generateName", "namespace", "labels", "annotations", "type",
    "spec", "data", "stringData", "binaryData", "immutable", "rules", "subjects", "roleRef", "aggregationRule",
    "replicas", "serviceName", "selector", "matchLabels", "matchExpressions", "strategy", "minReadySeconds",
    "schedule", "timeZone", "concurrencyPolicy", "jobTemplate", "backoffLimit", "completions", "parallelism",
    "template", "serviceAccountName", "automountServiceAccountToken", "restartPolicy", "securityContext",
    "initContainers", "containers", "image", "imagePullPolicy", "command", "args", "workingDir", "ports",
    "containerPort", "port", "targetPort", "protocol", "env", "value", "valueFrom", "envFrom", "resources",
    "requests", "limits", "readinessProbe", "livenessProbe", "startupProbe", "volumeMounts", "mountPath",
    "volumes", "volumeClaimTemplates", "status",
)
_RANK = {key: i for i, key in enumerate(KEY_ORDER)}
KIND_ORDER = (
    "Namespace", "CustomResourceDefinition", "PriorityClass", "ResourceQuota", "LimitRange", "ServiceAccount",
    "Secret", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "ClusterRole",
    "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
    "ReplicationController", "Pod", "Job", "CronJob", "Service", "IngressClass", "Ingress",
    "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
)
_KIND_RANK = {kind: i for i, kind in enumerate(KIND_ORDER)}


class CanonicalError(ValueError):
    """The text is not a clean YAML stream of mappings (the filter rejects such pairs first)."""


def order_keys(node: Any) -> Any:
    if isinstance(node, dict):
        keys = sorted(node, key=lambda k: (_RANK.get(k, len(_RANK)), str(k)))
        return {k: order_keys(node[k]) for k in keys}
    if isinstance(node, list):
        return [order_keys(v) for v in node]
    return node


def documents(text: str) -> list[dict]:
    docs = []
    for parsed in parse_stream(text):
        if parsed.issues:
            raise CanonicalError(parsed.issues[0].message)
        if parsed.data is not None:
            docs.append(parsed.data)
    return docs


def order_documents(docs: list[dict]) -> list[dict]:
    """Dependency-friendly order; stable, so documents of one kind keep their relative order."""
    return sorted(docs, key=lambda d: _KIND_RANK.get(str(d.get("kind")), len(_KIND_RANK)))


class _Dumper(yaml.CSafeDumper):
    """libyaml's emitter, with multi-line strings as literal blocks (scripts and config files stay readable)."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value.rstrip("\n") and not any(line != line.rstrip() for line in value.split("\n")) \
        else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(docs: list[dict]) -> str:
    parts = [yaml.dump(order_keys(d), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                       allow_unicode=True, width=4096, indent=2) for d in docs]
    return "---\n".join(parts)


def canonicalize(text: str) -> str:
    """The canonical text of a manifest; raises CanonicalError when it does not parse cleanly."""
    return dump(order_documents(documents(text)))


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
