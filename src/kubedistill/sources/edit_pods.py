"""``edit-field`` changes to the pod spec: hardening, volumes, sidecar and init containers, scheduling, rollout.

Like ``edit_fields.py``: (rng, base documents, target) -> ``Change`` or None. Containers this module adds are
hardened as the offline teacher's own are (no privilege escalation, all capabilities dropped, non-root, the
RuntimeDefault seccomp profile, requests and a memory limit), so the answer still passes ``restricted``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from kubedistill.context import pools
from kubedistill.sources.edit_change import (
    LONG_RUNNING,
    Change,
    Docs,
    at,
    container_at,
    container_ports,
    key,
    main_container,
    name_of,
    named,
    place,
    pod_of,
    pod_pointer,
    ptr,
    wants,
)
from kubedistill.verify.objects import as_dict, as_list, dig

HARDENED = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
SAYABLE = {"allowPrivilegeEscalation", "readOnlyRootFilesystem", "capabilities", "runAsNonRoot", "runAsUser",
           "seccompProfile"}
"""Container security settings a hardening request can name (others would be values the request never states)."""
SMALL = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}


def hardening(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    """The input without its security contexts; the request lists what the base had."""
    pod = pod_of(target)
    items = [(name, i, c) for name in ("initContainers", "containers")
             for i, c in enumerate(as_list(pod.get(name))) if isinstance(c, dict)]
    if target.get("kind") not in LONG_RUNNING or not items or not _sayable(pod, [c for _, _, c in items]):
        return None
    read_only = all(dig(c, "securityContext", "readOnlyRootFilesystem") is True for _, _, c in items)
    users = {dig(c, "securityContext", "runAsUser") for _, _, c in items} - {None}
    said = ["run as non-root", "no privilege escalation", "drop all capabilities", "the RuntimeDefault seccomp profile"]
    if read_only:
        said.append("a read-only root filesystem")
    if len(users) == 1:
        said.append(f"run as user {users.pop()}")

    def strip(d: dict) -> None:
        spec = pod_of(d)
        for name, i, _ in items:
            spec[name][i].pop("securityContext")
        security = as_dict(spec.get("securityContext"))
        for field_name in ("runAsNonRoot", "seccompProfile"):
            security.pop(field_name, None)
        if "securityContext" in spec and not security:
            spec.pop("securityContext")

    base = pod_pointer(target)
    listed = ", ".join(said[:-1]) + " and " + said[-1]
    asks = [f"harden the security context: {listed}", f"lock down the pod security settings ({listed})",
            f"add security contexts: {listed}"]
    changes = [place(target, f"{named(target, base)}/securityContext")] + [
        place(target, f"{named(target, f'{base}/{name}/{i}')}/securityContext") for name, i, _ in items]
    return Change("hardening", asks, [f"securityContext: {listed}"], ["the security team flagged this workload",
                                                                     "we are turning on Pod Security admission"],
                  before=at(target, strip), objects=[wants(target, run_as_non_root=True,
                                                           read_only_root_fs=True if read_only else None)],
                  changes=changes, area="security")


def _sayable(pod: dict, items: list[dict]) -> bool:
    """Whether a request listing the usual settings states every security setting of the pod's containers."""
    contexts = [c.get("securityContext") for c in items]
    return all(isinstance(sc, dict) and set(sc) <= SAYABLE and sc.get("capabilities", {"drop": ["ALL"]}) == {
        "drop": ["ALL"]} for sc in contexts) and all(
        dig(sc, "seccompProfile", "type") in (None, "RuntimeDefault") for sc in [pod.get("securityContext"), *contexts])


def volume(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = main_container(target)
    if found is None:
        return None
    index, c = found
    app, namespace = name_of(target), key(target)[1]
    maps = [name_of(d) for d in docs if d.get("kind") == "ConfigMap" and key(d)[1] == namespace]
    kind = rng.choice(("emptyDir", "configMap", "secret"))
    if kind == "emptyDir":
        name, path = "cache", f"/var/cache/{app}"
        source, what = {"emptyDir": {}}, f"an emptyDir volume named cache at {path}"
    elif kind == "configMap":
        cm = rng.choice(maps) if maps else f"{app}-config"
        name, path = "config", f"/etc/{app}"
        source, what = {"configMap": {"name": cm}}, f"the ConfigMap {cm} read-only at {path} (volume name config)"
    else:
        secret = f"{app}-tls"
        name, path = "tls", "/etc/tls"
        source, what = {"secret": {"secretName": secret}}, f"the Secret {secret} read-only at {path} (volume tls)"
    pod = pod_of(target)
    if any(v.get("name") == name for v in as_list(pod.get("volumes")) if isinstance(v, dict)) or any(
            m.get("mountPath") == path for m in as_list(c.get("volumeMounts")) if isinstance(m, dict)):
        return None
    mount = {"name": name, "mountPath": path, **({"readOnly": True} if kind != "emptyDir" else {})}
    base = pod_pointer(target)
    fields = {f"{base}/volumes/{len(as_list(pod.get('volumes')))}/name": name,
              f"{base}/containers/{index}/volumeMounts/{len(as_list(c.get('volumeMounts')))}/mountPath": path}
    fields.update({f"{base}/volumes/{len(as_list(pod.get('volumes')))}{ptr(*k)}": v for k, v in {
        ("configMap", "name"): dig(source, "configMap", "name"),
        ("secret", "secretName"): dig(source, "secret", "secretName")}.items() if v})

    def apply(d: dict) -> None:
        pod_of(d).setdefault("volumes", []).append({"name": name, **source})
        container_at(d, index).setdefault("volumeMounts", []).append(mount)

    asks = [f"mount {what}", f"add a volume: {what}", f"give the {c['name']} container {what}"]
    return Change("volume", asks, [f"+volume {name} -> {path}"], ["the app needs files at " + path],
                  after=at(target, apply), objects=[wants(target, fields=fields)], area="volumes",
                  changes=[place(target, f"{named(target, base)}/volumes/{name}"),
                           place(target, f"{named(target, f'{base}/containers/{index}')}/volumeMounts/{name}")])


SIDECARS = (("log-shipper", "fluent/fluent-bit:3.1", None, ()), ("cache", "redis:7.4", 6379, ()),
            ("echo", "hashicorp/http-echo:1.0", 5678, ("-text=ok", "-listen=:5678")))


def _container(name: str, image: str, port: int | None = None, args: tuple[str, ...] = (),
               command: list[str] | None = None) -> dict:
    c: dict = {"name": name, "image": image}
    if command:
        c["command"] = command
    if args:
        c["args"] = list(args)
    if port:
        c["ports"] = [{"name": name[:15], "containerPort": port}]
    c["resources"] = {k: dict(v) for k, v in SMALL.items()}
    c["securityContext"] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in HARDENED.items()}
    return c


def sidecar(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    pod = pod_of(target)
    present = [c for c in as_list(pod.get("containers")) + as_list(pod.get("initContainers")) if isinstance(c, dict)]
    used_ports = {p["containerPort"] for c in present for p in container_ports(c)}
    options = [s for s in SIDECARS if s[0] not in {c.get("name") for c in present} and s[2] not in used_ports and
               s[1].split(":")[0] not in {str(c.get("image", "")).split(":")[0] for c in present}]
    if target.get("kind") not in LONG_RUNNING or not options:
        return None
    name, ref, port, args = rng.choice(options)
    new = _container(name, ref, port, args)
    base = pod_pointer(target)
    count = len(as_list(pod.get("containers")))
    listening = f" listening on {port}" if port else ""
    asks = [f"add a {name} sidecar container running {ref}{listening}",
            f"add a sidecar named {name} ({ref}){listening}",
            f"run {ref} next to the app as a second container called {name}{listening}"]
    fields = {f"{base}/containers/{count}/name": name, f"{base}/containers/{count}/image": ref}
    if port:
        fields[f"{base}/containers/{count}/ports/0/containerPort"] = port
    return Change("sidecar", asks, [f"+sidecar {name} {ref}"], ["we want that in the same pod"],
                  after=at(target, lambda d: pod_of(d)["containers"].append(new)), area="containers",
                  objects=[wants(target, fields=fields)],
                  changes=[place(target, f"{named(target, base)}/containers/{name}")])


def init_container(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    pod = pod_of(target)
    host, port = rng.choice([("postgres", 5432), ("redis", 6379), ("mysql", 3306), ("rabbitmq", 5672)])
    name = f"wait-for-{host}"
    present = {c.get("name") for c in as_list(pod.get("initContainers")) if isinstance(c, dict)}
    if not pod or name in present or target.get("kind") not in LONG_RUNNING | {"Job", "CronJob"}:
        return None
    script = f"until nc -z {host} {port}; do echo waiting for {host}; sleep 2; done"
    new = _container(name, "busybox:1.36", command=["sh", "-c", script])
    base = pod_pointer(target)
    count = len(as_list(pod.get("initContainers")))
    asks = [f"add an init container {name} (busybox:1.36) that waits until {host}:{port} accepts connections",
            f"add an initContainer named {name} that loops `nc -z {host} {port}` with busybox:1.36 before the app "
            "starts"]
    return Change("init-container", asks, [f"+initContainer {name}: busybox:1.36, wait for {host}:{port}"],
                  [f"the app crashes when {host} is not up yet"], area="init",
                  after=at(target, lambda d: pod_of(d).setdefault("initContainers", []).append(new)),
                  objects=[wants(target, fields={f"{base}/initContainers/{count}/name": name,
                                                 f"{base}/initContainers/{count}/image": "busybox:1.36"})],
                  changes=[place(target, f"{named(target, base)}/initContainers/{name}")])


NODE_LABELS = (("kubernetes.io/arch", "arm64", "arm64 nodes"), ("disktype", "ssd", "nodes with SSDs"),
               ("node.kubernetes.io/instance-type", "m5.xlarge", "m5.xlarge nodes"),
               ("topology.kubernetes.io/zone", "eu-west-1a", "zone eu-west-1a"))


def node_selector(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    pod = pod_of(target)
    present = as_dict(pod.get("nodeSelector"))
    options = [n for n in NODE_LABELS if n[0] not in present]
    if not pod or not options:
        return None
    label, value, nodes = rng.choice(options)
    path = f"{pod_pointer(target)}/nodeSelector"
    asks = [f"schedule the pods only on {nodes} (nodeSelector {label}={value})", f"add a nodeSelector {label}: {value}",
            f"pin the pods to {nodes} with nodeSelector {label}={value}"]
    return Change("node-selector", asks, [f"nodeSelector {label}={value}"], ["it only runs well on " + nodes],
                  after=at(target, lambda d: pod_of(d).setdefault("nodeSelector", {}).update({label: value})),
                  objects=[wants(target, fields={f"{path}{ptr(label)}": value})], area="nodeSelector",
                  changes=[place(target, named(target, path))])


def tolerations(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    pod = pod_of(target)
    if not pod or any(dig(t, "key") in ("dedicated", "spot") for t in as_list(pod.get("tolerations"))):
        return None
    if rng.random() < 0.6:
        team = rng.choice(pools.TEAMS)
        new = {"key": "dedicated", "operator": "Equal", "value": team, "effect": "NoSchedule"}
        taint = f"dedicated={team}:NoSchedule"
    else:
        new = {"key": "spot", "operator": "Exists", "effect": "NoSchedule"}
        taint = "spot:NoSchedule (operator Exists)"
    said = f"the {taint} taint"
    path = f"{pod_pointer(target)}/tolerations"
    at_index = len(as_list(pod.get("tolerations")))
    asks = [f"tolerate {said}", f"add a toleration for {said}", f"let the pods schedule onto nodes with {said}"]
    return Change("tolerations", asks, [f"+toleration {taint}", f"tolerate {taint}"],
                  ["those nodes are reserved for it"],
                  after=at(target, lambda d: pod_of(d).setdefault("tolerations", []).append(dict(new))),
                  objects=[wants(target, fields={f"{path}/{at_index}/{k}": v for k, v in new.items()})],
                  area="tolerations", changes=[place(target, named(target, path))])


def strategy(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    kind = target.get("kind")
    spec = as_dict(target.get("spec"))
    if kind == "Deployment":
        field_name = "strategy"
        options = [({"type": "Recreate"}, "use the Recreate strategy (stop the old pods before new ones start)"),
                   ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                    "roll out with maxSurge 1 and maxUnavailable 0"),
                   ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "50%", "maxUnavailable": "25%"}},
                    "use a rolling update with maxSurge 50% and maxUnavailable 25%")]
    elif kind == "StatefulSet":
        field_name = "updateStrategy"
        options = [({"type": "OnDelete"}, "switch the update strategy to OnDelete")]
        if spec.get("replicas", 1) > 1:
            partition = spec["replicas"] - 1
            options.append(({"type": "RollingUpdate", "rollingUpdate": {"partition": partition}},
                            f"use a partitioned rolling update with partition {partition}"))
    elif kind == "DaemonSet":
        field_name = "updateStrategy"
        options = [({"type": "OnDelete"}, "switch the update strategy to OnDelete"),
                   ({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}},
                    "update at most 2 nodes at a time (rolling update, maxUnavailable 2)")]
    else:
        return None
    options = [o for o in options if o[0] != spec.get(field_name)]
    new, said = rng.choice(options)
    fields = {f"/spec/{field_name}/type": new["type"]}
    fields.update({f"/spec/{field_name}/rollingUpdate/{k}": v for k, v in as_dict(new.get("rollingUpdate")).items()})
    return Change("strategy", [said], [f"{field_name}: {new['type']}" + "".join(
        f" {k}={v}" for k, v in as_dict(new.get("rollingUpdate")).items())], ["the last rollout took the site down"],
        after=at(target, lambda d: d["spec"].update({field_name: new})), area="strategy",
        objects=[wants(target, fields=fields)], changes=[place(target, f"/spec/{field_name}")])


POD_OPS: tuple[Callable[[random.Random, Docs, dict], Change | None], ...] = (
    hardening, volume, sidecar, init_container, node_selector, tolerations, strategy)
