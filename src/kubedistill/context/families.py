"""Resource families: what a task can ask for, sampled as a spec plus the reference manifest.

A family builder draws concrete values from the pools, builds the hardened reference objects, and
states in a ``TaskSpec`` only what the instruction will mention (the rest are sensible defaults the
student should learn to add). ``bundles.py`` adds the multi-object families.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from kubedistill.context import pools
from kubedistill.context import render as r
from kubedistill.context.pools import Image
from kubedistill.context.spec import ObjectSpec, TaskSpec


@dataclass
class Task:
    """One sampled task: the requirements and the reference manifest that meets them."""

    family: str
    spec: TaskSpec
    objects: list[dict]
    software: str = ""
    """How the instruction names the software ("PostgreSQL"), if any."""


@dataclass(frozen=True)
class Family:
    name: str
    kinds: tuple[str, ...]
    nouns: tuple[str, ...]
    """Noun phrases for instructions ("a Deployment", "a deployment manifest")."""
    build: Callable[[random.Random], Task]
    weight: float = 1.0

    def sample(self, rng: random.Random) -> Task:
        """A task whose manifest holds no namespace the instruction does not ask for."""
        task = self.build(rng)
        if not any(o.namespace for o in task.spec.objects):
            for obj in task.objects:
                obj.get("metadata", {}).pop("namespace", None)
                for subject in obj.get("subjects", []) or []:
                    if subject.get("kind") == "ServiceAccount":
                        subject["namespace"] = "default"
        return task


FAMILIES: dict[str, Family] = {}


def family(name: str, kinds: tuple[str, ...], nouns: tuple[str, ...], weight: float = 1.0) -> Callable:
    def register(fn: Callable[[random.Random], Task]) -> Callable[[random.Random], Task]:
        FAMILIES[name] = Family(name, kinds, nouns, fn, weight)
        return fn

    return register


def chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


@dataclass
class Workload:
    """Sampled values shared by the workload families."""

    name: str
    namespace: str
    image: Image
    tag: str
    replicas: int
    cpu: str
    memory: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> dict:
        return {r.APP_LABEL: self.name}

    @property
    def image_ref(self) -> str:
        return f"{self.image.repository}:{self.tag}"


def sample_workload(rng: random.Random, roles: tuple[str, ...] = ("web", "api", "cache")) -> Workload:
    image = rng.choice([i for i in pools.IMAGES if i.role in roles])
    name = image.key if chance(rng, 0.3) else rng.choice(pools.APP_NAMES)
    env = {}
    if chance(rng, 0.35):
        key = rng.choice(pools.CONFIG_KEYS)
        env[key] = rng.choice(pools.CONFIG_VALUES[key])
    return Workload(name, rng.choice(pools.NAMESPACES), image, rng.choice(image.tags), rng.choice(pools.REPLICAS),
                    rng.choice(pools.CPU_REQUESTS), rng.choice(pools.MEMORY_REQUESTS), env)


def workload_spec(rng: random.Random, w: Workload, kind: str, replicas: bool = True) -> ObjectSpec:
    """The requirements an instruction states about a workload: always kind and image, the rest by chance."""
    spec = ObjectSpec(kind=kind, image=w.image_ref if chance(rng, 0.85) else w.image.repository)
    if chance(rng, 0.8):
        spec.name = w.name
    if w.namespace != "default" and chance(rng, 0.7):
        spec.namespace = w.namespace
    if replicas and chance(rng, 0.8):
        spec.replicas = w.replicas
    if w.image.port and chance(rng, 0.6):
        spec.ports = [w.image.port]
    if w.env:
        spec.env = dict(w.env)
    if chance(rng, 0.45):
        spec.requests = {"cpu": w.cpu, "memory": w.memory}
    if chance(rng, 0.25):
        spec.limits = {"memory": r.memory_limit(w.memory)}
    if chance(rng, 0.2):
        spec.run_as_non_root = True
    if chance(rng, 0.15):
        spec.read_only_root_fs = True
    return spec


def pod_template_spec(w: Workload, *, restart: str | None = None, service_account: str | None = None,
                      extra_volumes: list[dict] | None = None, extra_mounts: list[dict] | None = None,
                      env_from: list[dict] | None = None, secret_env: dict | None = None,
                      skip_scratch: tuple[str, ...] = ()) -> dict:
    volumes, mounts = r.scratch_volumes(w.image, skip_scratch)
    c = r.container(w.image.key, w.image, w.tag, cpu=w.cpu, memory=w.memory,
                    env={**w.image.env, **w.env}, secret_env=secret_env, env_from=env_from,
                    mounts=mounts + (extra_mounts or []), probes=restart is None)
    return r.pod_spec([c], w.image, volumes + (extra_volumes or []), service_account, restart,
                      fs_group=bool(extra_mounts))


def deployment(w: Workload, spec: dict | None = None) -> dict:
    return r.obj("apps/v1", "Deployment", r.meta(w.name, w.namespace, w.labels), spec={
        "replicas": w.replicas, "selector": {"matchLabels": w.labels},
        "template": r.template(w.labels, spec or pod_template_spec(w))})


@family("deployment", ("Deployment",), ("a Deployment", "a Kubernetes Deployment", "a deployment"), 3.0)
def _deployment(rng: random.Random) -> Task:
    w = sample_workload(rng)
    return Task("deployment", TaskSpec("deployment", [workload_spec(rng, w, "Deployment")]), [deployment(w)],
                rng.choice(w.image.aliases))


@family("pod", ("Pod",), ("a Pod", "a single pod", "a bare Pod"))
def _pod(rng: random.Random) -> Task:
    w = sample_workload(rng)
    spec = workload_spec(rng, w, "Pod", replicas=False)
    pod = r.obj("v1", "Pod", r.meta(w.name, w.namespace, w.labels), spec=pod_template_spec(w))
    return Task("pod", TaskSpec("pod", [spec]), [pod], rng.choice(w.image.aliases))


@family("daemonset", ("DaemonSet",), ("a DaemonSet", "a daemonset that runs on every node", "a node agent DaemonSet"))
def _daemonset(rng: random.Random) -> Task:
    w = sample_workload(rng, ("agent",))
    w.name = w.image.key
    spec = workload_spec(rng, w, "DaemonSet", replicas=False)
    ds = r.obj("apps/v1", "DaemonSet", r.meta(w.name, w.namespace, w.labels), spec={
        "selector": {"matchLabels": w.labels}, "template": r.template(w.labels, pod_template_spec(w))})
    return Task("daemonset", TaskSpec("daemonset", [spec]), [ds], rng.choice(w.image.aliases))


def _job_body(rng: random.Random, w: Workload, spec: ObjectSpec, service_account: str | None = None) -> dict:
    backoff = rng.choice((0, 1, 2, 3, 4, 6))
    body: dict = {"backoffLimit": backoff}
    if chance(rng, 0.4):
        spec.fields["/spec/backoffLimit" if spec.kind == "Job" else "/spec/jobTemplate/spec/backoffLimit"] = backoff
    if chance(rng, 0.3):
        body["ttlSecondsAfterFinished"] = rng.choice((300, 3600, 86400))
    body["template"] = {"spec": pod_template_spec(w, restart=rng.choice(("Never", "OnFailure")),
                                                  service_account=service_account)}
    return body


@family("job", ("Job",), ("a Job", "a one-off batch Job", "a Kubernetes Job"))
def _job(rng: random.Random) -> Task:
    w = sample_workload(rng, ("batch",))
    w.name = rng.choice(("db-migrate", "report", "cleanup", "backfill", "seed-data", "export", "smoke-test"))
    spec = workload_spec(rng, w, "Job", replicas=False)
    job = r.obj("batch/v1", "Job", r.meta(w.name, w.namespace), spec=_job_body(rng, w, spec))
    return Task("job", TaskSpec("job", [spec]), [job], rng.choice(w.image.aliases))


def cronjob(rng: random.Random, w: Workload, spec: ObjectSpec, service_account: str | None = None) -> dict:
    schedule = rng.choice(pools.SCHEDULES)[0]
    spec.schedule = schedule
    body: dict = {"schedule": schedule}
    if chance(rng, 0.5):
        body["concurrencyPolicy"] = "Forbid"
        if chance(rng, 0.5):
            spec.fields["/spec/concurrencyPolicy"] = "Forbid"
    body["jobTemplate"] = {"spec": _job_body(rng, w, spec, service_account)}
    return r.obj("batch/v1", "CronJob", r.meta(w.name, w.namespace), spec=body)


@family("cronjob", ("CronJob",), ("a CronJob", "a scheduled job", "a cron job"), 1.5)
def _cronjob(rng: random.Random) -> Task:
    w = sample_workload(rng, ("batch",))
    w.name = rng.choice(("nightly-backup", "cleanup", "report", "sync", "rotate-logs", "cache-warmup", "heartbeat"))
    spec = workload_spec(rng, w, "CronJob", replicas=False)
    return Task("cronjob", TaskSpec("cronjob", [spec]), [cronjob(rng, w, spec)], rng.choice(w.image.aliases))


SERVICE_NOUNS = {"ClusterIP": ("a ClusterIP Service", "an internal Service", "a Service"),
                 "NodePort": ("a NodePort Service", "a Service of type NodePort"),
                 "LoadBalancer": ("a LoadBalancer Service", "an external load-balanced Service")}


def _service_family(svc_type: str) -> Callable[[random.Random], Task]:
    def build(rng: random.Random) -> Task:
        w = sample_workload(rng)
        port = rng.choice((80, 8080, w.image.port or 80)) if w.image.role == "web" else w.image.port or 80
        spec = ObjectSpec(kind="Service", name=w.name, ports=[port])
        if w.namespace != "default" and chance(rng, 0.6):
            spec.namespace = w.namespace
        if svc_type != "ClusterIP" or chance(rng, 0.4):
            spec.service_type = svc_type
        if chance(rng, 0.6):
            spec.target_ports = [w.image.port]
        if chance(rng, 0.5):
            spec.fields["/spec/selector/app.kubernetes.io~1name"] = w.name
        node_port = rng.choice((30080, 30443, 31000, 32000)) if svc_type == "NodePort" and chance(rng, 0.5) else None
        if node_port:
            spec.fields["/spec/ports/0/nodePort"] = node_port
        svc = r.service(w.name, w.namespace, w.labels, [(w.image.port_name, port, w.image.port)], svc_type,
                        node_port=node_port)
        return Task(f"service-{svc_type.lower()}", TaskSpec(f"service-{svc_type.lower()}", [spec]), [svc],
                    rng.choice(w.image.aliases))

    return build


for _type in ("ClusterIP", "NodePort", "LoadBalancer"):
    family(f"service-{_type.lower()}", ("Service",), SERVICE_NOUNS[_type])(_service_family(_type))


@family("service-externalname", ("Service",), ("an ExternalName Service", "a Service alias for an external host"),
        0.5)
def _external_name(rng: random.Random) -> Task:
    name = rng.choice(("external-db", "payments-api", "legacy", "smtp"))
    host = rng.choice(("db.example.com", "api.partner.example.net", "mail.example.org"))
    spec = ObjectSpec(kind="Service", name=name, service_type="ExternalName", fields={"/spec/externalName": host})
    svc = r.obj("v1", "Service", r.meta(name), spec={"type": "ExternalName", "externalName": host})
    return Task("service-externalname", TaskSpec("service-externalname", [spec]), [svc])


@family("ingress", ("Ingress",), ("an Ingress", "an Ingress resource", "an ingress rule"), 1.5)
def _ingress(rng: random.Random) -> Task:
    service = rng.choice(pools.APP_NAMES)
    host, path, port = rng.choice(pools.HOSTS), rng.choice(pools.PATHS), rng.choice((80, 8080, 3000))
    namespace = rng.choice(pools.NAMESPACES)
    tls = f"{service}-tls" if chance(rng, 0.4) else None
    spec = ObjectSpec(kind="Ingress", host=host, path=path, refs={"Service": service},
                      fields={"/spec/rules/0/http/paths/0/backend/service/port/number": port})
    if namespace != "default" and chance(rng, 0.5):
        spec.namespace = namespace
    if tls:
        spec.fields["/spec/tls/0/secretName"] = tls
    return Task("ingress", TaskSpec("ingress", [spec]), [r.ingress(service, namespace, host, path, service, port, tls)])


@family("configmap", ("ConfigMap",), ("a ConfigMap", "a config map", "a ConfigMap with settings"))
def _configmap(rng: random.Random) -> Task:
    name = f"{rng.choice(pools.APP_NAMES)}-config"
    keys = rng.sample(pools.CONFIG_KEYS, rng.randint(1, 3))
    data = {k: rng.choice(pools.CONFIG_VALUES[k]) for k in keys}
    namespace = rng.choice(pools.NAMESPACES)
    spec = ObjectSpec(kind="ConfigMap", name=name, fields={f"/data/{k}": v for k, v in data.items()})
    if namespace != "default" and chance(rng, 0.6):
        spec.namespace = namespace
    return Task("configmap", TaskSpec("configmap", [spec]), [r.obj("v1", "ConfigMap", r.meta(name, namespace),
                                                                      data=data)])


@family("secret", ("Secret",), ("a Secret", "an Opaque Secret", "a Kubernetes Secret"))
def _secret(rng: random.Random) -> Task:
    name = rng.choice(("db-credentials", "api-keys", "smtp-auth", "registry-token", "app-secrets"))
    keys = rng.sample(("username", "password", "api-key", "token"), rng.randint(1, 2))
    data = {k: rng.choice(("change-me", "s3cr3t", "admin", "replace-this")) for k in keys}
    namespace = rng.choice(pools.NAMESPACES)
    spec = ObjectSpec(kind="Secret", name=name, fields={f"/stringData/{k}": v for k, v in data.items()})
    if namespace != "default" and chance(rng, 0.6):
        spec.namespace = namespace
    secret = r.obj("v1", "Secret", r.meta(name, namespace), type="Opaque", stringData=data)
    return Task("secret", TaskSpec("secret", [spec]), [secret])


@family("pvc", ("PersistentVolumeClaim",), ("a PersistentVolumeClaim", "a PVC", "a persistent volume claim"))
def _pvc(rng: random.Random) -> Task:
    name = f"{rng.choice(pools.APP_NAMES)}-data"
    size = rng.choice(pools.STORAGE_SIZES)
    mode = rng.choice(("ReadWriteOnce", "ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"))
    storage_class = rng.choice(pools.STORAGE_CLASSES) if chance(rng, 0.5) else None
    namespace = rng.choice(pools.NAMESPACES)
    spec = ObjectSpec(kind="PersistentVolumeClaim", name=name, storage=size, access_modes=[mode])
    if storage_class:
        spec.fields["/spec/storageClassName"] = storage_class
    if namespace != "default" and chance(rng, 0.6):
        spec.namespace = namespace
    pvc = r.obj("v1", "PersistentVolumeClaim", r.meta(name, namespace), spec=r.pvc_spec(size, mode, storage_class))
    return Task("pvc", TaskSpec("pvc", [spec]), [pvc])


@family("hpa", ("HorizontalPodAutoscaler",), ("a HorizontalPodAutoscaler", "an HPA", "an autoscaler"))
def _hpa(rng: random.Random) -> Task:
    target = rng.choice(pools.APP_NAMES)
    low = rng.choice((1, 2, 3))
    high = low + rng.choice((2, 4, 7, 9))
    cpu = rng.choice((50, 60, 70, 75, 80))
    namespace = rng.choice(pools.NAMESPACES)
    spec = ObjectSpec(kind="HorizontalPodAutoscaler", refs={"Deployment": target},
                      fields={"/spec/minReplicas": low, "/spec/maxReplicas": high,
                              "/spec/metrics/0/resource/target/averageUtilization": cpu})
    if namespace != "default" and chance(rng, 0.5):
        spec.namespace = namespace
    return Task("hpa", TaskSpec("hpa", [spec]), [r.hpa(target, namespace, "Deployment", target, low, high, cpu)])


@family("pdb", ("PodDisruptionBudget",), ("a PodDisruptionBudget", "a PDB", "a disruption budget"))
def _pdb(rng: random.Random) -> Task:
    app = rng.choice(pools.APP_NAMES)
    namespace = rng.choice(pools.NAMESPACES)
    if chance(rng, 0.6):
        key, value = "minAvailable", rng.choice((1, 2))
    else:
        key, value = "maxUnavailable", 1
    spec = ObjectSpec(kind="PodDisruptionBudget", fields={f"/spec/{key}": value,
                                                          "/spec/selector/matchLabels/app.kubernetes.io~1name": app})
    pdb = r.obj("policy/v1", "PodDisruptionBudget", r.meta(app, namespace), spec={
        key: value, "selector": {"matchLabels": {r.APP_LABEL: app}}})
    return Task("pdb", TaskSpec("pdb", [spec]), [pdb])


@family("networkpolicy", ("NetworkPolicy",), ("a NetworkPolicy", "a network policy", "a firewall rule (NetworkPolicy)"))
def _netpol(rng: random.Random) -> Task:
    app, client = rng.sample(pools.APP_NAMES, 2)
    port = rng.choice((80, 8080, 5432, 6379, 9090))
    namespace = rng.choice(pools.NAMESPACES)
    spec = ObjectSpec(kind="NetworkPolicy", fields={
        "/spec/podSelector/matchLabels/app.kubernetes.io~1name": app,
        "/spec/ingress/0/from/0/podSelector/matchLabels/app.kubernetes.io~1name": client,
        "/spec/ingress/0/ports/0/port": port})
    policy = r.obj("networking.k8s.io/v1", "NetworkPolicy", r.meta(f"allow-{client}-to-{app}", namespace), spec={
        "podSelector": {"matchLabels": {r.APP_LABEL: app}}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": {r.APP_LABEL: client}}}],
                     "ports": [{"protocol": "TCP", "port": port}]}]})
    return Task("networkpolicy", TaskSpec("networkpolicy", [spec]), [policy])


@family("namespace", ("Namespace",), ("a Namespace", "a new namespace", "a namespace definition"), 0.7)
def _namespace(rng: random.Random) -> Task:
    name = rng.choice([n for n in pools.NAMESPACES if n != "default"])
    labels = {"team": rng.choice(pools.TEAMS)}
    spec = ObjectSpec(kind="Namespace", name=name, labels=dict(labels))
    if chance(rng, 0.5):
        level = rng.choice(("restricted", "baseline"))
        labels["pod-security.kubernetes.io/enforce"] = level
        spec.labels["pod-security.kubernetes.io/enforce"] = level
    return Task("namespace", TaskSpec("namespace", [spec]), [r.obj("v1", "Namespace", r.meta(name, labels=labels))])


# Registers the multi-object families (imported for its side effect).
from kubedistill.context import bundles  # noqa: E402, F401
