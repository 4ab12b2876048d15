"""Builders for Kubernetes objects as plain dicts, hardened by default.

Every pod built here passes the ``restricted`` Pod Security profile and the ``best-practice`` rules
(requests and a memory limit, pinned image, probes for long-running containers, read-only root
filesystem with emptyDir for the paths an image writes), because the student learns what it is shown.
"""

from __future__ import annotations

from typing import Any

from kubedistill.context.pools import MEMORY_LIMIT_FACTOR, Image
from kubedistill.verify.quantity import parse_quantity

APP_LABEL = "app.kubernetes.io/name"


def meta(name: str, namespace: str | None = None, labels: dict | None = None, **extra: Any) -> dict:
    out: dict[str, Any] = {"name": name}
    if namespace and namespace != "default":
        out["namespace"] = namespace
    if labels:
        out["labels"] = dict(labels)
    out.update(extra)
    return out


def obj(api_version: str, kind: str, metadata: dict, **body: Any) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}


def memory_limit(request: str) -> str:
    value = parse_quantity(request)
    assert value is not None
    mib = int(value * MEMORY_LIMIT_FACTOR / 2**20)
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def probe(image: Image, port_ref: Any) -> dict:
    kind = image.probe[0]
    if kind == "http":
        return {"httpGet": {"path": image.probe[1], "port": port_ref}}
    if kind == "exec":
        return {"exec": {"command": list(image.probe[1])}}
    return {"tcpSocket": {"port": port_ref}}


def container(name: str, image: Image, tag: str, *, cpu: str, memory: str, limits: dict | None = None,
              env: dict[str, str] | None = None, secret_env: dict[str, tuple[str, str]] | None = None,
              env_from: list[dict] | None = None, mounts: list[dict] | None = None, probes: bool = True,
              port: int | None = None) -> dict:
    """One container; ``secret_env`` maps a variable to (secret name, key)."""
    c: dict[str, Any] = {"name": name, "image": f"{image.repository}:{tag}"}
    if image.command:
        if image.role in ("batch",):
            c["command"] = list(image.command)
        else:
            c["args"] = list(image.command)
    port = port or image.port
    if port:
        c["ports"] = [{"name": image.port_name, "containerPort": port}]
    variables = [{"name": k, "value": v} for k, v in (env or {}).items()]
    variables += [{"name": k, "valueFrom": {"secretKeyRef": {"name": s, "key": key}}}
                  for k, (s, key) in (secret_env or {}).items()]
    if variables:
        c["env"] = variables
    if env_from:
        c["envFrom"] = env_from
    c["resources"] = {"requests": {"cpu": cpu, "memory": memory},
                      "limits": limits or {"memory": memory_limit(memory)}}
    if probes and port:
        ref = image.port_name
        c["readinessProbe"] = probe(image, ref)
        c["livenessProbe"] = probe(image, ref)
    c["securityContext"] = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}}
    if mounts:
        c["volumeMounts"] = mounts
    return c


def scratch_volumes(image: Image, skip: tuple[str, ...] = ()) -> tuple[list[dict], list[dict]]:
    """emptyDir volumes and mounts for the paths the image writes (the root filesystem is read-only)."""
    volumes, mounts = [], []
    for i, path in enumerate(p for p in image.writable if p not in skip):
        name = "tmp" if path == "/tmp" else f"scratch-{i}"
        volumes.append({"name": name, "emptyDir": {}})
        mounts.append({"name": name, "mountPath": path})
    return volumes, mounts


def pod_spec(containers: list[dict], image: Image, volumes: list[dict] | None = None,
             service_account: str | None = None, restart: str | None = None, fs_group: bool = False) -> dict:
    spec: dict[str, Any] = {}
    if service_account:
        spec["serviceAccountName"] = service_account
    else:
        spec["automountServiceAccountToken"] = False
    if restart:
        spec["restartPolicy"] = restart
    security: dict[str, Any] = {"runAsNonRoot": True, "runAsUser": image.uid}
    if fs_group:
        security["fsGroup"] = image.uid
    security["seccompProfile"] = {"type": "RuntimeDefault"}
    spec["securityContext"] = security
    spec["containers"] = containers
    if volumes:
        spec["volumes"] = volumes
    return spec


def template(labels: dict, spec: dict) -> dict:
    return {"metadata": {"labels": dict(labels)}, "spec": spec}


def service(name: str, namespace: str, selector: dict, ports: list[tuple[str, int, Any]], svc_type: str = "ClusterIP",
            headless: bool = False, node_port: int | None = None, labels: dict | None = None) -> dict:
    spec: dict[str, Any] = {}
    if svc_type != "ClusterIP":
        spec["type"] = svc_type
    if headless:
        spec["clusterIP"] = "None"
    spec["selector"] = dict(selector)
    spec["ports"] = []
    for port_name, port, target in ports:
        entry: dict[str, Any] = {"name": port_name, "port": port, "targetPort": target}
        if node_port and svc_type == "NodePort":
            entry["nodePort"] = node_port
        spec["ports"].append(entry)
    return obj("v1", "Service", meta(name, namespace, labels), spec=spec)


def ingress(name: str, namespace: str, host: str, path: str, service_name: str, port: int,
            tls_secret: str | None = None, class_name: str | None = "nginx") -> dict:
    spec: dict[str, Any] = {}
    if class_name:
        spec["ingressClassName"] = class_name
    if tls_secret:
        spec["tls"] = [{"hosts": [host], "secretName": tls_secret}]
    spec["rules"] = [{"host": host, "http": {"paths": [{
        "path": path, "pathType": "Prefix",
        "backend": {"service": {"name": service_name, "port": {"number": port}}}}]}}]
    return obj("networking.k8s.io/v1", "Ingress", meta(name, namespace), spec=spec)


def hpa(name: str, namespace: str, target_kind: str, target: str, low: int, high: int, cpu: int) -> dict:
    return obj("autoscaling/v2", "HorizontalPodAutoscaler", meta(name, namespace), spec={
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": target_kind, "name": target},
        "minReplicas": low, "maxReplicas": high,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": cpu}}}]})


def pvc_spec(size: str, access_mode: str = "ReadWriteOnce", storage_class: str | None = None) -> dict:
    spec: dict[str, Any] = {"accessModes": [access_mode]}
    if storage_class:
        spec["storageClassName"] = storage_class
    spec["resources"] = {"requests": {"storage": size}}
    return spec
