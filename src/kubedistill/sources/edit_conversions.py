"""``edit-convert`` changes: a Pod into a Deployment, a Deployment into a StatefulSet with its own volumes, and a
removed API version into its replacement (``apps/v1beta1`` Deployment -> ``apps/v1`` with a selector,
``extensions/v1beta1`` Ingress -> ``networking.k8s.io/v1`` with the new backend shape ...).

For a conversion the object the input held may go (``absent``), the new one is asked for by kind and name. For a
removed API the answer is the base, and the input is the base written the old way: the old apiVersion, the shape
that version had (no selector, ``serviceName``/``servicePort`` backends, ``targetAverageUtilization``).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable

from kubedistill.context import pools
from kubedistill.context import render as r
from kubedistill.context.spec import ObjectRef, ObjectSpec
from kubedistill.sources.edit_change import (
    Change,
    Docs,
    add_docs,
    at,
    key,
    main_container,
    name_of,
    pod_of,
    pod_pointer,
    ptr,
    replace_doc,
    selector_labels,
    steps,
    wants,
)
from kubedistill.verify.objects import as_dict, as_list, dig
from kubedistill.verify.schema import REMOVED_APIS, split_api_version


def pod_to_deployment(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = main_container(target)
    if target.get("kind") != "Pod" or found is None:
        return None
    name, namespace = name_of(target), key(target)[1]
    meta = as_dict(target.get("metadata"))
    labels = dict(as_dict(meta.get("labels"))) or {r.APP_LABEL: name}
    spec = copy.deepcopy(as_dict(target.get("spec")))
    if spec.get("restartPolicy") not in (None, "Always"):
        spec.pop("restartPolicy")
    spec.pop("nodeName", None)
    template: dict = {"metadata": {"labels": dict(labels)}, "spec": spec}
    if meta.get("annotations"):
        template["metadata"]["annotations"] = dict(meta["annotations"])
    replicas = rng.choice((1, 2, 3, 4))
    stated = replicas > 1 or rng.random() < 0.5
    body: dict = {"replicas": replicas} if stated else {}
    body.update(selector={"matchLabels": dict(labels)}, template=template)
    deployment = r.obj("apps/v1", "Deployment", r.meta(name, namespace, labels), spec=body)
    count = f" with {replicas} replica{'s' if replicas > 1 else ''}" if stated else ""
    asks = [f"turn this Pod into a Deployment{count}", f"convert the bare pod to a Deployment{count}, same pod spec",
            f"make it a Deployment instead of a standalone Pod{count}"]
    return Change("pod-to-deployment", asks, [f"pod -> deployment{count.replace(' with', ',')}"],
                  ["a bare Pod does not come back when its node dies"], after=replace_doc(target, deployment),
                  objects=[ObjectSpec(kind="Deployment", name=name, replicas=replicas if stated else None,
                                      image=found[1].get("image"))],
                  absent=[ObjectRef("Pod", name)], area="convert")


def deployment_to_statefulset(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = main_container(target)
    labels = selector_labels(target)
    pod = pod_of(target)
    if target.get("kind") != "Deployment" or found is None or not labels or any(
            "persistentVolumeClaim" in v for v in as_list(pod.get("volumes")) if isinstance(v, dict)) or any(
            dig(d, "spec", "scaleTargetRef", "name") == name_of(target) for d in docs):
        return None
    index, c = found
    name, namespace = name_of(target), key(target)[1]
    known = [i for i in pools.IMAGES if str(c.get("image", "")).startswith(i.repository + ":")]
    path = (known[0].data_path if known and known[0].data_path else None) or "/data"
    if any(m.get("mountPath") == path or m.get("name") == "data" for m in as_list(c.get("volumeMounts"))) or any(
            v.get("name") == "data" for v in as_list(pod.get("volumes")) if isinstance(v, dict)):
        return None
    size = rng.choice(pools.STORAGE_SIZES)
    headless = [d for d in docs if d.get("kind") == "Service" and key(d)[1] == namespace and
                dig(d, "spec", "clusterIP") == "None" and dig(d, "spec", "selector") == labels]
    taken = {name_of(d) for d in docs if d.get("kind") == "Service" and key(d)[1] == namespace}
    svc_name = name_of(headless[0]) if headless else (name if name not in taken else f"{name}-headless")
    ports = [p for p in as_list(c.get("ports")) if isinstance(p, dict) and isinstance(p.get("containerPort"), int)]
    new_service = None if headless or not ports else r.service(svc_name, namespace, labels, [
        (p.get("name") or f"port-{p['containerPort']}", p["containerPort"], p.get("name") or p["containerPort"])
        for p in ports], headless=True)
    if not headless and new_service is None:
        return None
    template = copy.deepcopy(target["spec"]["template"])
    template["spec"]["containers"][index].setdefault("volumeMounts", []).append({"name": "data", "mountPath": path})
    security = template["spec"].get("securityContext")
    if isinstance(security, dict) and isinstance(security.get("runAsUser"), int):
        security.setdefault("fsGroup", security["runAsUser"])
    body = {k: v for k, v in target["spec"].items() if k in ("replicas", "minReadySeconds", "revisionHistoryLimit")}
    body = {"serviceName": svc_name, **body, "selector": {"matchLabels": dict(labels)}, "template": template,
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": r.pvc_spec(size)}]}
    sts = r.obj("apps/v1", "StatefulSet", copy.deepcopy(target["metadata"]), spec=body)
    mounts = len(as_list(c.get("volumeMounts")))
    mount_path = f"{pod_pointer(target)}/containers/{index}/volumeMounts/{mounts}/mountPath"
    objects = [ObjectSpec(kind="StatefulSet", name=name, storage=size,
                          fields={"/spec/serviceName": svc_name, mount_path: path})]
    service_words = f"the existing headless Service {svc_name}" if headless else f"a new headless Service {svc_name}"
    if new_service:
        objects.append(ObjectSpec(kind="Service", name=svc_name, fields={"/spec/clusterIP": "None"}))
    asks = [f"convert this Deployment into a StatefulSet where each replica gets its own {size} volume "
            f"(volumeClaimTemplate data) mounted at {path}, governed by {service_words}",
            f"turn it into a statefulset: per-pod {size} PVC named data at {path}, serviceName {svc_name} "
            f"({service_words.replace('the existing ', '').replace('a new ', '')})"]
    return Change("deployment-to-statefulset", asks, [f"deploy -> sts, {size} pvc at {path}, headless svc {svc_name}"],
                  ["the pods lose their data on every restart"], area="convert",
                  after=steps(replace_doc(target, sts), add_docs(new_service) if new_service else add_docs()),
                  objects=objects, absent=[ObjectRef("Deployment", name)])


LEGACY = {
    "Deployment": ("apps/v1", ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2")),
    "DaemonSet": ("apps/v1", ("extensions/v1beta1", "apps/v1beta2")),
    "ReplicaSet": ("apps/v1", ("extensions/v1beta1", "apps/v1beta2")),
    "StatefulSet": ("apps/v1", ("apps/v1beta1", "apps/v1beta2")),
    "CronJob": ("batch/v1", ("batch/v1beta1",)),
    "PodDisruptionBudget": ("policy/v1", ("policy/v1beta1",)),
    "HorizontalPodAutoscaler": ("autoscaling/v2", ("autoscaling/v2beta2", "autoscaling/v2beta1")),
    "Ingress": ("networking.k8s.io/v1", ("networking.k8s.io/v1beta1", "extensions/v1beta1")),
    "NetworkPolicy": ("networking.k8s.io/v1", ("extensions/v1beta1",)),
    **{kind: ("rbac.authorization.k8s.io/v1", ("rbac.authorization.k8s.io/v1beta1",))
       for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")},
}
"""Kind -> (the served apiVersion, removed versions people still paste)."""


def _removed_in(api_version: str, kind: str) -> int:
    group, version = split_api_version(api_version)
    return (REMOVED_APIS.get((group, version, kind)) or REMOVED_APIS[(group, version, "*")])[0]


def legacy_api(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    kind = str(target.get("kind"))
    if kind not in LEGACY or target.get("apiVersion") != LEGACY[kind][0]:
        return None
    new = LEGACY[kind][0]
    old = rng.choice(LEGACY[kind][1])
    fields: dict = {"/apiVersion": new}
    paths = ["/apiVersion"]
    shape: list[Callable[[dict], None]] = [lambda d: d.update(apiVersion=old)]
    extra = ""
    labels = selector_labels(target)
    if kind in ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet") and old != "apps/v1beta2" and labels and (
            rng.random() < 0.7):
        shape.append(lambda d: d["spec"].pop("selector"))
        fields.update({f"/spec/selector/matchLabels{ptr(k)}": v for k, v in labels.items()})
        paths.append("/spec/selector")
        extra = " (apps/v1 needs an explicit selector)"
    elif kind == "Ingress":
        if not _old_ingress_possible(target):
            return None
        shape.append(_old_ingress)
        paths += ["/spec/rules", "/spec/defaultBackend", "/spec/backend"]
        first = dig(target, "spec", "rules")
        if isinstance(first, list) and first and dig(first[0], "http", "paths"):
            fields["/spec/rules/0/http/paths/0/backend/service/name"] = dig(
                first[0]["http"]["paths"][0], "backend", "service", "name")
        extra = " with the new backend format (service name and port, pathType)"
    elif kind == "HorizontalPodAutoscaler" and old == "autoscaling/v2beta1":
        metrics = as_list(dig(target, "spec", "metrics"))
        if not all(dig(m, "resource", "target", "type") == "Utilization" for m in metrics):
            return None
        shape.append(_old_metrics)
        paths.append("/spec/metrics")
        extra = " (the metric target moves under target.averageUtilization)"
    minor = _removed_in(old, kind)

    def apply(d: dict) -> None:
        for step in shape:
            step(d)

    asks = [f"migrate this {kind} from {old} to {new}{extra}",
            f"{old} was removed in Kubernetes 1.{minor}; update the {kind} to {new}{extra}",
            f"port the manifest to {new}{extra}"]
    return Change("legacy-api", asks, [f"{old} -> {new}"], [
        f"kubectl says: no matches for kind \"{kind}\" in version \"{old}\"", "we are upgrading the cluster to 1.33"],
        before=at(target, apply), objects=[wants(target, fields=fields)], area="convert",
        changes=[f"{kind}/{name_of(target)} {p}" for p in paths])


def _old_ingress_possible(target: dict) -> bool:
    backends = [dig(p, "backend") for rule in as_list(dig(target, "spec", "rules"))
                for p in as_list(dig(rule, "http", "paths"))] + ([dig(target, "spec", "defaultBackend")]
                                                                  if dig(target, "spec", "defaultBackend") else [])
    return bool(backends) and all(isinstance(dig(b, "service", "name"), str) and isinstance(
        dig(b, "service", "port"), dict) for b in backends)


def _old_backend(backend: dict) -> dict:
    port = backend["service"]["port"]
    return {"serviceName": backend["service"]["name"], "servicePort": port.get("number", port.get("name"))}


def _old_ingress(d: dict) -> None:
    spec = d["spec"]
    if "defaultBackend" in spec:
        spec["backend"] = _old_backend(spec.pop("defaultBackend"))
    for rule in as_list(spec.get("rules")):
        for p in as_list(dig(rule, "http", "paths")):
            p.pop("pathType", None)
            p["backend"] = _old_backend(p["backend"])


def _old_metrics(d: dict) -> None:
    for metric in d["spec"].get("metrics") or []:
        resource = metric["resource"]
        resource["targetAverageUtilization"] = resource.pop("target")["averageUtilization"]


CONVERT_OPS: tuple[Callable[[random.Random, Docs, dict], Change | None], ...] = (
    pod_to_deployment, deployment_to_statefulset, legacy_api)
