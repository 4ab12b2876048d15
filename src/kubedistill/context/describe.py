"""Instructions from task specs: varied natural language that states exactly what the spec requires.

The offline teacher renders every instruction here, and the rule-based describer for real manifests
renders from a derived spec, so both speak the same language. Variety comes from frames (terse, detailed,
bullet list, conversational, with team context ...), synonyms, unit styles and clause order; no frame adds
a requirement the spec does not hold, and no clause drops one.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from kubedistill.context import pools
from kubedistill.context.spec import ObjectSpec, TaskSpec
from kubedistill.verify.quantity import parse_quantity

KIND_NOUNS = {
    "Deployment": ("Deployment", "deployment"), "StatefulSet": ("StatefulSet", "stateful set"),
    "DaemonSet": ("DaemonSet", "daemonset"), "Job": ("Job", "batch job"), "CronJob": ("CronJob", "cron job"),
    "Pod": ("Pod", "pod"), "Service": ("Service", "service"), "Ingress": ("Ingress", "ingress"),
    "ConfigMap": ("ConfigMap", "config map"), "Secret": ("Secret", "secret"),
    "PersistentVolumeClaim": ("PersistentVolumeClaim", "PVC"), "HorizontalPodAutoscaler": ("HorizontalPodAutoscaler",
                                                                                          "HPA"),
    "PodDisruptionBudget": ("PodDisruptionBudget", "PDB"), "NetworkPolicy": ("NetworkPolicy", "network policy"),
    "ServiceAccount": ("ServiceAccount", "service account"), "Role": ("Role", "role"),
    "RoleBinding": ("RoleBinding", "role binding"), "ClusterRole": ("ClusterRole", "cluster role"),
    "ClusterRoleBinding": ("ClusterRoleBinding", "cluster role binding"), "Namespace": ("Namespace", "namespace"),
    "ResourceQuota": ("ResourceQuota", "resource quota"), "LimitRange": ("LimitRange", "limit range"),
}


def article(noun: str) -> str:
    vowel_sound = noun[:1].lower() in "aeiou" or noun.startswith(("HPA", "HTTP", "NGINX", "MySQL", "RBAC"))
    return ("an " if vowel_sound else "a ") + noun


def _value(value: object) -> str:
    text = str(value)
    return f'"{text}"' if any(ch in text for ch in " ,#:") else text


def _cpu(rng: random.Random, value: str) -> str:
    q = parse_quantity(value)
    if q is None:
        return value
    milli = int(q * 1000)
    options = [f"{value} CPU", f"{milli} millicores" if milli < 1000 else f"{milli // 1000} CPU core" +
               ("s" if milli > 1000 else ""), f"{value} of CPU"]
    if milli % 1000:
        options.append(f"{q.numerator / q.denominator:g} CPU")
    return rng.choice(options)


def _memory(rng: random.Random, value: str) -> str:
    match = re.fullmatch(r"(\d+)(Mi|Gi)", value)
    if not match:
        return value
    number, unit = match.groups()
    return rng.choice([value, f"{number} {unit}B", f"{number}{unit}B" if rng.random() < 0.5 else value])


def _access(rng: random.Random, mode: str) -> str:
    words = {"ReadWriteOnce": ("ReadWriteOnce", "read-write by a single node (ReadWriteOnce)"),
             "ReadWriteMany": ("ReadWriteMany", "shared read-write access (ReadWriteMany)"),
             "ReadOnlyMany": ("ReadOnlyMany", "read-only access from many nodes (ReadOnlyMany)"),
             "ReadWriteOncePod": ("ReadWriteOncePod",)}
    return rng.choice(words.get(mode, (mode,)))


def _schedule(rng: random.Random, cron: str) -> str:
    for expression, phrases in pools.SCHEDULES:
        if expression == cron:
            return rng.choice([*phrases, f'on the schedule "{cron}"'])
    return f'on the cron schedule "{cron}"'


FIELD_PHRASES: dict[str, Callable[[random.Random, object], str]] = {
    "/spec/minReplicas": lambda rng, v: rng.choice([f"with at least {v} replicas", f"with a minimum of {v} replicas"]),
    "/spec/maxReplicas": lambda rng, v: rng.choice([f"with at most {v} replicas", f"up to {v} replicas"]),
    "/spec/metrics/0/resource/target/averageUtilization": lambda rng, v: rng.choice(
        [f"targeting {v}% average CPU utilization", f"scaling on CPU at {v}%"]),
    "/spec/minAvailable": lambda rng, v: rng.choice([f"keeping at least {v} pods available",
                                                     f"minAvailable {v}"]),
    "/spec/maxUnavailable": lambda rng, v: rng.choice([f"allowing at most {v} pod to be unavailable",
                                                       f"maxUnavailable {v}"]),
    "/spec/selector/matchLabels/app.kubernetes.io~1name": lambda rng, v: f"for pods labeled app.kubernetes.io/name={v}",
    "/spec/selector/app.kubernetes.io~1name": lambda rng, v: rng.choice(
        [f"selecting pods labeled app.kubernetes.io/name={v}", f"routing to pods with app.kubernetes.io/name: {v}"]),
    "/spec/podSelector/matchLabels/app.kubernetes.io~1name": lambda rng, v: f"protecting the pods labeled "
                                                                            f"app.kubernetes.io/name={v}",
    "/spec/ingress/0/from/0/podSelector/matchLabels/app.kubernetes.io~1name": lambda rng, v: rng.choice(
        [f"only allowing traffic from pods labeled app.kubernetes.io/name={v}",
         f"accepting ingress only from app.kubernetes.io/name={v} pods"]),
    "/spec/ingress/0/ports/0/port": lambda rng, v: f"on TCP port {v}",
    "/spec/concurrencyPolicy": lambda rng, v: rng.choice(["never running two jobs at once",
                                                          "with concurrencyPolicy Forbid"]),
    "/spec/backoffLimit": lambda rng, v: rng.choice([f"with a backoff limit of {v}", f"retrying at most {v} times"]),
    "/spec/jobTemplate/spec/backoffLimit": lambda rng, v: rng.choice([f"with a backoff limit of {v}",
                                                                      f"retrying at most {v} times per run"]),
    "/spec/jobTemplate/spec/template/spec/serviceAccountName": lambda rng, v: f"running as the {v} service account",
    "/spec/externalName": lambda rng, v: rng.choice([f"pointing to {v}", f"that resolves to the external host {v}"]),
    "/spec/clusterIP": lambda rng, v: "headless (clusterIP: None)",
    "/spec/ports/0/nodePort": lambda rng, v: f"on node port {v}",
    "/spec/storageClassName": lambda rng, v: rng.choice([f"using the {v} storage class", f"storageClassName {v}"]),
    "/spec/tls/0/secretName": lambda rng, v: f"terminating TLS with the secret {v}",
    "/spec/rules/0/http/paths/0/backend/service/port/number": lambda rng, v: f"on service port {v}",
    "/rules/0/resources": lambda rng, v: rng.choice([f"granting access to {_join(list(v))}",
                                                     f"covering the resources {', '.join(v)}"]),
    "/rules/0/verbs": lambda rng, v: rng.choice([f"with the verbs {', '.join(v)}", f"allowing {_join(list(v))}"]),
    "/spec/hard/requests.cpu": lambda rng, v: f"with a total CPU request quota of {v}",
    "/spec/hard/requests.memory": lambda rng, v: f"with a total memory request quota of {v}",
    "/spec/hard/pods": lambda rng, v: rng.choice([f"allowing at most {v} pods", f"with a limit of {v} pods"]),
    "/spec/limits/0/defaultRequest/cpu": lambda rng, v: f"with a default container CPU request of {v}",
    "/spec/limits/0/defaultRequest/memory": lambda rng, v: f"with a default container memory request of {v}",
}


def _field_phrase(rng: random.Random, pointer: str, value: object) -> str:
    if pointer in FIELD_PHRASES:
        return FIELD_PHRASES[pointer](rng, value)
    if pointer.startswith("/data/"):
        return rng.choice([f"with {pointer[6:]}={_value(value)}", f"with the key {pointer[6:]} set to {_value(value)}"])
    if pointer.startswith("/stringData/"):
        return rng.choice([f"with the key {pointer[12:]} set to {_value(value)}",
                           f"holding {pointer[12:]}={_value(value)}"])
    return f"{pointer.strip('/').replace('/', '.')} set to {value}"


def clauses(rng: random.Random, o: ObjectSpec) -> list[str]:
    """One phrase per requirement of an object spec, in random order (name and namespace first)."""
    head, body = [], []
    if o.name:
        head.append(rng.choice([f"named {o.name}", f"called {o.name}", f"with the name {o.name}"]))
    if o.namespace:
        head.append(rng.choice([f"in the {o.namespace} namespace", f"in namespace {o.namespace}"]))
    if o.image:
        body.append(rng.choice([f"running {o.image}", f"using the {o.image} image", f"with image {o.image}"]))
    if o.replicas is not None:
        body.append(rng.choice([f"with {o.replicas} replica{'s' * (o.replicas != 1)}",
                                f"running {o.replicas} pod{'s' * (o.replicas != 1)}", f"replicas: {o.replicas}"]))
    if o.ports:
        ports = ", ".join(map(str, o.ports))
        body.append(rng.choice([f"on port {ports}", f"exposing port {ports}", f"listening on {ports}"])
                    if o.kind != "Service" else rng.choice([f"on port {ports}", f"exposing port {ports}"]))
    if o.target_ports:
        body.append(rng.choice([f"forwarding to container port {o.target_ports[0]}",
                                f"with targetPort {o.target_ports[0]}"]))
    if o.service_type:
        body.append(rng.choice([f"of type {o.service_type}", f"as a {o.service_type} service"]))
    for key, value in o.env.items():
        body.append(rng.choice([f"with the environment variable {key}={value}", f"setting {key} to {value}"]))
    if o.requests:
        parts = [_cpu(rng, o.requests["cpu"]) if k == "cpu" else _memory(rng, v) + " of memory"
                 for k, v in o.requests.items()]
        body.append(rng.choice(["requesting ", "with requests of "]) + " and ".join(parts))
    if o.limits:
        body.append("limited to " + " and ".join(_memory(rng, v) + " of memory" if k == "memory" else _cpu(rng, v)
                                                 for k, v in o.limits.items()))
    if o.storage:
        size = _memory(rng, o.storage)
        body.append(rng.choice([f"with {size} of storage", f"with a {size} volume"]))
    for mode in o.access_modes:
        body.append(f"with access mode {_access(rng, mode)}")
    if o.schedule:
        body.append(rng.choice(["running ", "scheduled ", "that runs "]) + _schedule(rng, o.schedule))
    if o.host:
        body.append(rng.choice([f"for the host {o.host}", f"serving {o.host}"]))
    if o.path:
        body.append(rng.choice([f"on path {o.path}", f"with path prefix {o.path}"]))
    for kind, name in o.refs.items():
        body.append(_ref_phrase(rng, o.kind, kind, name))
    for key, value in o.labels.items():
        body.append(f"labeled {key}={value}")
    if o.run_as_non_root:
        body.append(rng.choice(["running as a non-root user", "that must not run as root"]))
    if o.read_only_root_fs:
        body.append(rng.choice(["with a read-only root filesystem", "with readOnlyRootFilesystem enabled"]))
    for pointer, value in o.fields.items():
        body.append(_field_phrase(rng, pointer, value))
    rng.shuffle(body)
    return head + body


def _ref_phrase(rng: random.Random, owner: str, kind: str, name: str) -> str:
    if owner == "Ingress" and kind == "Service":
        return rng.choice([f"routing to the {name} service", f"sending traffic to Service {name}"])
    if owner == "HorizontalPodAutoscaler":
        return rng.choice([f"scaling the {name} {kind}", f"targeting the {kind} {name}"])
    if kind in ("Role", "ClusterRole"):
        return f"bound to the {kind} {name}"
    if kind in ("ConfigMap", "Secret"):
        return rng.choice([f"loading its environment from the {kind} {name}", f"reading config from {kind} {name}"])
    if kind == "PersistentVolumeClaim":
        return f"mounting the PVC {name}"
    return f"referencing {kind} {name}"


def object_phrase(rng: random.Random, o: ObjectSpec, software: str = "") -> tuple[str, list[str]]:
    noun = rng.choice(KIND_NOUNS.get(o.kind, (o.kind,)))
    if software and o.kind in ("Deployment", "StatefulSet", "DaemonSet", "Pod") and rng.random() < 0.4:
        noun = f"{software} {noun}"
    return article(noun), clauses(rng, o)


FRAMES_SINGLE = (
    "Create {obj} {clauses}.",
    "Write a Kubernetes manifest for {obj} {clauses}.",
    "I need {obj} {clauses}.",
    "Generate the YAML for {obj} {clauses}.",
    "{Obj}: {terse}.",
    "Please define {obj} {clauses}. Output only the YAML.",
    "Could you give me {obj} {clauses}? Thanks!",
    "Our {team} team runs this on Kubernetes. We need {obj} {clauses}.",
    "Set up {obj} {clauses}.",
    "Need a k8s manifest: {obj}, {terse}.",
    "Produce a production-ready manifest for {obj} {clauses}, following Kubernetes best practices.",
    "Make {obj} with these requirements:\n{bullets}",
    "Hey! Can you write {obj} for me? It should be {clauses}.",
    "Requirements for {obj}:\n{bullets}\nReturn the manifest.",
)
FRAMES_BUNDLE = (
    "Create {noun}:\n{bullets}",
    "Write Kubernetes manifests for {noun}. {sentences}",
    "I need {noun}. {sentences}",
    "Generate YAML for {noun} with the following objects:\n{bullets}",
    "Our {team} team is deploying {software_or_noun}. Please write {noun}. {sentences}",
    "Set up {noun}: {terse}.",
    "Could you put together {noun}? {sentences} Thanks!",
    "Produce production-ready manifests for {noun}. {sentences}",
    "Please define {noun} in one multi-document YAML.\n{bullets}",
    "{Noun}, please. {sentences}",
    "Need k8s manifests for {noun}: {terse}.",
    "Requirements ({noun}):\n{bullets}\nReturn all objects in one YAML stream.",
)


def render_instruction(spec: TaskSpec, rng: random.Random, nouns: tuple[str, ...] = (), software: str = "") -> str:
    """A natural-language request that states exactly the requirements of ``spec``."""
    team = rng.choice(pools.TEAMS)
    if len(spec.objects) == 1:
        obj, items = object_phrase(rng, spec.objects[0], software)
        if nouns and rng.random() < 0.5:
            obj = nouns[rng.randrange(len(nouns))]
        frame = rng.choice(FRAMES_SINGLE)
        text = frame.format(obj=obj, Obj=obj[:1].upper() + obj[1:], clauses=_join(items), terse=", ".join(items),
                            bullets="\n".join(f"- {c}" for c in items), team=team)
        return _tidy(text)
    phrases = [object_phrase(rng, o, software) for o in spec.objects]
    rendered = [f"{obj} {_join(items)}".strip() for obj, items in phrases]
    noun = rng.choice(nouns) if nouns else "a set of Kubernetes objects"
    frame = rng.choice(FRAMES_BUNDLE)
    text = frame.format(noun=noun, Noun=noun[:1].upper() + noun[1:], team=team,
                        software_or_noun=software or noun, bullets="\n".join(f"- {p}" for p in rendered),
                        sentences=" ".join(f"{_capital(p)}." for p in rendered), terse="; ".join(rendered))
    return _tidy(text)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([.,:?!])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.replace(" .", ".").strip()
