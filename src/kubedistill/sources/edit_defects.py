"""``edit-fix`` defects: a valid manifest with one mistake the verifier finds at L1-L3 (or a Service that selects
nothing), handed over with "fix it", "why is this rejected?" or "make it pass restricted".

The answer is the valid base; ``changes`` are the defect's paths (where a fix may touch), and ``objects`` pin the
values a fix must restore where the input shows which they are (the selector its template labels name, the port
name its probes use). A defect with two honest fixes (a request above its limit: lower the request or raise the
limit) pins nothing and lets L2 judge. ``defect`` is the message a person would paste from kubectl.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
from collections.abc import Callable

import yaml

from kubedistill.sources.edit_change import (
    CONTROLLERS,
    LONG_RUNNING,
    Change,
    Docs,
    at,
    below,
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
    selector_labels,
    wants,
)
from kubedistill.verify.objects import as_dict, as_list, dig
from kubedistill.verify.quantity import parse_quantity


def _invalid(kind: str, name: str, path: str, message: str) -> str:
    return f'The {kind} "{name}" is invalid: {path}: {message}'


def selector_mismatch(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    labels = selector_labels(target)
    if target.get("kind") not in CONTROLLERS or not labels:
        return None
    label = rng.choice(sorted(labels))
    typo = labels[label] + rng.choice(("-app", "s", "-v2", "1"))
    side = rng.choice(("template", "selector"))

    def damage(d: dict) -> None:
        node = d["spec"]["template"]["metadata"]["labels"] if side == "template" else d["spec"]["selector"][
            "matchLabels"]
        node[label] = typo

    kind = str(target["kind"])
    return Change("selector-mismatch", before=at(target, damage), area="selector", changes=[
        place(target, "/spec/selector"), place(target, "/spec/template/metadata/labels")],
        defect=_invalid(kind, name_of(target), "spec.template.metadata.labels", "Invalid value: "
                        f'map[string]string{{"{label}":"{typo if side == "template" else labels[label]}"}}: '
                        "`selector` does not match template `labels`"),
        asks=[f"the selector and the pod labels should both say {label}={labels[label]}"])


def service_selector(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    selector = as_dict(dig(target, "spec", "selector"))
    pods = [d for d in docs if d.get("kind") in LONG_RUNNING and key(d)[1] == key(target)[1]]
    if target.get("kind") != "Service" or not selector or not pods:
        return None
    label = rng.choice(sorted(selector))
    typo = str(selector[label]) + rng.choice(("-svc", "-api", "x"))
    return Change("service-selector", before=at(target, lambda d: d["spec"]["selector"].update({label: typo})),
                  objects=[wants(target, fields={f"/spec/selector{ptr(k)}": v for k, v in selector.items()})],
                  changes=[place(target, "/spec/selector")], area="selector",
                  defect=f'service "{name_of(target)}" has no endpoints')


def duplicate_key(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    """A key written twice (with the same value): YAML refuses the document, so the whole object may differ."""
    candidates = [p for p in ("/spec/replicas", "/spec/type", "/spec/schedule", "/metadata/namespace", "/metadata/name",
                              "/spec/storageClassName", "/spec/maxReplicas", "/roleRef/name") if
                  isinstance(_value(target, p), int | str)]
    found = main_container(target)
    if found:
        base = f"{pod_pointer(target)}/containers/{found[0]}"
        candidates += [f"{base}/{k}" for k in ("image", "imagePullPolicy") if isinstance(found[1].get(k), str)]
    if not candidates:
        return None
    path = rng.choice(candidates)
    value = _value(target, path)
    sentinel = "kubedistill-duplicate-marker"
    wanted = key(target)

    def damage(text: str) -> str:
        docs_ = list(yaml.safe_load_all(text))
        doc = next(d for d in docs_ if isinstance(d, dict) and key(d) == wanted)
        _set(doc, path, sentinel)
        marked = yaml.safe_dump_all(docs_, sort_keys=False, default_flow_style=False, width=120)
        scalar = yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("...").strip()
        lines = marked.splitlines()
        i = next(n for n, line in enumerate(lines) if line.endswith(f": {sentinel}"))
        lines[i] = lines[i].replace(sentinel, scalar)
        twin = re.sub(r"^(\s*)- ", r"\1  ", lines[i])
        lines.insert(i + 1, twin)
        return "\n".join(lines) + "\n"

    field_name = path.rsplit("/", 1)[1]
    return Change("duplicate-key", text=damage, area="text", changes=[place(target)],
                  objects=[wants(target, fields={path: value})],
                  defect=f'error converting YAML to JSON: yaml: mapping key "{field_name}" already defined')


def missing_field(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    kind, name = str(target.get("kind")), name_of(target)
    options = ["apiVersion"]
    if selector_labels(target) and target.get("apiVersion") == "apps/v1":
        options.append("selector")
    if kind == "Ingress" and any("pathType" in p for rule in as_list(dig(target, "spec", "rules"))
                                 for p in as_list(dig(rule, "http", "paths"))):
        options.append("pathType")
    chosen = rng.choice(options)
    if chosen == "apiVersion":
        return Change("missing-apiversion", before=at(target, lambda d: d.pop("apiVersion")), area="apiVersion",
                      objects=[wants(target, fields={"/apiVersion": target["apiVersion"]})],
                      changes=[place(target, "/apiVersion")],
                      defect="error validating data: apiVersion not set")
    if chosen == "selector":
        labels = selector_labels(target)
        return Change("missing-selector", before=at(target, lambda d: d["spec"].pop("selector")), area="selector",
                      objects=[wants(target, fields={f"/spec/selector/matchLabels{ptr(k)}": v
                                                     for k, v in labels.items()})],
                      changes=[place(target, "/spec/selector")],
                      defect=f'error validating data: ValidationError({kind}.spec): missing required field "selector"')

    def drop(d: dict) -> None:
        for rule in as_list(dig(d, "spec", "rules")):
            for p in as_list(dig(rule, "http", "paths")):
                p.pop("pathType", None)

    return Change("missing-pathtype", before=at(target, drop), area="rules", changes=[place(target, "/spec/rules")],
                  defect=_invalid(kind, name, "spec.rules[0].http.paths[0].pathType",
                                  "Required value: pathType must be specified"))


RESTRICTED_DEFECTS = ("privileged", "root", "capabilities", "seccomp", "escalation", "host-network")


def restricted(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    """One to three Pod Security violations at once; the fix may touch every security context and host field."""
    found = main_container(target)
    if target.get("kind") not in LONG_RUNNING | {"Job", "CronJob"} or found is None:
        return None
    index, c = found
    chosen = rng.sample(RESTRICTED_DEFECTS, rng.choice((1, 1, 2, 3)))
    if "privileged" in chosen and "escalation" in chosen:
        chosen.remove("escalation")
    said = []

    def damage(d: dict) -> None:
        pod, container = pod_of(d), container_at(d, index)
        security = container.setdefault("securityContext", {})
        pod_security = pod.setdefault("securityContext", {})
        if "privileged" in chosen:
            security.update(privileged=True, allowPrivilegeEscalation=True)
        if "escalation" in chosen:
            security["allowPrivilegeEscalation"] = True
        if "root" in chosen:
            for node in (security, pod_security):
                node.pop("runAsNonRoot", None)
            pod_security["runAsUser"] = 0
            security.pop("runAsUser", None)
        if "capabilities" in chosen:
            security["capabilities"] = {"add": ["NET_ADMIN", "SYS_TIME"]}
        if "seccomp" in chosen:
            for node in (security, pod_security):
                node.pop("seccompProfile", None)
        if "host-network" in chosen:
            pod["hostNetwork"] = True
        for node, owner in ((security, container), (pod_security, pod)):
            if not node:
                owner.pop("securityContext")  # no empty securityContext: {} the base did not have

    words = {"privileged": f'privileged (container "{c["name"]}" must not set securityContext.privileged=true)',
             "escalation": f'allowPrivilegeEscalation != false (container "{c["name"]}" must set '
                           "securityContext.allowPrivilegeEscalation=false)",
             "root": "runAsUser=0 (pod must not set runAsUser=0)",
             "capabilities": f'unrestricted capabilities (container "{c["name"]}" must not include "NET_ADMIN", '
                             '"SYS_TIME" in securityContext.capabilities.add)',
             "seccomp": "seccompProfile (pod or containers must set securityContext.seccompProfile.type to "
                        '"RuntimeDefault" or "Localhost")',
             "host-network": "host namespaces (hostNetwork=true)"}
    said = [words[d] for d in chosen]
    base = pod_pointer(target)
    pod_path = named(target, base)
    changes = [place(target, f"{pod_path}/securityContext"), place(target, f"{pod_path}/hostNetwork"),
               place(target, f"{named(target, f'{base}/containers/{index}')}/securityContext")]
    objects = [wants(target, run_as_non_root=True)] if "root" in chosen else []
    return Change("restricted", before=at(target, damage), area="security", changes=changes, objects=objects,
                  restricted=True, defect=f'violates PodSecurity "restricted:latest": {", ".join(said)}')


def request_above_limit(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = main_container(target)
    if found is None:
        return None
    index, c = found
    limit = dig(c, "resources", "limits", "memory")
    quantity = parse_quantity(limit) if isinstance(limit, str) else None
    if quantity is None or not re.fullmatch(r"\d+(Mi|Gi)", limit):
        return None
    number, unit = int(limit[:-2]), limit[-2:]
    request = f"{number * 2}{unit}"
    path = f"{pod_pointer(target)}/containers/{index}/resources"
    return Change("request-above-limit", before=at(target, lambda d: container_at(d, index)["resources"].setdefault(
        "requests", {}).update(memory=request)), area="resources", changes=[place(target, named(target, path))],
        defect=_invalid(str(target["kind"]), name_of(target), f"spec.containers[{index}].resources.requests",
                        f'Invalid value: "{request}": must be less than or equal to memory limit of {limit}'))


def bad_port_name(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = main_container(target)
    ports = [p for p in container_ports(found[1]) if isinstance(p.get("name"), str)] if found else []
    if not ports:
        return None
    index, _ = found
    original = ports[0]["name"]
    bad = rng.choice((original.upper(), original.replace("-", "_") + "_port", f"{original}-port-for-metrics"))
    if bad == original:
        return None
    path = f"{pod_pointer(target)}/containers/{index}/ports"
    reason = ("must be no more than 15 characters" if len(bad) > 15 else
              "must contain only lowercase alphanumeric characters or '-'")
    return Change("bad-port-name", before=at(target, lambda d: container_at(d, index)["ports"][0].update(name=bad)),
                  objects=[wants(target, fields={f"{path}/0/name": original})], area="ports",
                  changes=[place(target, named(target, path))],
                  defect=_invalid(str(target["kind"]), name_of(target), f"spec.containers[{index}].ports[0].name",
                                  f'Invalid value: "{bad}": {reason}'))


INTEGERS = ("/spec/replicas", "/spec/maxReplicas", "/spec/ports/0/port",
            "/spec/template/spec/containers/0/ports/0/containerPort")


def wrong_type(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    """An integer written as a string ("3"): the API server's decoder refuses it."""
    options = [p for p in INTEGERS if isinstance(_value(target, p), int) and not isinstance(_value(target, p), bool)]
    if not options:
        return None
    path = rng.choice(options)
    value = _value(target, path)
    parent, _, field_name = path.rpartition("/")
    # the item as a whole: a Service port "80" no longer equals its targetPort 80, so both read as changed
    where = named(target, parent) if parent.rsplit("/", 1)[-1].isdigit() else below(target, parent, field_name)
    return Change("wrong-type", before=at(target, lambda d: _set(d, path, str(value))), area="type",
                  objects=[wants(target, fields={path: value})], changes=[place(target, where)],
                  defect=f"json: cannot unmarshal string into Go struct field {field_name} of type int32")


def hpa_bounds(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    low, high = dig(target, "spec", "minReplicas"), dig(target, "spec", "maxReplicas")
    if target.get("kind") != "HorizontalPodAutoscaler" or not isinstance(low, int) or not isinstance(high, int) or (
            low >= high):
        return None
    return Change("hpa-bounds", before=at(target, lambda d: d["spec"].update(minReplicas=high, maxReplicas=low)),
                  objects=[wants(target, fields={"/spec/minReplicas": low, "/spec/maxReplicas": high})], area="hpa",
                  changes=[place(target, "/spec/minReplicas"), place(target, "/spec/maxReplicas")],
                  defect=_invalid("HorizontalPodAutoscaler", name_of(target), "spec.maxReplicas",
                                  f"Invalid value: {low}: must be greater than or equal to `minReplicas`"),
                  asks=[f"it should scale between {low} and {high} replicas"])


def config_key(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    data = as_dict(target.get("data"))
    options = [k for k in data if re.fullmatch(r"[A-Za-z0-9]+[_-][A-Za-z0-9_-]+", k)]
    if target.get("kind") != "ConfigMap" or not options:
        return None
    name = rng.choice(options)
    bad = re.sub(r"[_-]", " ", name, count=1)

    def damage(d: dict) -> None:
        d["data"] = {bad if k == name else k: v for k, v in d["data"].items()}

    return Change("config-key", before=at(target, damage), area="data", changes=[place(target, "/data")],
                  objects=[wants(target, fields={f"/data{ptr(name)}": data[name]})],
                  defect=_invalid("ConfigMap", name_of(target), f"data[{bad}]", f'Invalid value: "{bad}": a valid '
                                  "config key must consist of alphanumeric characters, '-', '_' or '.'"),
                  asks=[f"the key should be {name}"])


TYPOS = (("/spec/replicas", "replica"), ("/spec/selector/matchLabels", "matchlabels"),
         ("/spec/template/spec/containers/0/ports/0/containerPort", "containerport"),
         ("/spec/template/spec/containers/0/readinessProbe", "readinessprobe"),
         ("/spec/template/spec/containers/0/volumeMounts/0/mountPath", "mountpath"),
         ("/spec/ports/0/targetPort", "targetport"), ("/spec/ingressClassName", "ingressClass"),
         ("/spec/schedule", "cron"), ("/rules/0/verbs", "verb"), ("/spec/accessModes", "accessMode"),
         ("/spec/policyTypes", "policyType"), ("/spec/minReplicas", "minReplica"), ("/spec/type", "Type"),
         ("/spec/minAvailable", "minavailable"), ("/spec/storageClassName", "storageclass"),
         ("/subjects/0/namespace", "namespce"))


def unknown_field(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    options = [(p, typo) for p, typo in TYPOS if _value(target, p) is not None]
    if not options:
        return None
    path, typo = rng.choice(options)
    parent, _, field_name = path.rpartition("/")
    value = _value(target, path)

    def rename(d: dict) -> None:
        node = _value(d, parent)
        node[typo] = node.pop(field_name)

    objects = [wants(target, fields={path: value})] if isinstance(value, int | str) else []
    dotted = ".".join(p for p in parent.strip("/").split("/") if not p.isdigit())
    return Change("unknown-field", before=at(target, rename), objects=objects, area="typo",
                  changes=sorted({place(target, below(target, parent, k)) for k in (typo, field_name)}),
                  defect=f'strict decoding error: unknown field "{dotted}.{typo}"')


def secret_encoding(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    """Plain text under ``data`` (which holds base64): the fix encodes it or moves it to ``stringData``."""
    plain = {k: v for k, v in as_dict(target.get("stringData")).items()}
    for k, v in as_dict(target.get("data")).items():
        plain[k] = _decoded(v)
    if target.get("kind") != "Secret" or not plain or not all(
            isinstance(v, str) and v and v.isprintable() and not _is_base64(v) for v in plain.values()):
        return None

    def damage(d: dict) -> None:
        d.pop("stringData", None)
        d["data"] = dict(plain)

    return Change("secret-encoding", before=at(target, damage), area="data",
                  objects=[wants(target, fields={f"/stringData{ptr(k)}": v for k, v in plain.items()})],
                  changes=[place(target, "/data"), place(target, "/stringData")],
                  defect=f"illegal base64 data at input byte {len(next(iter(plain.values()))) // 4 * 4}")


def _decoded(value: object) -> str | None:
    try:
        return base64.b64decode(str(value), validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _value(doc: dict, path: str) -> object:
    node: object = doc
    for part in path.strip("/").split("/") if path else []:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _set(doc: dict, path: str, value: object) -> None:
    parent, _, last = path.rpartition("/")
    node = _value(doc, parent)
    if isinstance(node, dict):
        node[last] = value


FIX_OPS: tuple[Callable[[random.Random, Docs, dict], Change | None], ...] = (
    selector_mismatch, service_selector, duplicate_key, missing_field, restricted, request_above_limit,
    bad_port_name, wrong_type, hpa_bounds, config_key, unknown_field, secret_encoding)
