"""``edit-companion`` changes: add the Service, HPA, PDB, NetworkPolicy or Ingress a workload of the input needs.

The new object is built with the same renderer as the offline teacher's own (``context/render.py``), selects the
workload by its selector labels and lives in its namespace; the input's objects stay as they were. The request
names the new object and states every value the spec checks.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from kubedistill.context import pools
from kubedistill.context import render as r
from kubedistill.context.spec import ObjectSpec
from kubedistill.sources.edit_change import (
    CONTROLLERS,
    Change,
    Docs,
    add_docs,
    container_ports,
    key,
    main_container,
    name_of,
    place,
    ptr,
    selector_labels,
)
from kubedistill.sources.edit_fields import budget_floor
from kubedistill.verify.objects import as_dict, dig, pod_spec, selector_matches


def _workload(target: dict) -> tuple[str, str, dict, list[dict]] | None:
    """(name, namespace, selector labels, main container ports) of a controller that a companion can serve."""
    found = main_container(target)
    labels = selector_labels(target)
    if target.get("kind") not in CONTROLLERS or found is None or not labels:
        return None
    return name_of(target), key(target)[1], labels, container_ports(found[1])


def _free(docs: Docs, kind: str, namespace: str, *names: str) -> str:
    taken = {key(d)[2] for d in docs if d.get("kind") == kind and key(d)[1] == namespace}
    return next(n for n in (*names, f"{names[0]}-2") if n not in taken)


def _selects(docs: Docs, kind: str, target: dict) -> list[dict]:
    """The input's objects of ``kind`` whose selector picks the target's pods."""
    ref = pod_spec(target)
    pods = ref.labels if ref is not None else {}
    out = []
    for d in docs:
        if d.get("kind") != kind or key(d)[1] != key(target)[1]:
            continue
        selector = as_dict(dig(d, "spec", "selector"))
        if kind == "Service":
            picks = bool(selector) and all(pods.get(k) == v for k, v in selector.items())
        else:
            picks = selector_matches(selector, pods)
        if picks:
            out.append(d)
    return out


def service_for(rng: random.Random, docs: Docs, target: dict) -> tuple[dict, ObjectSpec, list[str]] | None:
    """A Service for the workload, its spec and the ways to ask for it (also used by ``ingress``)."""
    found = _workload(target)
    if found is None or not found[3] or _selects(docs, "Service", target):
        return None
    app, namespace, labels, ports = found
    number = ports[0]["containerPort"]
    port_name = ports[0].get("name") or f"port-{number}"
    port = rng.choice((80, number)) if number != 80 and port_name.startswith("http") else number
    svc_type = rng.choice(("ClusterIP", "ClusterIP", "ClusterIP", "NodePort", "LoadBalancer"))
    governing = dig(target, "spec", "serviceName")  # a StatefulSet's headless Service: not this one's name
    name = _free(docs, "Service", namespace, *[n for n in (app, f"{app}-svc") if n != governing])
    svc = r.service(name, namespace, labels, [(port_name, port, ports[0].get("name") or number)], svc_type)
    want = ObjectSpec(kind="Service", name=name, ports=[port], target_ports=[number],
                      service_type=svc_type if svc_type != "ClusterIP" or rng.random() < 0.3 else None,
                      fields={f"/spec/selector{ptr(k)}": v for k, v in labels.items()})
    typed = f"{want.service_type} " if want.service_type else ""
    asks = [f"add a {typed}Service named {name} on port {port} that targets container port {number}",
            f"expose the pods with a {typed}Service {name}, port {port} -> {number}",
            f"create a {typed}Service called {name} for the pods (port {port}, targetPort {number})"]
    return svc, want, asks


def service(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    made = service_for(rng, docs, target)
    if made is None:
        return None
    svc, want, asks = made
    return Change("service", asks, [f"+svc {want.name} {want.ports[0]}->{want.target_ports[0]}"],
                  ["nothing can reach the pods yet"], after=add_docs(svc), objects=[want], area="service",
                  changes=[place(svc)])


def hpa(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = _workload(target)
    spec = pod_spec(target)
    if found is None or target.get("kind") == "DaemonSet" or spec is None or any(
            dig(d, "spec", "scaleTargetRef", "name") == found[0] for d in docs) or not all(
            dig(c, "resources", "requests", "cpu") for c in spec.spec.get("containers") or []):
        return None
    app, namespace, _, _ = found
    low = budget_floor(docs, target) + rng.choice((1, 2, 3))
    high = low + rng.choice((2, 4, 7))
    cpu = rng.choice((60, 70, 75, 80))
    name = _free(docs, "HorizontalPodAutoscaler", namespace, app)
    made = r.hpa(name, namespace, str(target["kind"]), app, low, high, cpu)
    want = ObjectSpec(kind="HorizontalPodAutoscaler", name=name, refs={str(target["kind"]): app}, fields={
        "/spec/minReplicas": low, "/spec/maxReplicas": high,
        "/spec/metrics/0/resource/target/averageUtilization": cpu})
    asks = [f"add an HPA that scales it between {low} and {high} replicas at {cpu}% CPU",
            f"autoscale the {target['kind']} from {low} to {high} replicas, targeting {cpu}% CPU utilization",
            f"add a HorizontalPodAutoscaler {name}: min {low}, max {high}, average CPU {cpu}%"]
    return Change("hpa", asks, [f"+hpa {low}-{high} @{cpu}% cpu"], ["traffic is spiky during the day"],
                  after=add_docs(made), objects=[want], area="hpa", changes=[place(made)])


def pdb(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = _workload(target)
    replicas = dig(target, "spec", "replicas")
    if found is None or not isinstance(replicas, int) or replicas < 2 or _selects(docs, "PodDisruptionBudget", target):
        return None
    app, namespace, labels, _ = found
    if rng.random() < 0.6:
        field_name, value = "minAvailable", rng.randint(1, replicas - 1)
        said = f"keeps at least {value} pod{'s' if value > 1 else ''} available"
    else:
        field_name, value, said = "maxUnavailable", 1, "allows at most 1 pod down at a time"
    name = _free(docs, "PodDisruptionBudget", namespace, f"{app}-pdb", app)
    made = r.obj("policy/v1", "PodDisruptionBudget", r.meta(name, namespace), spec={
        field_name: value, "selector": {"matchLabels": dict(labels)}})
    fields = {f"/spec/{field_name}": value, **{f"/spec/selector/matchLabels{ptr(k)}": v for k, v in labels.items()}}
    asks = [f"add a PodDisruptionBudget {name} that {said}", f"add a PDB ({field_name}: {value}) for the pods",
            f"protect it with a disruption budget that {said}"]
    return Change("pdb", asks, [f"+pdb {field_name}={value}"], ["node drains take all the pods down at once"],
                  after=add_docs(made), objects=[ObjectSpec(kind="PodDisruptionBudget", name=name, fields=fields)],
                  area="pdb", changes=[place(made)])


def network_policy(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = _workload(target)
    if found is None or not found[3] or _selects(docs, "NetworkPolicy", target):
        return None
    app, namespace, labels, ports = found
    client = rng.choice([n for n in pools.APP_NAMES if n != app])
    label = next(iter(labels))
    port = ports[0]["containerPort"]
    name = _free(docs, "NetworkPolicy", namespace, f"allow-{client}-to-{app}")
    made = r.obj("networking.k8s.io/v1", "NetworkPolicy", r.meta(name, namespace), spec={
        "podSelector": {"matchLabels": dict(labels)}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": {label: client}}}],
                     "ports": [{"protocol": "TCP", "port": port}]}]})
    fields = {**{f"/spec/podSelector/matchLabels{ptr(k)}": v for k, v in labels.items()},
              f"/spec/ingress/0/from/0/podSelector/matchLabels{ptr(label)}": client,
              "/spec/ingress/0/ports/0/port": port}
    asks = [f"add a NetworkPolicy {name} so that only pods labeled {label}={client} can reach it on TCP {port}",
            f"lock down ingress to the pods: allow only {label}={client} pods, port {port} (NetworkPolicy {name})"]
    return Change("networkpolicy", asks, [f"+netpol {name}: from {label}={client} port {port}"],
                  ["anything in the cluster can talk to it right now"], after=add_docs(made), area="networkpolicy",
                  objects=[ObjectSpec(kind="NetworkPolicy", name=name, fields=fields)], changes=[place(made)])


def ingress(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = _workload(target)
    if found is None:
        return None
    app, namespace, _, _ = found
    services = [s for s in _selects(docs, "Service", target)
                if _first_port(s) and dig(s, "spec", "clusterIP") != "None"]
    added: list[dict] = []
    objects: list[ObjectSpec] = []
    asks_service: list[str] = []
    if services:
        svc_name, port = name_of(services[0]), _first_port(services[0])
    else:
        made = service_for(rng, docs, target)
        if made is None:
            return None
        svc, want, asks_service = made
        added.append(svc)
        objects.append(want)
        svc_name, port = want.name, want.ports[0]
    host, path = rng.choice(pools.HOSTS), rng.choice(pools.PATHS)
    tls = f"{app}-tls" if rng.random() < 0.4 else None
    name = _free(docs, "Ingress", namespace, app, f"{app}-ingress")
    made_ingress = r.ingress(name, namespace, host, path, svc_name, port, tls)
    fields = {"/spec/rules/0/http/paths/0/backend/service/port/number": port}
    if tls:
        fields["/spec/tls/0/secretName"] = tls
    objects.append(ObjectSpec(kind="Ingress", name=name, host=host, path=path, refs={"Service": svc_name},
                              fields=fields))
    secured = f" with TLS from the Secret {tls}" if tls else ""
    asks = [f"expose it at {host}{path} through an Ingress {name} (nginx class) to the {svc_name} Service on port "
            f"{port}{secured}", f"add an ingress for host {host}, path {path} -> svc {svc_name}:{port}{secured}"]
    if asks_service:
        asks = [f"{a} and {b}" for a, b in zip(asks_service, asks + asks[:1], strict=False)]
    return Change("ingress", asks, [f"+ingress {host}{path} -> {svc_name}:{port}" + (f" tls={tls}" if tls else "")],
                  ["it should be reachable from outside the cluster"], after=add_docs(*added, made_ingress),
                  objects=objects, area="ingress", changes=[place(o) for o in (*added, made_ingress)])


def _first_port(service: dict) -> int | None:
    ports = dig(service, "spec", "ports")
    port = ports[0].get("port") if isinstance(ports, list) and ports and isinstance(ports[0], dict) else None
    return port if isinstance(port, int) else None


COMPANION_OPS: tuple[Callable[[random.Random, Docs, dict], Change | None], ...] = (
    service, hpa, pdb, network_policy, ingress)
