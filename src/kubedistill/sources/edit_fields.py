"""``edit-field`` changes: add or change fields of one object of the input.

Each function takes (rng, the base documents, the target document) and returns a ``Change`` or None when it does
not apply. A field the base already has is taken out of the input and asked for (the answer is the base, which
passes every level); a value the base lacks or holds differently is asked for and written into the answer. The
request always states the values the spec checks, so the task can be solved from the words alone.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from kubedistill.context import pools
from kubedistill.context.render import memory_limit
from kubedistill.sources.edit_change import (
    CONTROLLERS,
    LONG_RUNNING,
    SCALABLE,
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
    pod_pointer,
    ptr,
    wants,
)
from kubedistill.verify.objects import as_dict, as_list, dig, selector_matches
from kubedistill.verify.quantity import parse_quantity

PROBES = {"readinessProbe": "readiness", "livenessProbe": "liveness"}
TIMINGS = {"initialDelaySeconds": "initial delay {}s", "periodSeconds": "every {}s", "timeoutSeconds": "timeout {}s",
           "failureThreshold": "failure threshold {}"}


HANDLER_KEYS = {"httpGet": {"path", "port", "scheme"}, "tcpSocket": {"port"}, "exec": {"command"},
                "grpc": {"port"}}


def _handler(probe: dict) -> tuple[str, dict[str, object]] | None:
    """(how to say the probe's handler, its values as pointers below the probe); None for a probe with more than
    the request can state (headers, an HTTPS scheme, thresholds it does not name)."""
    handlers = [k for k in HANDLER_KEYS if isinstance(probe.get(k), dict)]
    if len(handlers) != 1 or set(probe) - {handlers[0], *TIMINGS} or set(probe[handlers[0]]) - HANDLER_KEYS[
            handlers[0]] or probe[handlers[0]].get("scheme", "HTTP") != "HTTP":
        return None
    if isinstance(probe.get("httpGet"), dict):
        path, port = probe["httpGet"].get("path", "/"), probe["httpGet"].get("port")
        return f"HTTP GET {path} on port {port}", {"/httpGet/path": path, "/httpGet/port": port}
    if isinstance(probe.get("tcpSocket"), dict):
        port = probe["tcpSocket"].get("port")
        return f"a TCP check on port {port}", {"/tcpSocket/port": port}
    if isinstance(dig(probe, "exec", "command"), list):
        command = [str(c) for c in probe["exec"]["command"]]
        return f"exec `{' '.join(command)}`", {"/exec/command": command}
    if isinstance(probe.get("grpc"), dict):
        return f"gRPC on port {probe['grpc'].get('port')}", {"/grpc/port": probe["grpc"].get("port")}
    return None


def probes(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = main_container(target)
    if target.get("kind") not in LONG_RUNNING or found is None:
        return None
    index, c = found
    have = [k for k in PROBES if isinstance(c.get(k), dict) and _handler(c[k])]
    ports = container_ports(c)
    if have:
        chosen = rng.choice([have[:1], have[-1:], have])
        wanted = {k: c[k] for k in chosen}
        before, after = at(target, lambda d: [container_at(d, index).pop(k) for k in chosen]), None
    elif ports:
        port = ports[0].get("name") or ports[0]["containerPort"]
        chosen = rng.choice([["readinessProbe"], ["livenessProbe"], list(PROBES)])
        wanted = {k: {"tcpSocket": {"port": port}} for k in chosen}
        before, after = None, at(target, lambda d: container_at(d, index).update(wanted))
    else:
        return None
    base = f"{pod_pointer(target)}/containers/{index}"
    fields, said = {}, []
    for k, probe in wanted.items():
        words, values = _handler(probe)
        fields.update({f"{base}/{k}{p}": v for p, v in values.items()})
        timings = [TIMINGS[t].format(probe[t]) for t in TIMINGS if isinstance(probe.get(t), int)]
        fields.update({f"{base}/{k}/{t}": probe[t] for t in TIMINGS if isinstance(probe.get(t), int)})
        said.append((PROBES[k], words + (", " + ", ".join(timings) if timings else "")))
    if len(said) == 2 and said[0][1] == said[1][1]:
        asks = [f"add readiness and liveness probes ({said[0][1]})", f"add both probes, readiness and liveness: "
                f"{said[0][1]}"]
        short = [f"+readiness/liveness probes: {said[0][1]}"]
    else:
        text = " and ".join(f"a {kind} probe ({words})" for kind, words in said)
        asks = [f"add {text}", f"give the {c['name']} container {text}"]
        short = ["; ".join(f"+{kind}Probe {words}" for kind, words in said)]
    reasons = ["traffic reaches the pods before they are ready" if "readinessProbe" in chosen else
               "when the process hangs nobody restarts it", "we keep getting errors during rollouts"]
    change = Change("probes", asks, short, reasons, area="probes", objects=[wants(target, fields=fields)],
                    changes=[place(target, f"{named(target, base)}/{k}") for k in chosen])
    change.before = before or change.before
    change.after = after or change.after
    return change


def _quantity_text(values: dict[str, str], section: str) -> list[str]:
    return [f"{name} {section} {value}" for name, value in values.items()]


def resources(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = main_container(target)
    if found is None:
        return None
    index, c = found
    current = as_dict(c.get("resources"))
    path = f"{pod_pointer(target)}/containers/{index}/resources"
    requests = {k: str(v) for k, v in as_dict(current.get("requests")).items() if k in ("cpu", "memory")}
    limits = {k: str(v) for k, v in as_dict(current.get("limits")).items() if k in ("cpu", "memory")}
    if (requests or limits) and set(current) <= {"requests", "limits"} and all(
            set(as_dict(v)) <= {"cpu", "memory"} for v in current.values()) and rng.random() < 0.4:
        before = at(target, lambda d: container_at(d, index).pop("resources"))
        after = None
        reasons = ["the scheduler has no idea what this needs", "the namespace quota requires requests and limits"]
    else:
        memory = rng.choice([m for m in pools.MEMORY_REQUESTS if m != requests.get("memory")])
        requests = {"cpu": rng.choice(pools.CPU_REQUESTS), "memory": memory}
        limits = {"memory": memory_limit(memory)}
        cpu_limit = parse_quantity(dig(current, "limits", "cpu"))
        if cpu_limit is not None and cpu_limit < parse_quantity(requests["cpu"]):
            limits["cpu"] = requests["cpu"]
        new = {"requests": requests, "limits": limits}

        def apply(d: dict) -> None:
            res = container_at(d, index).setdefault("resources", {})
            for section, values in new.items():
                res.setdefault(section, {}).update(values)

        before, after = None, at(target, apply)
        reasons = ["it keeps getting OOMKilled", "the pods get evicted under memory pressure"]
    said = _quantity_text(requests, "request") + _quantity_text(limits, "limit")
    joined = ", ".join(said[:-1]) + " and " + said[-1] if len(said) > 1 else said[0]
    asks = [f"set {joined}", f"give the {c['name']} container {joined}", f"change the resources to {joined}"]
    short = ["resources: " + ", ".join(f"{k}.{n}={v}" for k, d in (("requests", requests), ("limits", limits))
                                       for n, v in d.items())]
    change = Change("resources", asks, short, reasons, area="resources",
                    objects=[wants(target, requests=requests, limits=limits)],
                    changes=[place(target, named(target, path))])
    change.before = before or change.before
    change.after = after or change.after
    return change


def env(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = main_container(target)
    if found is None:
        return None
    index, c = found
    base = f"{pod_pointer(target)}/containers/{index}"
    present = {e.get("name"): e for e in as_list(c.get("env")) if isinstance(e, dict)}
    changeable = [n for n, e in present.items() if n in pools.CONFIG_VALUES and "value" in e]
    if changeable and rng.random() < 0.35:
        name = rng.choice(changeable)
        old = str(present[name]["value"])
        value = rng.choice([v for v in pools.CONFIG_VALUES[name] if v != old])
        i = list(present).index(name)
        after = at(target, lambda d: container_at(d, index)["env"][i].update(value=value))
        asks = [f"change {name} from {old} to {value}", f"set the env var {name} to {value} (it is {old} now)"]
        short = [f"{name}: {old} -> {value}", f"env {name}={value}"]
        values = {name: value}
    else:
        free = [k for k in pools.CONFIG_KEYS if k not in present]
        if not free:
            return None
        values = {k: rng.choice(pools.CONFIG_VALUES[k]) for k in rng.sample(free, rng.choice((1, 1, 2)))}
        pairs = [f"{k}={v}" for k, v in values.items()]
        after = at(target, lambda d: container_at(d, index).setdefault("env", []).extend(
            {"name": k, "value": v} for k, v in values.items()))
        plural = "s" if len(values) > 1 else ""
        asks = [f"add the environment variable{plural} {' and '.join(pairs)}",
                f"set env var{plural} {', '.join(pairs)} on the {c['name']} container",
                f"pass {' and '.join(pairs)} to the app as environment variable{plural}"]
        short = [f"env {' '.join(pairs)}", f"+env {', '.join(pairs)}"]
    return Change("env", asks, short, ["we need to tune the app without rebuilding the image"], after=after,
                  objects=[wants(target, env=values)], area="env",
                  changes=[place(target, f"{named(target, base)}/env/{ptr(k)[1:]}") for k in values])


def env_from(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = main_container(target)
    if found is None:
        return None
    index, c = found
    namespace = key(target)[1]
    sources = [(d["kind"], name_of(d)) for d in docs if d.get("kind") in ("ConfigMap", "Secret") and
               key(d)[1] == namespace and name_of(d)]
    kind, source = rng.choice(sources) if sources else ("ConfigMap", f"{name_of(target)}-config")
    ref = "configMapRef" if kind == "ConfigMap" else "secretRef"
    if any(dig(e, ref, "name") == source for e in as_list(c.get("envFrom"))):
        return None
    at_index = len(as_list(c.get("envFrom")))
    path = f"{pod_pointer(target)}/containers/{index}/envFrom"
    noun = "ConfigMap" if kind == "ConfigMap" else "Secret"
    asks = [f"load every key of the {noun} {source} as environment variables (envFrom)",
            f"add envFrom with a {ref} to {source}", f"pull the env from the {noun} {source} with envFrom"]
    return Change("env-from", asks, [f"envFrom {ref} {source}"], [f"the settings live in the {noun} {source}"],
                  after=at(target, lambda d: container_at(d, index).setdefault("envFrom", []).append(
                      {ref: {"name": source}})), area="env",
                  objects=[wants(target, fields={f"{path}/{at_index}/{ref}/name": source})],
                  changes=[place(target, named(target, path))])


def replicas(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    if target.get("kind") not in SCALABLE or any(
            dig(d, "spec", "scaleTargetRef", "name") == name_of(target) for d in docs):
        return None  # an autoscaler owns the replica count
    old = as_dict(target.get("spec")).get("replicas", 1)
    floor = budget_floor(docs, target)
    new = rng.choice([n for n in range(max(1, floor + 1), 9) if n != old])
    verb = "scale up" if new > old else "scale down"
    asks = [f"scale to {new} replicas", f"set replicas to {new}", f"run {new} replicas instead of {old}",
            f"{verb} to {new} pods"]
    reasons = ["we expect a lot more traffic next week", "one pod cannot keep up"] if new > old else [
        "it is over-provisioned", "we want to save money in this environment"]
    return Change("replicas", asks, [f"replicas {old} -> {new}", f"replicas: {new}"], reasons, area="replicas",
                  after=at(target, lambda d: d["spec"].update(replicas=new)), objects=[wants(target, replicas=new)],
                  changes=[place(target, "/spec/replicas")])


def budget_floor(docs: Docs, target: dict) -> int:
    """The highest integer minAvailable of the input's PDBs over the target's pods (0 when none)."""
    labels = as_dict(dig(target, "spec", "template", "metadata", "labels"))
    floors = [dig(d, "spec", "minAvailable") for d in docs if d.get("kind") == "PodDisruptionBudget" and
              key(d)[1] == key(target)[1] and selector_matches(dig(d, "spec", "selector"), labels)]
    return max([f for f in floors if isinstance(f, int)], default=0)


_VERSION = re.compile(r"^(v?)(\d+)\.(\d+)(?:\.(\d+))?(.*)$")


def _new_tag(rng: random.Random, repository: str, tag: str) -> str | None:
    known = [i for i in pools.IMAGES if i.repository == repository]
    if known and (others := [t for t in known[0].tags if t != tag]):
        return rng.choice(others)
    match = _VERSION.match(tag)
    if not match:
        return None
    prefix, major, minor, patch, rest = match.groups()
    if patch is not None and rng.random() < 0.6:
        return f"{prefix}{major}.{minor}.{int(patch) + 1}{rest}"
    return f"{prefix}{major}.{int(minor) + 1}" + (".0" if patch is not None else "") + rest


def image(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = main_container(target)
    if found is None or not isinstance(found[1].get("image"), str) or "@" in found[1]["image"]:
        return None
    index, c = found
    repository, _, tag = c["image"].rpartition(":")
    if not repository or "/" in tag:
        return None
    new_tag = _new_tag(rng, repository, tag)
    if new_tag is None:
        return None
    new = f"{repository}:{new_tag}"
    asks = [f"bump the image to {new}", f"upgrade {repository} to {new_tag}", f"change the image tag to {new_tag}",
            f"use {new} instead of {c['image']}"]
    path = f"{pod_pointer(target)}/containers/{index}/image"
    return Change("image", asks, [f"image -> {new}", f"{tag} -> {new_tag}"],
                  [f"{tag} has a CVE", f"{new_tag} fixes a bug we keep hitting"], area="image",
                  after=at(target, lambda d: container_at(d, index).update(image=new)),
                  objects=[wants(target, image=new)], changes=[place(target, named(target, path))])


LABELS = (("team", pools.TEAMS), ("environment", ("production", "staging", "dev")),
          ("app.kubernetes.io/part-of", pools.LABEL_PART_OF), ("tier", ("frontend", "backend", "data")),
          ("cost-center", ("cc-1042", "cc-2210", "cc-3107")))


def labels(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    present = as_dict(dig(target, "metadata", "labels"))
    free = [(k, values) for k, values in LABELS if k not in present]
    if not free:
        return None
    new = {k: rng.choice(values) for k, values in rng.sample(free, min(len(free), rng.choice((1, 1, 2))))}
    pods = target.get("kind") in CONTROLLERS and rng.random() < 0.4 and not any(
        k in as_dict(dig(target, "spec", "template", "metadata", "labels")) for k in new)
    fields = {f"/spec/template/metadata/labels{ptr(k)}": v for k, v in new.items()} if pods else {}
    pairs = [f"{k}={v}" for k, v in new.items()]
    tail = " (on the pods too)" if pods else ""
    asks = [f"add the label{'s' if len(new) > 1 else ''} {' and '.join(pairs)}{tail}",
            f"put the labels {', '.join(f'{k}: {v}' for k, v in new.items())} on the {target['kind']}{tail}",
            f"tag the {target['kind']} with {' and '.join(pairs)}{tail}"]

    def apply(d: dict) -> None:
        d["metadata"].setdefault("labels", {}).update(new)
        if pods:
            d["spec"]["template"]["metadata"].setdefault("labels", {}).update(new)

    changes = [place(target, "/metadata/labels")] + ([place(target, "/spec/template/metadata/labels")] if pods else [])
    return Change("labels", asks, [f"+labels {' '.join(pairs)}{tail}"], ["we report costs by label"], after=at(
        target, apply), objects=[wants(target, labels=new, fields=fields)], changes=changes, area="metadata")


def annotations(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    found = main_container(target)
    ports = container_ports(found[1]) if found else []
    team = rng.choice(pools.TEAMS)
    if target.get("kind") in CONTROLLERS and ports and rng.random() < 0.5:
        base, port = "/spec/template/metadata/annotations", ports[0]["containerPort"]
        new = {"prometheus.io/scrape": "true", "prometheus.io/port": str(port)}
        asks = [f"add the Prometheus scrape annotations to the pods (port {port})",
                f"annotate the pod template with prometheus.io/scrape=true and prometheus.io/port={port}"]
        reasons = ["Prometheus does not scrape it"]
    else:
        base = "/metadata/annotations"
        choices = {"owner": f"{team}@example.com", "runbook": f"https://runbooks.example.com/{name_of(target)}",
                   "contact": f"#team-{team}"}
        chosen = rng.sample(sorted(choices), rng.choice((1, 2)))
        new = {k: choices[k] for k in chosen if k not in as_dict(dig(target, "metadata", "annotations"))}
        said = " and ".join(f"{k}: {v}" for k, v in new.items())
        asks = [f"add the annotation{'s' if len(new) > 1 else ''} {said}", f"put {said} in the annotations",
                f"annotate the {target['kind']} with {said}"]
        reasons = ["on-call needs to know who owns it"]
    if not new or any(k in as_dict(dig(target, *base.strip("/").split("/"))) for k in new):
        return None

    def apply(d: dict) -> None:
        node = d
        for part in base.strip("/").split("/"):
            node = node.setdefault(part, {})
        node.update(new)

    return Change("annotations", asks, ["+annotations " + " ".join(f"{k}={v}" for k, v in new.items())], reasons,
                  after=at(target, apply), objects=[wants(target, fields={f"{base}{ptr(k)}": v
                                                                         for k, v in new.items()})],
                  changes=[place(target, base)], area="metadata")


FIELD_OPS: tuple[Callable[[random.Random, Docs, dict], Change | None], ...] = (
    probes, resources, env, env_from, replicas, image, labels, annotations)

