"""Where things live inside Kubernetes objects: pod templates, containers, selectors.

Every level needs to find the pod spec of a CronJob or the containers of a Deployment; this module
is the one place that knows those paths, so a new workload kind is added once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# kind -> path (list of keys) to the PodTemplateSpec, or to the PodSpec itself for Pod.
POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
}
WORKLOAD_KINDS = frozenset(POD_TEMPLATE_PATHS) | {"Pod"}
LONG_RUNNING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"})
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True, slots=True)
class PodSpecRef:
    """A pod spec inside a document, with the JSON-pointer path to it and its template labels."""

    path: str
    spec: dict
    labels: dict
    template_path: str


@dataclass(frozen=True, slots=True)
class ContainerRef:
    path: str
    container: dict
    list_name: str  # containers | initContainers | ephemeralContainers


def dig(obj: Any, *keys: str) -> Any:
    """Follow mapping keys; None when any step is missing or not a mapping."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def pod_spec(doc: dict) -> PodSpecRef | None:
    """The pod spec of any pod-bearing kind (Pod, controllers, CronJob, PodTemplate)."""
    kind = doc.get("kind")
    if kind == "Pod":
        spec = doc.get("spec")
        labels = as_dict(dig(doc, "metadata", "labels"))
        return PodSpecRef("/spec", spec, labels, "") if isinstance(spec, dict) else None
    keys = POD_TEMPLATE_PATHS.get(kind)
    if keys is None:
        return None
    template = dig(doc, *keys)
    spec = dig(template, "spec")
    if not isinstance(spec, dict):
        return None
    template_path = "/" + "/".join(keys)
    return PodSpecRef(template_path + "/spec", spec, as_dict(dig(template, "metadata", "labels")), template_path)


def containers(ref: PodSpecRef, lists: tuple[str, ...] = CONTAINER_LISTS) -> Iterator[ContainerRef]:
    for list_name in lists:
        for i, container in enumerate(as_list(ref.spec.get(list_name))):
            if isinstance(container, dict):
                yield ContainerRef(f"{ref.path}/{list_name}/{i}", container, list_name)


def selector_matches(selector: Any, labels: dict) -> bool:
    """Kubernetes LabelSelector semantics: matchLabels AND every matchExpression."""
    if not isinstance(selector, dict):
        return False
    for key, value in as_dict(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expr in as_list(selector.get("matchExpressions")):
        if not isinstance(expr, dict):
            return False
        key, op, values = expr.get("key"), expr.get("operator"), as_list(expr.get("values"))
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def selector_is_empty(selector: Any) -> bool:
    return not as_dict(as_dict(selector).get("matchLabels")) and not as_list(as_dict(selector).get("matchExpressions"))


def map_selector_matches(selector: Any, labels: dict) -> bool:
    """A plain key=value selector (Service, ReplicationController): every pair present."""
    return isinstance(selector, dict) and bool(selector) and all(labels.get(k) == v for k, v in selector.items())
