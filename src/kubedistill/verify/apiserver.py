"""L2b: the API server's own validation that JSON schemas do not express.

Each check mirrors a rule in Kubernetes' ``pkg/apis/*/validation``: names and labels, ports,
quantities, selectors against template labels, restart policies, uniqueness, references inside one
object, enums the published schemas leave open, cron syntax. A manifest that passes L2 should be
accepted by ``kubectl apply --dry-run=server``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from typing import Any

from kubedistill.verify import cron
from kubedistill.verify.finding import Issue
from kubedistill.verify.names import (
    CONFIG_KEY,
    WILDCARD_HOST,
    dns_label_problem,
    dns_subdomain_problem,
    label_value_problem,
    object_name_problem,
    port_name_problem,
    qualified_name_problem,
)
from kubedistill.verify.objects import (
    LONG_RUNNING_KINDS,
    WORKLOAD_KINDS,
    as_dict,
    as_list,
    containers,
    dig,
    pod_spec,
    selector_is_empty,
    selector_matches,
)
from kubedistill.verify.pointer import escape as esc
from kubedistill.verify.quantity import parse_quantity
from kubedistill.verify.registry import check, rule

NAME = rule("L2-NAME", 2, "object name syntax")
LABEL = rule("L2-LABEL", 2, "label or annotation key/value syntax")
PORT = rule("L2-PORT", 2, "port number or name invalid")
QUANTITY = rule("L2-QUANTITY", 2, "resource quantity invalid")
REQ_LIMIT = rule("L2-REQUEST-ABOVE-LIMIT", 2, "resource request above its limit")
SELECTOR = rule("L2-SELECTOR", 2, "selector missing, empty or not matching the template labels")
RESTART = rule("L2-RESTART-POLICY", 2, "restartPolicy not allowed for this controller")
DUPLICATE = rule("L2-DUPLICATE", 2, "duplicate name inside the object")
MOUNT = rule("L2-VOLUME-MOUNT", 2, "volumeMount names no volume")
ENUM = "L2-ENUM"
CRON = rule("L2-CRON", 2, "cron schedule invalid")
PDB = rule("L2-PDB", 2, "PodDisruptionBudget sets both minAvailable and maxUnavailable")
KEY = rule("L2-CONFIG-KEY", 2, "ConfigMap/Secret key invalid")
BASE64 = rule("L2-SECRET-BASE64", 2, "Secret data value is not base64")
SERVICE = rule("L2-SERVICE", 2, "Service spec inconsistent")
INGRESS = rule("L2-INGRESS", 2, "Ingress rule invalid")
HPA = rule("L2-HPA", 2, "HorizontalPodAutoscaler bounds invalid")
PROBE = rule("L2-PROBE", 2, "probe handler invalid")
ENV = rule("L2-ENV", 2, "environment variable invalid")
REPLICAS = rule("L2-REPLICAS", 2, "replica or rollout count invalid")

NAMESPACED_EXEMPT = frozenset({"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
                               "StorageClass", "CustomResourceDefinition", "PriorityClass", "IngressClass"})
ENUMS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("imagePullPolicy",): ("Always", "IfNotPresent", "Never"),
    ("protocol",): ("TCP", "UDP", "SCTP"),
}
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")


def _enum(path: str, value: Any, allowed: tuple[str, ...], what: str) -> Iterator[Issue]:
    if value is not None and value not in allowed:
        yield Issue(ENUM, path, f"unsupported {what} {value!r}; allowed: {', '.join(allowed)}",
                    f"use one of: {', '.join(allowed)}")


# --- metadata ---------------------------------------------------------------------------------

@check(2)
def metadata_rules(doc: dict) -> Iterator[Issue]:
    meta = doc.get("metadata")
    kind = doc.get("kind")
    if not isinstance(meta, dict):
        yield Issue(NAME, "/metadata", "metadata is missing", "add metadata with a name")
        return
    name = meta.get("name")
    if name is None and not meta.get("generateName"):
        yield Issue(NAME, "/metadata/name", "metadata.name is missing", "give the object a name")
    elif isinstance(name, str) and (problem := object_name_problem(kind, name)):
        yield Issue(NAME, "/metadata/name", problem, _name_hint(kind))
    generate = meta.get("generateName")
    if name is None and isinstance(generate, str) and (problem := object_name_problem(kind, generate, prefix=True)):
        yield Issue(NAME, "/metadata/generateName", problem.replace(" names must", " name prefixes must"),
                    _name_hint(kind))
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and (problem := dns_label_problem(namespace)):
        yield Issue(NAME, "/metadata/namespace", problem, "namespaces are DNS-1123 labels")
    yield from labels_rules(meta.get("labels"), "/metadata/labels")
    for key in as_dict(meta.get("annotations")):
        if problem := qualified_name_problem(str(key)):
            yield Issue(LABEL, f"/metadata/annotations/{esc(str(key))}", problem, "fix the annotation key")


def _name_hint(kind: Any) -> str:
    if kind == "Service":
        return "start with a lowercase letter; then lowercase letters, digits and '-'"
    return "use lowercase letters, digits and '-'"


def labels_rules(labels: Any, path: str) -> Iterator[Issue]:
    for key, value in as_dict(labels).items():
        at = f"{path}/{esc(str(key))}"
        if problem := qualified_name_problem(str(key)):
            yield Issue(LABEL, at, problem, "fix the label key")
        if problem := label_value_problem(value):
            yield Issue(LABEL, at, problem, "fix the label value")


def selector_syntax(selector: Any, path: str) -> Iterator[Issue]:
    yield from labels_rules(as_dict(selector).get("matchLabels"), f"{path}/matchLabels")
    for i, expr in enumerate(as_list(as_dict(selector).get("matchExpressions"))):
        op, values = as_dict(expr).get("operator"), as_list(as_dict(expr).get("values"))
        at = f"{path}/matchExpressions/{i}"
        yield from _enum(f"{at}/operator", op, ("In", "NotIn", "Exists", "DoesNotExist"), "operator")
        if op in ("In", "NotIn") and not values:
            yield Issue(SELECTOR, f"{at}/values", f"operator {op} needs at least one value", "add values")
        if op in ("Exists", "DoesNotExist") and values:
            yield Issue(SELECTOR, f"{at}/values", f"operator {op} takes no values", "remove values")


# --- workloads --------------------------------------------------------------------------------

@check(2, WORKLOAD_KINDS)
def workload_rules(doc: dict) -> Iterator[Issue]:
    ref = pod_spec(doc)
    if ref is None:
        return
    kind = doc.get("kind")
    if ref.template_path:
        yield from labels_rules(ref.labels, f"{ref.template_path}/metadata/labels")
    yield from _selector_rules(doc, kind, ref)
    yield from _restart_rules(kind, ref)
    claims = [as_dict(as_dict(c).get("metadata")).get("name")
              for c in as_list(dig(doc, "spec", "volumeClaimTemplates"))] if kind == "StatefulSet" else []
    yield from _pod_rules(ref, {c for c in claims if isinstance(c, str)})


def _selector_rules(doc: dict, kind: str, ref: Any) -> Iterator[Issue]:
    spec = as_dict(doc.get("spec"))
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet") or (
            kind == "Job" and spec.get("manualSelector")):
        selector = spec.get("selector")
        if selector is None:
            yield Issue(SELECTOR, "/spec/selector", f"{kind} needs spec.selector",
                        "add spec.selector.matchLabels equal to the template labels")
            return
        yield from selector_syntax(selector, "/spec/selector")
        if selector_is_empty(selector):
            yield Issue(SELECTOR, "/spec/selector", "empty selector would select every pod",
                        "set matchLabels to the template labels")
        elif not selector_matches(selector, ref.labels):
            yield Issue(SELECTOR, "/spec/selector", "selector does not match template labels",
                        f"make {ref.template_path}/metadata/labels include every matchLabels pair")
    elif kind == "ReplicationController" and isinstance(spec.get("selector"), dict) and any(
            ref.labels.get(k) != v for k, v in spec["selector"].items()):
        yield Issue(SELECTOR, "/spec/selector", "selector does not match template labels",
                    "make the template labels include every selector pair")


def _restart_rules(kind: str, ref: Any) -> Iterator[Issue]:
    policy = ref.spec.get("restartPolicy")
    path = f"{ref.path}/restartPolicy"
    if kind in LONG_RUNNING_KINDS and policy not in (None, "Always"):
        yield Issue(RESTART, path, f"{kind} pods must use restartPolicy Always, not {policy!r}",
                    "remove restartPolicy or set it to Always")
    elif kind in ("Job", "CronJob") and policy not in ("OnFailure", "Never"):
        shown = "unset (defaults to Always)" if policy is None else repr(policy)
        yield Issue(RESTART, path, f"{kind} pods need restartPolicy OnFailure or Never; it is {shown}",
                    "set restartPolicy: Never (or OnFailure)")
    elif kind == "Pod":
        yield from _enum(path, policy, ("Always", "OnFailure", "Never"), "restartPolicy")


def _pod_rules(ref: Any, claim_templates: set[str]) -> Iterator[Issue]:
    """Volumes, containers and DNS policy of one pod spec; StatefulSet claim templates count as volumes."""
    spec = ref.spec
    volumes: dict[str, int] = dict.fromkeys(claim_templates, -1)
    for i, volume in enumerate(as_list(spec.get("volumes"))):
        name = as_dict(volume).get("name")
        if not isinstance(name, str):
            continue
        at = f"{ref.path}/volumes/{i}/name"
        if problem := dns_label_problem(name):
            yield Issue(NAME, at, problem, "volume names are DNS-1123 labels")
        if name in volumes:
            yield Issue(DUPLICATE, at, f"duplicate volume name {name!r}", "give each volume its own name")
        volumes[name] = i
    for key in ("hostname", "subdomain"):  # ValidatePodSpec: each becomes one label of the pod's DNS name
        value = spec.get(key)
        if isinstance(value, str) and value and (problem := dns_label_problem(value)):
            yield Issue(NAME, f"{ref.path}/{key}", f"a pod's {key} must be a DNS-1123 label: {problem}",
                        "use at most 63 lowercase letters, digits and '-'")
    seen: set[str] = set()
    for ref_c in containers(ref):
        yield from _container_rules(ref_c, volumes, seen)
    yield from _enum(f"{ref.path}/dnsPolicy", spec.get("dnsPolicy"),
                     ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"), "dnsPolicy")


def _container_rules(ref_c: Any, volumes: dict[str, int], seen: set[str]) -> Iterator[Issue]:
    c, path = ref_c.container, ref_c.path
    name = c.get("name")
    if isinstance(name, str):
        if problem := dns_label_problem(name):
            yield Issue(NAME, f"{path}/name", problem, "container names are DNS-1123 labels")
        if name in seen:
            yield Issue(DUPLICATE, f"{path}/name", f"duplicate container name {name!r}",
                        "container names must be unique across containers and initContainers")
        seen.add(name)
    if ref_c.list_name != "ephemeralContainers" and not c.get("image"):
        yield Issue("L2-REQUIRED", f"{path}/image", "container image is missing", "set image, e.g. nginx:1.27")
    yield from _enum(f"{path}/imagePullPolicy", c.get("imagePullPolicy"), ENUMS[("imagePullPolicy",)],
                     "imagePullPolicy")
    yield from _container_ports(c, path)
    yield from _resources(as_dict(c.get("resources")), f"{path}/resources")
    mounts: set[str] = set()
    for i, mount in enumerate(as_list(c.get("volumeMounts"))):
        mount = as_dict(mount)
        at = f"{path}/volumeMounts/{i}"
        if isinstance(mount.get("name"), str) and mount["name"] not in volumes:
            yield Issue(MOUNT, f"{at}/name", f"volumeMount {mount['name']!r} names no volume of the pod",
                        f"add a volume named {mount['name']!r} to spec.volumes or fix the name")
        mount_path = mount.get("mountPath")
        if isinstance(mount_path, str):
            if mount_path in mounts:
                yield Issue(DUPLICATE, f"{at}/mountPath", f"duplicate mountPath {mount_path!r}",
                            "mount each path once")
            mounts.add(mount_path)
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(c.get(probe), dict):
            yield from _probe(c[probe], f"{path}/{probe}", probe)
    for i, env in enumerate(as_list(c.get("env"))):
        env_name = as_dict(env).get("name")
        if isinstance(env_name, str) and (not env_name or "=" in env_name):
            yield Issue(ENV, f"{path}/env/{i}/name", f"invalid environment variable name {env_name!r}",
                        "use a name without '='")
        if isinstance(env, dict) and "value" in env and "valueFrom" in env:
            yield Issue(ENV, f"{path}/env/{i}", "env sets both value and valueFrom", "keep one of them")


def _container_ports(c: dict, path: str) -> Iterator[Issue]:
    names: set[str] = set()
    for i, port in enumerate(as_list(c.get("ports"))):
        port = as_dict(port)
        at = f"{path}/ports/{i}"
        number = port.get("containerPort")
        if isinstance(number, int) and not 0 < number < 65536:
            yield Issue(PORT, f"{at}/containerPort", f"containerPort {number} is not in 1-65535",
                        "use a port between 1 and 65535")
        host = port.get("hostPort")
        if isinstance(host, int) and not 0 <= host < 65536:
            yield Issue(PORT, f"{at}/hostPort", f"hostPort {host} is not in 0-65535", "fix the port")
        yield from _enum(f"{at}/protocol", port.get("protocol"), ENUMS[("protocol",)], "protocol")
        yield from _port_name(port.get("name"), f"{at}/name", names, port_name_problem,
                              "use a short lowercase name such as 'http'")


def _port_name(name: Any, path: str, seen: set, syntax: Callable[[str], str], hint: str) -> Iterator[Issue]:
    """A port name's syntax (IANA service name for containers, DNS label for Services) and uniqueness."""
    if not isinstance(name, str):
        return
    if problem := syntax(name):
        yield Issue(PORT, path, problem, hint)
    if name in seen:
        yield Issue(DUPLICATE, path, f"duplicate port name {name!r}", "name each port once")
    seen.add(name)


def _resources(res: dict, path: str) -> Iterator[Issue]:
    parsed: dict[str, dict[str, Any]] = {}
    for section in ("requests", "limits"):
        for res_name, value in as_dict(res.get(section)).items():
            quantity = parse_quantity(value)
            at = f"{path}/{section}/{esc(str(res_name))}"
            if quantity is None:
                yield Issue(QUANTITY, at, f"{value!r} is not a valid quantity",
                            "write a quantity such as 250m (CPU) or 256Mi (memory)")
            elif quantity < 0:
                yield Issue(QUANTITY, at, f"{value!r} must not be negative", "use a positive quantity")
            else:
                parsed.setdefault(section, {})[res_name] = (quantity, value)
    for res_name, (request, shown) in parsed.get("requests", {}).items():
        limit = parsed.get("limits", {}).get(res_name)
        if limit is not None and request > limit[0]:
            yield Issue(REQ_LIMIT, f"{path}/requests/{esc(str(res_name))}",
                        f"{res_name} request {shown!r} is above its limit {limit[1]!r}",
                        "raise the limit or lower the request")


def _probe(probe: dict, path: str, which: str) -> Iterator[Issue]:
    handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if h in probe]
    if len(handlers) != 1:
        message = "no handler" if not handlers else f"{len(handlers)} handlers ({', '.join(handlers)})"
        yield Issue(PROBE, path, f"{which} must have exactly one handler; it has {message}",
                    "use one of exec, httpGet, tcpSocket or grpc")
    for handler in ("httpGet", "tcpSocket"):
        port = dig(probe, handler, "port")
        yield from _port_or_name(port, f"{path}/{handler}/port")
    if which in ("livenessProbe", "startupProbe") and isinstance(probe.get("successThreshold"), int) \
            and probe["successThreshold"] != 1:
        yield Issue(PROBE, f"{path}/successThreshold", f"{which} successThreshold must be 1",
                    "remove successThreshold or set it to 1")


def _port_or_name(port: Any, path: str) -> Iterator[Issue]:
    if isinstance(port, bool):
        return
    if isinstance(port, int) and not 0 < port < 65536:
        yield Issue(PORT, path, f"port {port} is not in 1-65535", "use a port between 1 and 65535")
    elif isinstance(port, str) and (problem := port_name_problem(port)):
        yield Issue(PORT, path, problem, "name a container port, or give the number")


@check(2, ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"])
def replica_rules(doc: dict) -> Iterator[Issue]:
    spec = as_dict(doc.get("spec"))
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas < 0:
        yield Issue(REPLICAS, "/spec/replicas", f"replicas {replicas} must not be negative", "use 0 or more")
    strategy = as_dict(spec.get("strategy"))
    if doc.get("kind") == "Deployment":
        yield from _enum("/spec/strategy/type", strategy.get("type"), ("RollingUpdate", "Recreate"), "strategy")
        rolling = as_dict(strategy.get("rollingUpdate"))
        if strategy.get("type") == "Recreate" and rolling:
            yield Issue(REPLICAS, "/spec/strategy/rollingUpdate", "rollingUpdate is not allowed with Recreate",
                        "remove rollingUpdate")
        if rolling.get("maxSurge") in (0, "0%") and rolling.get("maxUnavailable") in (0, "0%"):
            yield Issue(REPLICAS, "/spec/strategy/rollingUpdate", "maxSurge and maxUnavailable may not both be 0",
                        "allow at least one pod of surge or unavailability")
    if doc.get("kind") == "StatefulSet":
        yield from _enum("/spec/podManagementPolicy", spec.get("podManagementPolicy"), ("OrderedReady", "Parallel"),
                         "podManagementPolicy")
        for i, claim in enumerate(as_list(spec.get("volumeClaimTemplates"))):
            yield from _pvc_spec(as_dict(as_dict(claim).get("spec")), f"/spec/volumeClaimTemplates/{i}/spec")


@check(2, ["CronJob"])
def cronjob_rules(doc: dict) -> Iterator[Issue]:
    spec = as_dict(doc.get("spec"))
    schedule = spec.get("schedule")
    if isinstance(schedule, str) and (problem := cron.problem(schedule)):
        yield Issue(CRON, "/spec/schedule", problem, "use five fields: minute hour day-of-month month day-of-week")
    yield from _enum("/spec/concurrencyPolicy", spec.get("concurrencyPolicy"), ("Allow", "Forbid", "Replace"),
                     "concurrencyPolicy")


@check(2, ["PodDisruptionBudget"])
def pdb_rules(doc: dict) -> Iterator[Issue]:
    spec = as_dict(doc.get("spec"))
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        yield Issue(PDB, "/spec", "minAvailable and maxUnavailable are mutually exclusive", "keep only one")
    yield from selector_syntax(spec.get("selector"), "/spec/selector")


@check(2, ["ConfigMap", "Secret"])
def config_key_rules(doc: dict) -> Iterator[Issue]:
    sections = ("data", "binaryData") if doc.get("kind") == "ConfigMap" else ("data", "stringData")
    seen: dict[str, str] = {}
    for section in sections:
        for key, value in as_dict(doc.get(section)).items():
            at = f"/{section}/{esc(str(key))}"
            if not CONFIG_KEY.match(str(key)) or len(str(key)) > 253:
                yield Issue(KEY, at, f"key {key!r} must consist of letters, digits, '-', '_' or '.'",
                            "rename the key")
            if doc.get("kind") == "ConfigMap" and key in seen:
                yield Issue(DUPLICATE, at, f"key {key!r} is in both data and binaryData", "keep it in one")
            seen[key] = section
            encoded = section == "binaryData" or (doc.get("kind") == "Secret" and section == "data")
            if encoded and isinstance(value, str) and not _is_base64(value):
                yield Issue(BASE64, at, f"{section} value of {key!r} is not valid base64",
                            "base64-encode it, or move it to stringData" if doc.get("kind") == "Secret"
                            else "base64-encode it, or move it to data")


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


@check(2, ["Service"])
def service_rules(doc: dict) -> Iterator[Issue]:
    spec = as_dict(doc.get("spec"))
    svc_type = spec.get("type", "ClusterIP")
    yield from _enum("/spec/type", spec.get("type"), SERVICE_TYPES, "Service type")
    yield from _enum("/spec/sessionAffinity", spec.get("sessionAffinity"), ("ClientIP", "None"), "sessionAffinity")
    yield from _enum("/spec/externalTrafficPolicy", spec.get("externalTrafficPolicy"), ("Cluster", "Local"),
                     "externalTrafficPolicy")
    ports = as_list(spec.get("ports"))
    if svc_type == "ExternalName":
        if not spec.get("externalName"):
            yield Issue(SERVICE, "/spec/externalName", "ExternalName Service needs spec.externalName",
                        "set externalName to a DNS name")
    elif not ports and spec.get("clusterIP") != "None":
        yield Issue(SERVICE, "/spec/ports", "Service needs at least one port", "add spec.ports")
    if svc_type == "ClusterIP" and spec.get("clusterIP") == "None" and any(
            as_dict(p).get("nodePort") for p in ports):
        yield Issue(SERVICE, "/spec/ports", "headless Service cannot have nodePort", "remove nodePort")
    names: set[Any] = set()
    pairs: set[tuple[Any, Any]] = set()
    for i, port in enumerate(ports):
        port = as_dict(port)
        at = f"/spec/ports/{i}"
        number = port.get("port")
        if isinstance(number, int) and not 0 < number < 65536:
            yield Issue(PORT, f"{at}/port", f"port {number} is not in 1-65535", "use a port between 1 and 65535")
        yield from _port_or_name(port.get("targetPort"), f"{at}/targetPort")
        node_port = port.get("nodePort")
        if isinstance(node_port, int) and node_port:
            if svc_type not in ("NodePort", "LoadBalancer"):
                yield Issue(SERVICE, f"{at}/nodePort", f"nodePort needs type NodePort or LoadBalancer, not {svc_type}",
                            "remove nodePort or change the type")
            elif not 30000 <= node_port <= 32767:
                yield Issue(PORT, f"{at}/nodePort", f"nodePort {node_port} is outside the default range 30000-32767",
                            "pick a port in 30000-32767 or omit it")
        yield from _enum(f"{at}/protocol", port.get("protocol"), ENUMS[("protocol",)], "protocol")
        name = port.get("name")
        if len(ports) > 1 and not name:
            yield Issue(SERVICE, f"{at}/name", "every port of a multi-port Service needs a name",
                        "add a name such as 'http'")
        yield from _port_name(name, f"{at}/name", names, dns_label_problem, "port names are DNS-1123 labels")
        pair = (number, port.get("protocol", "TCP"))
        if pair in pairs:
            yield Issue(DUPLICATE, f"{at}/port", f"duplicate port {number}/{pair[1]}", "expose each port once")
        pairs.add(pair)


@check(2, ["Ingress"])
def ingress_rules(doc: dict) -> Iterator[Issue]:
    spec = as_dict(doc.get("spec"))
    if not spec.get("rules") and not spec.get("defaultBackend"):
        yield Issue(INGRESS, "/spec", "Ingress needs rules or a defaultBackend", "add spec.rules")
    for i, ingress_rule in enumerate(as_list(spec.get("rules"))):
        ingress_rule = as_dict(ingress_rule)
        host = ingress_rule.get("host")
        if isinstance(host, str) and not WILDCARD_HOST.match(host) and (problem := dns_subdomain_problem(host)):
            yield Issue(INGRESS, f"/spec/rules/{i}/host", problem.replace("subdomain", "host name"),
                        "use a lowercase DNS name without scheme or port")
        for j, path in enumerate(as_list(dig(ingress_rule, "http", "paths"))):
            path = as_dict(path)
            at = f"/spec/rules/{i}/http/paths/{j}"
            yield from _enum(f"{at}/pathType", path.get("pathType"), PATH_TYPES, "pathType")
            value = path.get("path")
            if path.get("pathType") in ("Exact", "Prefix") and isinstance(value, str) and not value.startswith("/"):
                yield Issue(INGRESS, f"{at}/path", f"path {value!r} must start with '/'", "prefix the path with /")
            backend = as_dict(path.get("backend"))
            if not backend.get("service") and not backend.get("resource"):
                yield Issue(INGRESS, f"{at}/backend", "backend needs a service or a resource",
                            "set backend.service.name and backend.service.port")
            port = as_dict(dig(backend, "service", "port"))
            if backend.get("service") and ("number" in port) == ("name" in port):
                yield Issue(INGRESS, f"{at}/backend/service/port", "service port needs exactly one of number or name",
                            "set port.number (or port.name)")


@check(2, ["HorizontalPodAutoscaler"])
def hpa_rules(doc: dict) -> Iterator[Issue]:
    spec = as_dict(doc.get("spec"))
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
    if isinstance(low, int) and low < 1:
        yield Issue(HPA, "/spec/minReplicas", f"minReplicas {low} must be at least 1", "use 1 or more")
    if isinstance(high, int) and isinstance(low, int) and high < low:
        yield Issue(HPA, "/spec/maxReplicas", f"maxReplicas {high} is below minReplicas {low}",
                    "raise maxReplicas")
    for i, metric in enumerate(as_list(spec.get("metrics"))):
        yield from _enum(f"/spec/metrics/{i}/type", as_dict(metric).get("type"),
                         ("ContainerResource", "External", "Object", "Pods", "Resource"), "metric type")


@check(2, ["PersistentVolumeClaim"])
def pvc_rules(doc: dict) -> Iterator[Issue]:
    yield from _pvc_spec(as_dict(doc.get("spec")), "/spec")


def _pvc_spec(spec: dict, path: str) -> Iterator[Issue]:
    modes = as_list(spec.get("accessModes"))
    if not modes:
        yield Issue("L2-REQUIRED", f"{path}/accessModes", "at least one access mode is required",
                    "add accessModes: [ReadWriteOnce]")
    for i, mode in enumerate(modes):
        yield from _enum(f"{path}/accessModes/{i}", mode, ACCESS_MODES, "access mode")
    storage = dig(spec, "resources", "requests", "storage")
    if storage is None and not spec.get("dataSource") and not spec.get("dataSourceRef"):
        yield Issue("L2-REQUIRED", f"{path}/resources/requests/storage", "storage request is required",
                    "add resources.requests.storage, e.g. 10Gi")
    elif storage is not None and parse_quantity(storage) is None:
        yield Issue(QUANTITY, f"{path}/resources/requests/storage", f"{storage!r} is not a valid quantity",
                    "write a size such as 10Gi")
    yield from _enum(f"{path}/volumeMode", spec.get("volumeMode"), ("Filesystem", "Block"), "volumeMode")


@check(2, ["NetworkPolicy"])
def network_policy_rules(doc: dict) -> Iterator[Issue]:
    spec = as_dict(doc.get("spec"))
    yield from selector_syntax(spec.get("podSelector"), "/spec/podSelector")
    for i, policy_type in enumerate(as_list(spec.get("policyTypes"))):
        yield from _enum(f"/spec/policyTypes/{i}", policy_type, ("Ingress", "Egress"), "policy type")
