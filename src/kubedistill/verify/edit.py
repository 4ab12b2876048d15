"""L4 for edits: the answer changes what the request asked for, and nothing else.

An edit task hands the model manifests (``TaskSpec.input``) and a request; the answer is the complete result. The
requested values are checked as any task spec's are (``conformance.py``); this module compares the input and
the answer as the cluster would see them and reports:

- ``L4-EDIT-DROPPED``: an input object the answer no longer holds (renaming is dropping), unless the spec lists
  it in ``absent`` (a Pod converted into a Deployment);
- ``L4-EDIT-UNASKED``: a change no ``changes`` entry and no requested value allows, and an added object nobody
  asked for.

What is not a change: key order and formatting (the documents are compared as data), the order of lists whose
items have names (containers, env, ports, volumes, mounts: matched by name), the order of lists of mappings
without names (RBAC rules, tolerations: compared as multisets), and values the API server fills in when they
are left out (``protocol: TCP``, ``replicas: 1``, ``imagePullPolicy`` by tag, probe timings ...): a field set to
its default and a field left out read the same.

``changes`` entries are ``Kind/name /path``: the path is a prefix in which named list items are addressed by
name (``/spec/template/spec/containers/web/readinessProbe``) and ``*`` matches any one segment; no path allows the
whole object (one the request adds); ``*`` alone allows any change and any added object, which leaves only
dropped objects to report (what ``generate`` and ``validate --input`` hold an edit to when nobody listed the
places it may change); ``-Kind/name`` (``-*``: any) lets an input object go. A requested value allows the
fields it governs (``replicas`` allows ``/spec/replicas``, ``image`` every container's image, ``fields`` their own
pointers).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from kubedistill.context.spec import ObjectSpec, TaskSpec
from kubedistill.verify import pointer
from kubedistill.verify.facts import CLUSTER_SCOPED
from kubedistill.verify.finding import Issue
from kubedistill.verify.objects import as_dict, dig
from kubedistill.verify.registry import rule

UNASKED = rule("L4-EDIT-UNASKED", 4, "an edit changes what the request did not ask for")
DROPPED = rule("L4-EDIT-DROPPED", 4, "an edit drops or renames an object of the input")

NAMED_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers", "env", "ports", "volumes",
                         "volumeMounts", "volumeClaimTemplates", "volumeDevices", "imagePullSecrets",
                         "hostAliases", "topologySpreadConstraints"})
"""Lists whose items carry a name (or a port number): their order means nothing to the cluster."""

POD_DEFAULTS = {"restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
                "terminationGracePeriodSeconds": 30, "enableServiceLinks": True, "serviceAccountName": "default"}
CONTAINER_DEFAULTS = {"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}
PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
SPEC_DEFAULTS = {
    "Deployment": {"replicas": 1, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                   "strategy": {"type": "RollingUpdate",
                                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}},
    "StatefulSet": {"replicas": 1, "revisionHistoryLimit": 10, "podManagementPolicy": "OrderedReady",
                    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}},
    "ReplicaSet": {"replicas": 1},
    "DaemonSet": {"revisionHistoryLimit": 10,
                  "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}},
    "Job": {"backoffLimit": 6, "completions": 1, "parallelism": 1, "completionMode": "NonIndexed", "suspend": False},
    "CronJob": {"concurrencyPolicy": "Allow", "suspend": False, "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1},
    "Service": {"type": "ClusterIP", "sessionAffinity": "None"},
}
"""Values the API server writes into a spec left without them: written or left out, they read the same."""


def check_edit(spec: TaskSpec, docs: list[tuple[int, dict]], original: list[dict]) -> dict[int, list[Issue]]:
    """Edit issues per answer document index (issues about the whole answer go to the first document)."""
    found: dict[int, list[Issue]] = {}
    first = docs[0][0] if docs else 0
    answer = {_key(d): (i, d) for i, d in docs}
    allowed = _allowed(spec)
    for before in original:
        key = _key(before)
        if key in answer:
            index, after = answer[key]
            for path in _differences(_normal(before), _normal(after)):
                if not _is_allowed(allowed, key, path):
                    found.setdefault(index, []).append(Issue(
                        UNASKED, _pointer(after, path), f"the edit changes {_show(path)} of {key[0]}/{key[2]}, "
                        "which the request did not ask for", "keep everything the request does not mention as it "
                        "was in the input"))
        elif not any(ref.kind == key[0] and ref.name in (None, key[2]) for ref in spec.absent) and not (
                _may_go(spec, key)):
            found.setdefault(first, []).append(Issue(
                DROPPED, "", f"the input's {key[0]} {key[2]!r}{_in(key)} is missing from the answer",
                "return every object of the input, changed only where the request asks"))
    inputs = {_key(d) for d in original}
    for key, (index, _) in answer.items():
        if key not in inputs and not _is_allowed(allowed, key, ()) and not _asked_object(spec, key):
            found.setdefault(index, []).append(Issue(
                UNASKED, "", f"the edit adds {key[0]} {key[2]!r}, which the request did not ask for",
                "return the input's objects, changed as the request asks; add only objects it asks for"))
    return found


# --- where an answer may differ -----------------------------------------------------------------------------


def _allowed(spec: TaskSpec) -> list[tuple[str, str | None, tuple[str, ...]]]:
    """(kind, name or None, path prefix) of every place the request lets the answer differ."""
    out = []
    for entry in spec.changes:
        if entry.startswith("-"):
            continue  # an object that may go (``_may_go``), not a place that may change
        target, _, path = entry.strip().partition(" ")
        kind, _, name = target.partition("/")
        out.append((kind, name or None, _segments(path.strip())))
    for want in spec.objects:
        out.extend((want.kind, want.name, prefix) for prefix in _governed(want))
    return out


def _governed(want: ObjectSpec) -> Iterator[tuple[str, ...]]:
    """The fields a requested value governs, as path prefixes (``*`` for any container)."""
    pod = ("spec", "template", "spec") if want.kind not in ("Pod", "CronJob") else (
        ("spec",) if want.kind == "Pod" else ("spec", "jobTemplate", "spec", "template", "spec"))
    lists = [(*pod, "containers", "*"), (*pod, "initContainers", "*")]
    if want.namespace:
        yield ("metadata", "namespace")
    if want.replicas is not None:
        yield ("spec", "replicas")
    if want.labels:
        yield ("metadata", "labels")
    for attribute, leaf in (("image", "image"), ("env", "env"), ("read_only_root_fs", "securityContext"),
                            ("run_as_non_root", "securityContext")):
        if getattr(want, attribute):
            yield from ((*c, leaf) for c in lists)
    for section in ("requests", "limits"):  # the resource named, in that section: not the whole block
        for resource in getattr(want, section):
            yield from ((*c, "resources", section, resource) for c in lists)
    if want.run_as_non_root:
        yield (*pod, "securityContext")
    if want.ports or want.target_ports or want.service_type:
        yield ("spec", "ports") if want.kind == "Service" else (*pod, "containers", "*", "ports")
        yield ("spec", "type")
    if want.storage or want.access_modes:
        yield ("spec",) if want.kind == "PersistentVolumeClaim" else ("spec", "volumeClaimTemplates")
    if want.schedule:
        yield ("spec", "schedule")
    if want.host or want.path:
        yield ("spec", "rules")
        yield ("spec", "tls")
    if want.refs:  # the fields a reference can sit in, not the whole spec
        for leaf in ("volumes", "serviceAccountName", "serviceAccount", "imagePullSecrets", "priorityClassName"):
            yield (*pod, leaf)
        for c in lists:
            yield from ((*c, leaf) for leaf in ("env", "envFrom", "volumeMounts"))
        for leaf in ("rules", "tls", "defaultBackend", "ingressClassName", "scaleTargetRef", "serviceName",
                     "storageClassName", "volumeName", "volumeClaimTemplates", "selector"):
            yield ("spec", leaf)
        yield ("roleRef",)
        yield ("subjects",)
    for ptr in want.fields:
        yield tuple("*" if part.isdigit() else part for part in pointer.parts(ptr)) if ptr else ()


def _may_go(spec: TaskSpec, key: tuple[str, str, str]) -> bool:
    """A ``-Kind/name`` (or ``-*``) change lets an input object go without being forbidden in the answer."""
    for entry in spec.changes:
        if entry.startswith("-"):
            kind, _, name = entry[1:].strip().partition("/")
            if kind in ("*", key[0]) and name in ("", key[2]):
                return True
    return False


def _asked_object(spec: TaskSpec, key: tuple[str, str, str]) -> bool:
    return any(want.kind == key[0] and want.name in (None, key[2]) for want in spec.objects)


def _is_allowed(allowed: list[tuple[str, str | None, tuple[str, ...]]], key: tuple[str, str, str],
                path: tuple[str, ...]) -> bool:
    for kind, name, prefix in allowed:
        if kind not in ("*", key[0]) or name not in (None, key[2]):
            continue
        if len(prefix) <= len(path) and all(p in ("*", q) for p, q in zip(prefix, path, strict=False)):
            return True
        # a list without names differs as a whole: a change asked inside one of its items allows it
        if path and len(prefix) > len(path) and prefix[len(path)] == "*" and all(
                p in ("*", q) for p, q in zip(prefix, path, strict=False)):
            return True
    return False


def _segments(path: str) -> tuple[str, ...]:
    return tuple(pointer.parts(path)) if path else ()


# --- the objects as the cluster reads them ----------------------------------------------------------------


def _key(doc: dict) -> tuple[str, str, str]:
    kind = str(doc.get("kind", ""))
    meta = as_dict(doc.get("metadata"))
    namespace = "" if kind in CLUSTER_SCOPED else str(meta.get("namespace") or "default")
    return kind, namespace, str(meta.get("name", ""))


def _in(key: tuple[str, str, str]) -> str:
    return f" in namespace {key[1]}" if key[1] else ""


def _normal(doc: dict) -> Any:
    """The document with server defaults removed, named lists keyed by name and unnamed lists of mappings as
    sorted multisets, so that a diff sees only changes the cluster would see."""
    doc = json.loads(json.dumps(doc))  # a copy
    kind = doc.get("kind")
    meta = as_dict(doc.get("metadata"))
    if meta.get("namespace") == "default":
        meta.pop("namespace")
    _drop_defaults(as_dict(doc.get("spec")), SPEC_DEFAULTS.get(kind, {}))
    for pod in _pod_specs(doc):
        _drop_defaults(pod, POD_DEFAULTS)
        for key in ("containers", "initContainers", "ephemeralContainers"):
            for c in pod.get(key) or []:
                if isinstance(c, dict):
                    _container_defaults(c)
    if kind == "Service":
        for port in as_dict(doc.get("spec")).get("ports") or []:
            if isinstance(port, dict):
                if port.get("protocol") == "TCP":
                    port.pop("protocol")
                if port.get("targetPort") == port.get("port"):
                    port.pop("targetPort")
    return _canonical(doc)


def _pod_specs(doc: dict) -> Iterator[dict]:
    spec = as_dict(doc.get("spec"))
    for candidate in (spec if doc.get("kind") == "Pod" else None, dig(spec, "template", "spec"),
                      dig(spec, "jobTemplate", "spec", "template", "spec")):
        if isinstance(candidate, dict):
            yield candidate


def _container_defaults(c: dict) -> None:
    _drop_defaults(c, CONTAINER_DEFAULTS)
    image = c.get("image") if isinstance(c.get("image"), str) else ""
    tag = image.rsplit("/", 1)[-1].partition(":")[2] if "@" not in image else "digest"
    if c.get("imagePullPolicy") == ("Always" if tag in ("", "latest") else "IfNotPresent"):
        c.pop("imagePullPolicy")
    for port in c.get("ports") or []:
        if isinstance(port, dict) and port.get("protocol") == "TCP":
            port.pop("protocol")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(c.get(probe), dict):
            _drop_defaults(c[probe], PROBE_DEFAULTS)
            if dig(c[probe], "httpGet", "scheme") == "HTTP":
                c[probe]["httpGet"].pop("scheme")


def _drop_defaults(data: dict, defaults: dict) -> None:
    for key, value in defaults.items():
        if key in data and (data[key] == value or (isinstance(value, dict) and isinstance(data[key], dict) and
                                                   _within(data[key], value))):
            data.pop(key)


def _within(got: dict, default: dict) -> bool:
    """Whether every value of ``got`` is the default's (``strategy: {type: RollingUpdate}`` is the default)."""
    return all(k in default and (v == default[k] or (isinstance(v, dict) and isinstance(default[k], dict) and
                                                    _within(v, default[k]))) for k, v in got.items())


def _canonical(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        out = {k: _canonical(v, k) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        if key in NAMED_LISTS and all(isinstance(v, dict) and _item_name(v) is not None for v in items):
            return {"⟨" + _item_name(v) + "⟩": v for v in items}
        if items and all(isinstance(v, dict) for v in items):
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        return items
    return value


def _item_name(item: dict) -> str | None:
    name = item.get("name")
    if isinstance(name, str):
        return name
    if isinstance(dig(item, "metadata", "name"), str):
        return item["metadata"]["name"]
    for key in ("containerPort", "port", "mountPath", "devicePath", "ip"):
        if item.get(key) is not None:
            return f"{key}={item[key]}"
    return None


def _differences(before: Any, after: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths (named items by name) where the two normal forms differ; the deepest that still differ as a whole."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys()):
            if key not in before or key not in after:
                yield (*path, key.strip("⟨⟩"))
            elif before[key] != after[key]:
                yield from _differences(before[key], after[key], (*path, key.strip("⟨⟩")))
    elif before != after:
        yield path


def _show(path: tuple[str, ...]) -> str:
    return "/" + "/".join(path) if path else "the object"


def _pointer(doc: dict, path: tuple[str, ...]) -> str:
    """The JSON pointer of a name-keyed path inside the answer document (as far as it exists there)."""
    node: Any = doc
    out = []
    for segment in path:
        if isinstance(node, list):
            index = next((i for i, item in enumerate(node) if isinstance(item, dict) and (
                _item_name(item) == segment)), None)
            if index is None:
                break
            out.append(str(index))
            node = node[index]
        elif isinstance(node, dict) and segment in node:
            out.append(pointer.escape(segment))
            node = node[segment]
        else:
            break
    return "/" + "/".join(out) if out else ""
