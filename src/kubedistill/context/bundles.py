"""Multi-object families: the realistic bundles people ask for (web app, stateful database, batch with RBAC ...).

Objects in a bundle reference each other exactly as L4 checks them: Service selectors equal the pod
template labels and target the named container port, Ingress backends name the Service and its port,
HPAs name their Deployment, volumes and envFrom name the ConfigMap/Secret/PVC of the bundle.
"""

from __future__ import annotations

import random

from kubedistill.context import pools
from kubedistill.context import render as r
from kubedistill.context.families import (
    Task,
    cronjob,
    deployment,
    family,
    pod_template_spec,
    sample_workload,
    workload_spec,
)
from kubedistill.context.spec import ObjectSpec, TaskSpec


def _ns(spec: ObjectSpec, namespace: str) -> ObjectSpec:
    if namespace != "default":
        spec.namespace = namespace
    return spec


def _service_for(w, port: int = 80, svc_type: str = "ClusterIP") -> tuple[dict, ObjectSpec]:
    svc = r.service(w.name, w.namespace, w.labels, [(w.image.port_name, port, w.image.port_name)], svc_type)
    spec = ObjectSpec(kind="Service", name=w.name, ports=[port])
    if svc_type != "ClusterIP":
        spec.service_type = svc_type
    return svc, spec


@family("deployment-service", ("Deployment", "Service"),
        ("a Deployment with a Service", "a deployment exposed by a Service", "an app and its Service"), 2.5)
def _deployment_service(rng: random.Random) -> Task:
    w = sample_workload(rng)
    svc_type = rng.choice(("ClusterIP", "ClusterIP", "NodePort", "LoadBalancer"))
    port = rng.choice((80, w.image.port or 80))
    svc, svc_spec = _service_for(w, port, svc_type)
    dep_spec = workload_spec(rng, w, "Deployment")
    dep_spec.name = w.name
    return Task("deployment-service", TaskSpec("deployment-service", [dep_spec, svc_spec]), [deployment(w), svc],
                rng.choice(w.image.aliases))


@family("web-app", ("ConfigMap", "Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"),
        ("a complete web application", "a web app stack", "the manifests for a web service"), 2.0)
def _web_app(rng: random.Random) -> Task:
    w = sample_workload(rng, ("web", "api"))
    w.replicas = max(2, w.replicas)
    config = f"{w.name}-config"
    key = rng.choice(pools.CONFIG_KEYS)
    value = rng.choice(pools.CONFIG_VALUES[key])
    host, path = rng.choice(pools.HOSTS), rng.choice(pools.PATHS)
    low, high, cpu = w.replicas, w.replicas + rng.choice((3, 5, 8)), rng.choice((60, 70, 80))
    pod = pod_template_spec(w, env_from=[{"configMapRef": {"name": config}}])
    svc, svc_spec = _service_for(w, 80)
    objects = [r.obj("v1", "ConfigMap", r.meta(config, w.namespace), data={key: value}), deployment(w, pod), svc,
               r.ingress(w.name, w.namespace, host, path, w.name, 80), r.hpa(w.name, w.namespace, "Deployment", w.name,
                                                                           low, high, cpu)]
    dep_spec = workload_spec(rng, w, "Deployment", replicas=False)
    dep_spec.name = w.name
    dep_spec.refs = {"ConfigMap": config}
    specs = [_ns(ObjectSpec(kind="ConfigMap", name=config, fields={f"/data/{key}": value}), w.namespace), dep_spec,
             _ns(svc_spec, w.namespace), _ns(ObjectSpec(kind="Ingress", host=host, path=path, refs={"Service": w.name}),
                                             w.namespace),
             _ns(ObjectSpec(kind="HorizontalPodAutoscaler", refs={"Deployment": w.name},
                            fields={"/spec/minReplicas": low, "/spec/maxReplicas": high}), w.namespace)]
    return Task("web-app", TaskSpec("web-app", specs), objects, rng.choice(w.image.aliases))


@family("statefulset", ("Service", "StatefulSet"),
        ("a StatefulSet with a headless Service", "a stateful set", "a StatefulSet"), 1.5)
def _statefulset(rng: random.Random) -> Task:
    return _stateful(rng, with_secret=False)


@family("stateful-db", ("Secret", "Service", "StatefulSet"),
        ("a stateful database", "a database StatefulSet with its Secret and headless Service",
         "a database deployment with persistent storage"), 1.5)
def _stateful_db(rng: random.Random) -> Task:
    return _stateful(rng, with_secret=True)


def _stateful(rng: random.Random, with_secret: bool) -> Task:
    w = sample_workload(rng, ("db", "queue") if with_secret else ("db", "cache", "queue"))
    w.name = w.image.key
    w.replicas = rng.choice((1, 3))
    size = rng.choice(pools.STORAGE_SIZES)
    secret = f"{w.name}-auth"
    secret_env = {k: (secret, k.lower().replace("_", "-")) for k in w.image.secret_env} if with_secret else None
    data_mount = [{"name": "data", "mountPath": w.image.data_path or "/data"}]
    pod = pod_template_spec(w, extra_mounts=data_mount, secret_env=secret_env)
    headless = r.service(w.name, w.namespace, w.labels, [(w.image.port_name, w.image.port, w.image.port_name)],
                         headless=True)
    sts = r.obj("apps/v1", "StatefulSet", r.meta(w.name, w.namespace, w.labels), spec={
        "serviceName": w.name, "replicas": w.replicas, "selector": {"matchLabels": w.labels},
        "template": r.template(w.labels, pod),
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": r.pvc_spec(size)}]})
    sts_spec = workload_spec(rng, w, "StatefulSet")
    sts_spec.name, sts_spec.storage = w.name, size
    svc_spec = _ns(ObjectSpec(kind="Service", name=w.name, fields={"/spec/clusterIP": "None"}), w.namespace)
    objects, specs = [headless, sts], [svc_spec, sts_spec]
    if with_secret and secret_env:
        values = {key: "change-me" for _, key in secret_env.values()}
        objects.insert(0, r.obj("v1", "Secret", r.meta(secret, w.namespace), type="Opaque", stringData=values))
        specs.insert(0, _ns(ObjectSpec(kind="Secret", name=secret), w.namespace))
        sts_spec.refs = {"Secret": secret}
    name = "stateful-db" if with_secret else "statefulset"
    return Task(name, TaskSpec(name, specs), objects, rng.choice(w.image.aliases))


def _rbac(name: str, namespace: str, resources: list[str], verbs: list[str], cluster: bool = False):
    role_kind, binding_kind = ("ClusterRole", "ClusterRoleBinding") if cluster else ("Role", "RoleBinding")
    role_ns = None if cluster else namespace
    account = r.obj("v1", "ServiceAccount", r.meta(name, namespace))
    role = r.obj("rbac.authorization.k8s.io/v1", role_kind, r.meta(name, role_ns),
                 rules=[{"apiGroups": [""], "resources": resources, "verbs": verbs}])
    binding = r.obj("rbac.authorization.k8s.io/v1", binding_kind, r.meta(name, role_ns),
                    subjects=[{"kind": "ServiceAccount", "name": name, "namespace": namespace or "default"}],
                    roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name})
    return [account, role, binding]


@family("rbac", ("ServiceAccount", "Role", "RoleBinding"),
        ("a ServiceAccount with a Role and RoleBinding", "RBAC for a service account", "least-privilege RBAC"))
def _rbac_family(rng: random.Random) -> Task:
    name = rng.choice(("reader", "deployer", "backup", "ci-bot", "operator"))
    namespace = rng.choice(pools.NAMESPACES)
    resources = rng.sample(["pods", "configmaps", "secrets", "services", "persistentvolumeclaims"], rng.randint(1, 2))
    verbs = rng.choice((["get", "list", "watch"], ["get", "list"], ["get", "list", "watch", "create", "update"]))
    objects = _rbac(name, namespace, resources, verbs)
    specs = [_ns(ObjectSpec(kind="ServiceAccount", name=name), namespace),
             _ns(ObjectSpec(kind="Role", name=name, fields={"/rules/0/resources": resources,
                                                            "/rules/0/verbs": verbs}), namespace),
             _ns(ObjectSpec(kind="RoleBinding", refs={"Role": name}), namespace)]
    return Task("rbac", TaskSpec("rbac", specs), objects)


@family("batch-rbac", ("ServiceAccount", "Role", "RoleBinding", "CronJob"),
        ("a CronJob with its own ServiceAccount and RBAC", "a scheduled job with least-privilege access"), 1.2)
def _batch_rbac(rng: random.Random) -> Task:
    w = sample_workload(rng, ("batch",))
    w.name = rng.choice(("pod-reaper", "config-backup", "report", "cleanup"))
    objects = _rbac(w.name, w.namespace, ["pods"] if "reaper" in w.name else ["configmaps"],
                    ["get", "list", "delete"] if "reaper" in w.name else ["get", "list"])
    spec = workload_spec(rng, w, "CronJob", replicas=False)
    spec.name = w.name
    spec.fields["/spec/jobTemplate/spec/template/spec/serviceAccountName"] = w.name
    objects.append(cronjob(rng, w, spec, service_account=w.name))
    specs = [_ns(ObjectSpec(kind="ServiceAccount", name=w.name), w.namespace),
             _ns(ObjectSpec(kind="RoleBinding", refs={"Role": w.name}), w.namespace), spec]
    return Task("batch-rbac", TaskSpec("batch-rbac", specs), objects, rng.choice(w.image.aliases))


@family("monitoring-agent", ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet"),
        ("a node monitoring agent", "a DaemonSet agent with cluster-wide read access"))
def _monitoring_agent(rng: random.Random) -> Task:
    w = sample_workload(rng, ("agent",))
    w.name, w.namespace = w.image.key, rng.choice(("monitoring", "observability", "kube-system"))
    objects = _rbac(w.name, w.namespace, ["pods", "nodes"], ["get", "list", "watch"], cluster=True)
    spec = workload_spec(rng, w, "DaemonSet", replicas=False)
    spec.name = w.name
    objects.append(r.obj("apps/v1", "DaemonSet", r.meta(w.name, w.namespace, w.labels), spec={
        "selector": {"matchLabels": w.labels},
        "template": r.template(w.labels, pod_template_spec(w, service_account=w.name))}))
    specs = [_ns(ObjectSpec(kind="ServiceAccount", name=w.name), w.namespace),
             ObjectSpec(kind="ClusterRoleBinding", refs={"ClusterRole": w.name}), _ns(spec, w.namespace)]
    return Task("monitoring-agent", TaskSpec("monitoring-agent", specs), objects, rng.choice(w.image.aliases))


@family("namespace-quota", ("Namespace", "ResourceQuota", "LimitRange"),
        ("a namespace with a quota and default limits", "a team namespace with resource limits"))
def _namespace_quota(rng: random.Random) -> Task:
    name = f"team-{rng.choice(pools.TEAMS)}"
    cpu, memory, pods = rng.choice(("4", "8", "16")), rng.choice(("8Gi", "16Gi", "32Gi")), rng.choice((20, 50, 100))
    default_cpu, default_mem = rng.choice(("100m", "250m")), rng.choice(("128Mi", "256Mi"))
    objects = [
        r.obj("v1", "Namespace", r.meta(name)),
        r.obj("v1", "ResourceQuota", r.meta("quota", name), spec={"hard": {
            "requests.cpu": cpu, "requests.memory": memory, "pods": str(pods)}}),
        r.obj("v1", "LimitRange", r.meta("defaults", name), spec={"limits": [{
            "type": "Container", "defaultRequest": {"cpu": default_cpu, "memory": default_mem},
            "default": {"memory": r.memory_limit(default_mem)}}]}),
    ]
    specs = [ObjectSpec(kind="Namespace", name=name),
             ObjectSpec(kind="ResourceQuota", namespace=name, fields={"/spec/hard/requests.cpu": cpu,
                                                                      "/spec/hard/requests.memory": memory,
                                                                      "/spec/hard/pods": str(pods)}),
             ObjectSpec(kind="LimitRange", namespace=name, fields={
                 "/spec/limits/0/defaultRequest/cpu": default_cpu,
                 "/spec/limits/0/defaultRequest/memory": default_mem})]
    return Task("namespace-quota", TaskSpec("namespace-quota", specs), objects)


@family("app-pdb", ("Deployment", "PodDisruptionBudget"),
        ("a highly available Deployment with a PodDisruptionBudget", "a Deployment protected by a PDB"))
def _app_pdb(rng: random.Random) -> Task:
    w = sample_workload(rng)
    w.replicas = rng.choice((3, 4, 5))
    minimum = w.replicas - 1
    spec = workload_spec(rng, w, "Deployment")
    spec.name, spec.replicas = w.name, w.replicas
    pdb = r.obj("policy/v1", "PodDisruptionBudget", r.meta(w.name, w.namespace), spec={
        "minAvailable": minimum, "selector": {"matchLabels": w.labels}})
    specs = [spec, _ns(ObjectSpec(kind="PodDisruptionBudget", fields={"/spec/minAvailable": minimum}), w.namespace)]
    return Task("app-pdb", TaskSpec("app-pdb", specs), [deployment(w), pdb], rng.choice(w.image.aliases))


@family("app-netpol", ("Deployment", "Service", "NetworkPolicy"),
        ("a Deployment and Service locked down by a NetworkPolicy", "an isolated service with a network policy"))
def _app_netpol(rng: random.Random) -> Task:
    w = sample_workload(rng)
    client = rng.choice([n for n in pools.APP_NAMES if n != w.name])
    svc, svc_spec = _service_for(w, 80)
    policy = r.obj("networking.k8s.io/v1", "NetworkPolicy", r.meta(f"{w.name}-ingress", w.namespace), spec={
        "podSelector": {"matchLabels": w.labels}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": {r.APP_LABEL: client}}}],
                     "ports": [{"protocol": "TCP", "port": w.image.port}]}]})
    dep_spec = workload_spec(rng, w, "Deployment")
    dep_spec.name = w.name
    specs = [dep_spec, _ns(svc_spec, w.namespace), _ns(ObjectSpec(kind="NetworkPolicy", fields={
        "/spec/ingress/0/from/0/podSelector/matchLabels/app.kubernetes.io~1name": client}), w.namespace)]
    return Task("app-netpol", TaskSpec("app-netpol", specs), [deployment(w), svc, policy],
                rng.choice(w.image.aliases))


@family("app-config-secret", ("ConfigMap", "Secret", "Deployment"),
        ("a Deployment configured from a ConfigMap and a Secret", "an app with its config and credentials"))
def _app_config_secret(rng: random.Random) -> Task:
    w = sample_workload(rng, ("web", "api"))
    config, secret = f"{w.name}-config", f"{w.name}-secrets"
    key = rng.choice(pools.CONFIG_KEYS)
    value = rng.choice(pools.CONFIG_VALUES[key])
    pod = pod_template_spec(w, env_from=[{"configMapRef": {"name": config}}, {"secretRef": {"name": secret}}])
    objects = [r.obj("v1", "ConfigMap", r.meta(config, w.namespace), data={key: value}),
               r.obj("v1", "Secret", r.meta(secret, w.namespace), type="Opaque", stringData={"API_TOKEN": "change-me"}),
               deployment(w, pod)]
    spec = workload_spec(rng, w, "Deployment")
    spec.name, spec.refs = w.name, {"ConfigMap": config, "Secret": secret}
    specs = [_ns(ObjectSpec(kind="ConfigMap", name=config, fields={f"/data/{key}": value}), w.namespace),
             _ns(ObjectSpec(kind="Secret", name=secret), w.namespace), spec]
    return Task("app-config-secret", TaskSpec("app-config-secret", specs), objects, rng.choice(w.image.aliases))


@family("worker-pvc", ("PersistentVolumeClaim", "Deployment"),
        ("a Deployment with a persistent volume", "an app that keeps its data on a PVC"))
def _worker_pvc(rng: random.Random) -> Task:
    w = sample_workload(rng, ("web", "api", "monitoring"))
    w.replicas = 1
    claim, size = f"{w.name}-data", rng.choice(pools.STORAGE_SIZES)
    mount = w.image.data_path or "/data"
    pod = pod_template_spec(w, extra_volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
                            extra_mounts=[{"name": "data", "mountPath": mount}])
    spec = workload_spec(rng, w, "Deployment")
    spec.name, spec.refs = w.name, {"PersistentVolumeClaim": claim}
    objects = [r.obj("v1", "PersistentVolumeClaim", r.meta(claim, w.namespace), spec=r.pvc_spec(size)),
               deployment(w, pod)]
    specs = [_ns(ObjectSpec(kind="PersistentVolumeClaim", name=claim, storage=size), w.namespace), spec]
    return Task("worker-pvc", TaskSpec("worker-pvc", specs), objects, rng.choice(w.image.aliases))
