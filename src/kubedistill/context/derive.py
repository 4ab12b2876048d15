"""Task specs derived from real manifests: the rule-based half of reverse instructions.

Given the objects of a real file, state the requirements a person would have asked for: kinds, names,
namespaces, images, replicas, ports, Service types, schedules, storage, hosts and paths, and the references
between the objects. Only built-in kinds are described; a file with none yields no spec.
"""

from __future__ import annotations

from typing import Any

from kubedistill.context.spec import ObjectSpec, TaskSpec
from kubedistill.verify.objects import as_dict, as_list, containers, dig, pod_spec
from kubedistill.verify.schema import builtin_schemas, split_api_version

DESCRIBED_KINDS = frozenset({
    "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "Service", "Ingress", "ConfigMap", "Secret",
    "PersistentVolumeClaim", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "ServiceAccount",
    "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "Namespace", "ResourceQuota", "LimitRange",
    "ReplicaSet", "StorageClass", "PriorityClass", "IngressClass", "PersistentVolume",
})


def is_builtin(doc: dict) -> bool:
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return False
    group, version = split_api_version(api_version)
    return (group, version, kind) in builtin_schemas().index


def derive_spec(docs: list[dict], family: str = "") -> TaskSpec | None:
    """The spec of a real manifest, or None when it has no built-in object we can describe."""
    objects = [o for o in (_object(d) for d in docs if isinstance(d, dict) and is_builtin(d)) if o is not None]
    if not objects:
        return None
    return TaskSpec(family=family or "reverse:" + "+".join(sorted({o.kind for o in objects})), objects=objects)


def _object(doc: dict) -> ObjectSpec | None:
    kind = doc["kind"]
    if kind not in DESCRIBED_KINDS:
        return None
    meta = as_dict(doc.get("metadata"))
    spec = ObjectSpec(kind=kind, name=meta.get("name") if isinstance(meta.get("name"), str) else None)
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace != "default":
        spec.namespace = namespace
    body = as_dict(doc.get("spec"))
    ref = pod_spec(doc)
    if ref is not None:
        _workload(spec, doc, body, ref)
    elif kind == "Service":
        _service(spec, body)
    elif kind == "Ingress":
        _ingress(spec, body)
    elif kind == "PersistentVolumeClaim":
        storage = dig(body, "resources", "requests", "storage")
        spec.storage = storage if isinstance(storage, str) else None
        spec.access_modes = [m for m in as_list(body.get("accessModes")) if isinstance(m, str)][:1]
    elif kind == "HorizontalPodAutoscaler":
        target = as_dict(body.get("scaleTargetRef"))
        if isinstance(target.get("kind"), str) and isinstance(target.get("name"), str):
            spec.refs = {target["kind"]: target["name"]}
        for key in ("minReplicas", "maxReplicas"):
            if isinstance(body.get(key), int):
                spec.fields[f"/spec/{key}"] = body[key]
    elif kind == "ConfigMap":
        keys = [k for k, v in as_dict(doc.get("data")).items() if isinstance(v, str) and len(v) <= 40 and "\n" not in v]
        spec.fields = {f"/data/{k}": doc["data"][k] for k in keys[:3]}
    elif kind in ("RoleBinding", "ClusterRoleBinding"):
        role = as_dict(doc.get("roleRef"))
        if isinstance(role.get("kind"), str) and isinstance(role.get("name"), str):
            spec.refs = {role["kind"]: role["name"]}
    return spec


def _workload(spec: ObjectSpec, doc: dict, body: dict, ref: Any) -> None:
    main = next((c.container for c in containers(ref, ("containers",))), {})
    if isinstance(main.get("image"), str):
        spec.image = main["image"]
    if doc["kind"] in ("Deployment", "StatefulSet", "ReplicaSet") and isinstance(body.get("replicas"), int):
        spec.replicas = body["replicas"]
    ports = [p.get("containerPort") for p in map(as_dict, as_list(main.get("ports")))]
    spec.ports = [p for p in ports if isinstance(p, int)][:2]
    if doc["kind"] == "CronJob" and isinstance(body.get("schedule"), str):
        spec.schedule = body["schedule"]
    if doc["kind"] == "StatefulSet":
        claim = as_dict(next(iter(as_list(body.get("volumeClaimTemplates"))), {}))
        storage = dig(claim, "spec", "resources", "requests", "storage")
        spec.storage = storage if isinstance(storage, str) else None


def _service(spec: ObjectSpec, body: dict) -> None:
    ports = [p.get("port") for p in map(as_dict, as_list(body.get("ports")))]
    spec.ports = [p for p in ports if isinstance(p, int)][:3]
    svc_type = body.get("type")
    if isinstance(svc_type, str) and svc_type != "ClusterIP":
        spec.service_type = svc_type
    if body.get("clusterIP") == "None":
        spec.fields["/spec/clusterIP"] = "None"


def _ingress(spec: ObjectSpec, body: dict) -> None:
    rule = as_dict(next(iter(as_list(body.get("rules"))), {}))
    if isinstance(rule.get("host"), str):
        spec.host = rule["host"]
    path = as_dict(next(iter(as_list(dig(rule, "http", "paths"))), {}))
    if isinstance(path.get("path"), str):
        spec.path = path["path"]
    service = dig(path, "backend", "service", "name")
    if isinstance(service, str):
        spec.refs = {"Service": service}
