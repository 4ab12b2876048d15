"""L4: consistency of a bundle with the domain context model.

A bundle (one multi-document file, or one answer) is checked as a whole: Services select pods that
exist and target ports those pods declare, Ingresses point at Services and their ports, HPAs, PDBs
and NetworkPolicies find their targets, and ConfigMap/Secret/PVC/ServiceAccount references resolve.

Modes: ``bundle`` (default) treats a reference to an object that may live in the cluster as a
warning; but when the bundle itself ships objects of the referenced kind in that namespace, a
dangling selector or target is an error, since the author clearly meant the bundle to be whole.
``strict`` makes every unresolved reference an error. ``off`` skips L4 bundle checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubedistill.verify.facts import Facts
from kubedistill.verify.finding import Issue, Severity
from kubedistill.verify.objects import as_dict, map_selector_matches, selector_is_empty, selector_matches
from kubedistill.verify.registry import rule

CONTEXT_MODES = ("bundle", "strict", "off")
DUPLICATE = rule("L4-DUPLICATE-OBJECT", 4, "same kind/namespace/name twice in a bundle")
SERVICE_SELECTOR = rule("L4-SERVICE-SELECTOR", 4, "Service selects no pod template of the bundle")
TARGET_PORT = rule("L4-TARGET-PORT", 4, "Service targetPort not declared by the selected pods")
INGRESS_BACKEND = rule("L4-INGRESS-BACKEND", 4, "Ingress backend names a missing Service or port")
SCALE_TARGET = rule("L4-SCALE-TARGET", 4, "HPA scaleTargetRef names a missing workload")
HPA_REQUESTS = rule("L4-HPA-CPU-REQUESTS", 4, "CPU-based HPA targets pods without CPU requests")
PDB_TARGET = rule("L4-PDB-SELECTOR", 4, "PodDisruptionBudget selects no pods of the bundle")
PDB_REPLICAS = rule("L4-PDB-REPLICAS", 4, "PodDisruptionBudget minAvailable above replicas")
REFERENCE = rule("L4-REFERENCE", 4, "referenced ConfigMap/Secret/PVC/ServiceAccount/Role missing")
NETPOL = rule("L4-NETWORKPOLICY-SELECTOR", 4, "NetworkPolicy selects no pods of the bundle")
HEADLESS = rule("L4-STATEFULSET-SERVICE", 4, "StatefulSet serviceName is not a headless Service")

WORKLOAD_TARGETS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")


class Bundle:
    """Facts of every object in one bundle, indexed for the relation checks."""

    def __init__(self, facts: list[Facts], mode: str = "bundle") -> None:
        self.facts = facts
        self.mode = mode
        self.by_key: dict[tuple[str, str, str], Facts] = {}
        self.kinds: set[tuple[str, str]] = set()
        self._pods: dict[str, list[Facts]] = {}
        self._by_label: dict[tuple[str, str, Any], list[Facts]] = {}
        self.scaled_by: dict[tuple[str, str, str], Facts] = {}
        """(kind, namespace, name) of a workload -> the HPA of the bundle that scales it."""
        for f in facts:
            if f.kind == "HorizontalPodAutoscaler":
                kind, name = f.raw.get("target", (None, None))
                if isinstance(kind, str) and isinstance(name, str):
                    self.scaled_by.setdefault((kind, f.namespace, name), f)
            self.by_key.setdefault((f.kind, f.namespace, f.name), f)
            self.kinds.add((f.kind, f.namespace))
            if f.pod_labels is not None:
                self._pods.setdefault(f.namespace, []).append(f)
                for key, value in f.pod_labels.items():
                    if isinstance(value, str | int | float | bool):
                        self._by_label.setdefault((f.namespace, key, value), []).append(f)

    def has_kind(self, kind: str, namespace: str) -> bool:
        return (kind, namespace) in self.kinds or (kind, "") in self.kinds

    def pods(self, namespace: str) -> list[Facts]:
        return self._pods.get(namespace, [])

    def candidates(self, namespace: str, selector: dict) -> list[Facts]:
        """Pods that carry at least the rarest label pair of ``selector`` (an index, not a scan)."""
        lists = [self._by_label.get((namespace, k, v), []) for k, v in selector.items()
                 if isinstance(v, str | int | float | bool)]
        return min(lists, key=len) if lists else self.pods(namespace)

    def replicas(self, workload: Facts) -> tuple[int | None, Facts | None]:
        """The replica count as the cluster runs it: an HPA of the bundle that scales the workload owns the
        count (its ``minReplicas`` is the floor, whatever ``spec.replicas`` says, and the usual practice leaves
        ``spec.replicas`` out); otherwise the workload's own ``spec.replicas`` (defaulted to 1)."""
        hpa = self.scaled_by.get((workload.kind, workload.namespace, workload.name))
        if hpa is not None:
            return hpa.raw.get("minReplicas"), hpa
        return workload.replicas, None

    def mounts_token(self, pod: Facts) -> bool:
        """Whether the pod gets its service account's token: its own ``automountServiceAccountToken`` decides
        when set; else the ServiceAccount's, when the bundle ships it; else the token is mounted."""
        own = pod.raw.get("automount")
        if isinstance(own, bool):
            return own
        account = self.find("ServiceAccount", pod.namespace, pod.raw.get("account", "default"))
        return account is None or account.raw.get("automount") is not False

    def severity(self, shipped: bool) -> Severity:
        """Error when strict, or when the bundle ships that kind of object; else a warning."""
        return Severity.ERROR if self.mode == "strict" or shipped else Severity.WARNING

    def find(self, kind: Any, namespace: str, name: Any) -> Facts | None:
        if not isinstance(kind, str) or not isinstance(name, str):
            return None
        return self.by_key.get((kind, namespace, name)) or self.by_key.get((kind, "", name))


def check_bundle(bundle: Bundle) -> dict[int, list[Issue]]:
    """L4 issues per document index."""
    found: dict[int, list[Issue]] = {}
    if bundle.mode == "off":
        return found
    seen: set[tuple[str, str, str]] = set()
    for f in bundle.facts:
        issues = found.setdefault(f.doc, [])
        key = (f.kind, f.namespace, f.name)
        if key in seen and f.name:
            issues.append(Issue(DUPLICATE, "/metadata/name", f"{f.kind} {f.namespace + '/' if f.namespace else ''}"
                                f"{f.name} is defined twice in this bundle", "rename or remove one copy"))
        seen.add(key)
        for check in _CHECKS.get(f.kind, ()):
            issues.extend(check(f, bundle))
        issues.extend(_references(f, bundle))
    return {doc: issues for doc, issues in found.items() if issues}


def _service(f: Facts, bundle: Bundle) -> Iterator[Issue]:
    selector = f.raw.get("selector")
    if not isinstance(selector, dict) or not selector:
        return
    selected = [p for p in bundle.candidates(f.namespace, selector)
                if map_selector_matches(selector, p.pod_labels or {})]
    if not selected:
        shipped = bool(bundle.pods(f.namespace))
        yield Issue(SERVICE_SELECTOR, "/spec/selector", f"selector {selector} matches no pod template in namespace "
                    f"{f.namespace}" + ("" if shipped else " of this bundle"),
                    "make the selector equal to the workload's template labels", bundle.severity(shipped))
        return
    names = set().union(*(p.port_names for p in selected))
    numbers = set().union(*(p.port_numbers for p in selected))
    for i, port in enumerate(f.raw.get("ports", [])):
        port = as_dict(port)
        target = port.get("targetPort", port.get("port"))
        if isinstance(target, str) and target not in names:
            yield Issue(TARGET_PORT, f"/spec/ports/{i}/targetPort", f"targetPort {target!r} is not a named port of "
                        "the selected containers", f"name a container port {target!r} or use its number")
        elif isinstance(target, int) and numbers and target not in numbers:
            # Containers may listen on undeclared ports (sidecars are injected later), so a numeric
            # mismatch is only certain enough to be an error in strict mode.
            yield Issue(TARGET_PORT, f"/spec/ports/{i}/targetPort", f"targetPort {target} is not a containerPort of "
                        f"the selected containers ({', '.join(map(str, sorted(numbers)))})",
                        "point targetPort at the port the container listens on", bundle.severity(False))


def _ingress(f: Facts, bundle: Bundle) -> Iterator[Issue]:
    shipped = bundle.has_kind("Service", f.namespace)
    for path, backend in f.raw.get("backends", []):
        name = backend.get("name")
        service = bundle.find("Service", f.namespace, name)
        if service is None:
            yield Issue(INGRESS_BACKEND, f"{path}/name", f"backend Service {name!r} is not in this bundle",
                        "name a Service defined alongside the Ingress", bundle.severity(shipped))
            continue
        port = as_dict(backend.get("port"))
        ports = [as_dict(p) for p in service.raw.get("ports", [])]
        if "number" in port and port["number"] not in [p.get("port") for p in ports]:
            yield Issue(INGRESS_BACKEND, f"{path}/port/number", f"Service {name!r} has no port {port['number']}",
                        f"use one of its ports: {', '.join(str(p.get('port')) for p in ports)}")
        if "name" in port and port["name"] not in [p.get("name") for p in ports]:
            yield Issue(INGRESS_BACKEND, f"{path}/port/name", f"Service {name!r} has no port named {port['name']!r}",
                        "use one of its port names")


def _hpa(f: Facts, bundle: Bundle) -> Iterator[Issue]:
    kind, name = f.raw.get("target", (None, None))
    target = bundle.find(kind, f.namespace, name) if isinstance(kind, str) else None
    if target is None:
        shipped = bundle.has_kind(kind if isinstance(kind, str) else "", f.namespace)
        yield Issue(SCALE_TARGET, "/spec/scaleTargetRef", f"scale target {kind}/{name} is not in this bundle",
                    "name the Deployment or StatefulSet defined alongside", bundle.severity(shipped))
    elif f.raw.get("cpu_metric") and not target.cpu_requests:
        yield Issue(HPA_REQUESTS, "/spec/metrics", f"{kind}/{name} containers set no CPU request, so CPU "
                    "utilization cannot be computed", "add resources.requests.cpu to the target's containers",
                    bundle.severity(False))


def _selected_pods(f: Facts, bundle: Bundle, rule_id: str) -> tuple[list[Facts], list[Issue]]:
    """Pods a label selector picks; an issue when a non-empty selector picks none."""
    selector = f.raw.get("selector")
    if selector is None or selector_is_empty(selector):
        return [], []
    match_labels = selector.get("matchLabels") if isinstance(selector.get("matchLabels"), dict) else {}
    selected = [p for p in bundle.candidates(f.namespace, match_labels)
                if selector_matches(selector, p.pod_labels or {})]
    if selected:
        return selected, []
    shipped = bool(bundle.pods(f.namespace))
    path = "/spec/podSelector" if f.kind == "NetworkPolicy" else "/spec/selector"
    return [], [Issue(rule_id, path, "selector matches no pod template of this bundle",
                      "make the selector match the workload's template labels", bundle.severity(shipped))]


def _pdb(f: Facts, bundle: Bundle) -> Iterator[Issue]:
    selected, issues = _selected_pods(f, bundle, PDB_TARGET)
    yield from issues
    minimum = f.raw.get("minAvailable")
    counts = [bundle.replicas(p) for p in selected]
    if not selected or not isinstance(minimum, int) or any(n is None for n, _ in counts):
        return
    replicas = sum(n for n, _ in counts)
    if minimum > replicas:
        scalers = [f"{hpa.name} (minReplicas {n})" for n, hpa in counts if hpa is not None]
        if scalers:
            yield Issue(PDB_REPLICAS, "/spec/minAvailable", f"minAvailable {minimum} is above the {replicas} "
                        f"replicas the selected pods may scale down to (HorizontalPodAutoscaler "
                        f"{', '.join(scalers)}), so at that floor no pod could be evicted",
                        "lower minAvailable below the HPA's minReplicas, or raise minReplicas")
        else:
            yield Issue(PDB_REPLICAS, "/spec/minAvailable", f"minAvailable {minimum} is above the {replicas} "
                        "replicas selected, so no pod could ever be evicted", "lower minAvailable below replicas")


def _netpol(f: Facts, bundle: Bundle) -> Iterator[Issue]:
    yield from _selected_pods(f, bundle, NETPOL)[1]


def _statefulset(f: Facts, bundle: Bundle) -> Iterator[Issue]:
    name = f.raw.get("serviceName")
    if not name:
        return
    service = bundle.find("Service", f.namespace, name)
    if service is None:
        yield Issue(HEADLESS, "/spec/serviceName", f"governing Service {name!r} is not in this bundle",
                    "add a headless Service (clusterIP: None) with that name",
                    bundle.severity(bundle.has_kind("Service", f.namespace)))
    elif not service.raw.get("headless"):
        yield Issue(HEADLESS, "/spec/serviceName", f"Service {name!r} is not headless",
                    "set clusterIP: None on the governing Service")


def _references(f: Facts, bundle: Bundle) -> Iterator[Issue]:
    claim_templates = f.raw.get("claimTemplates") or set()
    for ref in f.references:
        if ref.kind == "PersistentVolumeClaim" and ref.name in claim_templates:
            continue
        namespace = "" if ref.kind == "ClusterRole" else f.namespace
        if bundle.find(ref.kind, namespace, ref.name) is None and not ref.optional:
            yield Issue(REFERENCE, ref.path, f"{ref.kind} {ref.name!r} is not defined in this bundle",
                        f"define the {ref.kind} in the bundle or make sure it exists in the cluster",
                        bundle.severity(False))
    for name, namespace, path in f.raw.get("subjects", []):
        if bundle.find("ServiceAccount", namespace, name) is None and name != "default":
            yield Issue(REFERENCE, path, f"ServiceAccount {name!r} is not defined in this bundle",
                        "define the ServiceAccount in the bundle", bundle.severity(False))


_CHECKS: dict[str, tuple[Any, ...]] = {
    "Service": (_service,),
    "Ingress": (_ingress,),
    "HorizontalPodAutoscaler": (_hpa,),
    "PodDisruptionBudget": (_pdb,),
    "NetworkPolicy": (_netpol,),
    "StatefulSet": (_statefulset,),
}
