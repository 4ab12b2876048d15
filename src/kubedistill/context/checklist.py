"""A task spec as a checklist in manifest terms: which value goes in which field.

The fine-tuned student's commonest misses are values it read but put in the wrong place: "limited to 256Mi of
memory" written as ``resources.requests.memory: 256Mi`` with a limit twice as high, a Secret it was told to read
config from created but never referenced. The restated repair round, which names the field and the value, fixes
most of them; a checklist gives the same information before the first answer, read from the request's own text
(``read_request``), so it holds nothing a user did not write. Each line is one object; each item names the field
the way the manifest spells it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from kubedistill.context.spec import ObjectSpec, TaskSpec
from kubedistill.verify import pointer

CHECKLIST_HEADER = "Values this request states, each to appear in the manifest exactly as given:"

_WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"})
# referenced kind -> where a reference of that kind lives
_REF_FIELDS = {
    "ConfigMap": "envFrom configMapRef, env configMapKeyRef or a configMap volume",
    "Secret": "envFrom secretRef, env secretKeyRef or a secret volume",
    "ServiceAccount": "serviceAccountName",
    "PersistentVolumeClaim": "a persistentVolumeClaim volume (claimName)",
    "Role": "roleRef",
    "ClusterRole": "roleRef",
    "Service": "backend service name",
}


def _scalar(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))


def _joined(values: list) -> str:
    return ", ".join(str(v) for v in values)


def _field_name(path: str) -> str:
    """A JSON pointer as the dotted path a reader knows (``/spec/rules/0/host`` -> ``spec.rules[0].host``)."""
    out = ""
    for part in pointer.parts(path):
        out += f"[{part}]" if part.isdigit() else (("." if out else "") + part)
    return out


def items(obj: ObjectSpec) -> Iterator[str]:
    """The checklist items of one object, in the order a manifest states them."""
    workload = obj.kind in _WORKLOAD_KINDS
    if obj.namespace:
        yield f"metadata.namespace: {obj.namespace}"
    for key, value in obj.labels.items():
        yield f"metadata.labels.{key}: {_scalar(value)}"
    if obj.replicas is not None and obj.kind != "Pod":
        yield f"spec.replicas: {obj.replicas}"
    if obj.service_type:
        yield f"spec.type: {obj.service_type}"
    if obj.schedule:
        yield f"spec.schedule: \"{obj.schedule}\""
    if obj.image:
        pinned = ":" in obj.image.rsplit("/", 1)[-1] or "@" in obj.image
        yield f"image: {obj.image}" + ("" if pinned else " (with a pinned tag)")
    if obj.ports:
        yield f"{'containerPort' if workload else 'port'}: {_joined(obj.ports)}"
    if obj.target_ports:
        yield f"targetPort: {_joined(obj.target_ports)}"
    for name, value in obj.env.items():
        yield f"env {name}" + ("" if value is None else f" = {_scalar(value)}")
    for section, wanted in (("requests", obj.requests), ("limits", obj.limits)):
        for resource, value in wanted.items():
            yield f"resources.{section}.{resource}: {value}"
    if obj.run_as_non_root:
        yield "securityContext.runAsNonRoot: true"
    if obj.read_only_root_fs:
        yield "securityContext.readOnlyRootFilesystem: true"
    if obj.storage:
        where = "spec.resources.requests.storage" if obj.kind == "PersistentVolumeClaim" else (
            "volumeClaimTemplates storage request" if obj.kind == "StatefulSet" else "storage")
        yield f"{where}: {obj.storage}"
    if obj.access_modes:
        yield f"accessModes: {_joined(obj.access_modes)}"
    if obj.host:
        yield f"rule host: {obj.host}"
    if obj.path:
        yield f"rule path: {obj.path}"
    for kind, name in obj.refs.items():
        where = _REF_FIELDS.get(kind, "scaleTargetRef" if obj.kind == "HorizontalPodAutoscaler" else "a reference")
        yield f"refers to {kind} {name} ({where})"
    for path, value in obj.fields.items():
        yield f"{_field_name(path)}: {_scalar(value)}"


def checklist(spec: TaskSpec | None) -> str:
    """The checklist of ``spec``, or "" when it states nothing (a request the reader found no requirement in
    gets the plain prompt, word for word)."""
    if spec is None or not (spec.objects or spec.existing):
        return ""
    lines = []
    for obj in spec.objects:
        said = "; ".join(items(obj))
        lines.append(f"- {obj.kind}{' ' + obj.name if obj.name else ''}{': ' + said if said else ''}")
    lines += [f"- {ref.kind} {ref.name}: exists in the cluster already; use it, do not write it" for ref in
              spec.existing]
    return CHECKLIST_HEADER + "\n" + "\n".join(lines)
