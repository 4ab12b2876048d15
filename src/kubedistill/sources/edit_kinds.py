"""``edit-field`` changes to the kinds that carry no pods: Service, ConfigMap, Secret, HPA, PDB, RBAC roles, PVC,
Namespace, ServiceAccount and Ingress (most real manifests are these).

Like ``edit_fields.py``: (rng, base documents, target) -> ``Change`` or None when it does not apply.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from kubedistill.context import pools
from kubedistill.sources.edit_change import Change, Docs, at, below, name_of, place, ptr, wants
from kubedistill.verify.objects import as_dict, as_list, dig
from kubedistill.verify.quantity import parse_quantity


def service_type(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    spec = as_dict(target.get("spec"))
    old = spec.get("type", "ClusterIP")
    if target.get("kind") != "Service" or old not in ("ClusterIP", "NodePort") or spec.get("clusterIP") == "None" or (
            not spec.get("selector")):
        return None
    new = rng.choice([t for t in ("NodePort", "LoadBalancer") if t != old])
    asks = [f"make the Service type {new}", f"expose it as a {new} instead of {old}", f"switch the svc to {new}"]
    return Change("service-type", asks, [f"type: {old} -> {new}"], ["we need to reach it from outside the cluster"],
                  after=at(target, lambda d: d["spec"].update(type=new)), area="service",
                  objects=[wants(target, service_type=new)], changes=[place(target, "/spec/type")])


def config_data(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    data = as_dict(target.get("data"))
    if target.get("kind") != "ConfigMap":
        return None
    changeable = [k for k in data if k in pools.CONFIG_VALUES and len(pools.CONFIG_VALUES[k]) > 1]
    free = [k for k in pools.CONFIG_KEYS if k not in data]
    if changeable and (not free or rng.random() < 0.4):
        name = rng.choice(changeable)
        value = rng.choice([v for v in pools.CONFIG_VALUES[name] if v != data[name]])
        asks = [f"change {name} to {value}", f"set {name} from {data[name]} to {value} in the config map"]
    elif free:
        name = rng.choice(free)
        value = rng.choice(pools.CONFIG_VALUES[name])
        asks = [f"add the key {name} with value {value}", f"add {name}: \"{value}\" to the ConfigMap data"]
    else:
        return None
    return Change("config-data", asks, [f"{name}={value}"], ["we need to change the setting without a rebuild"],
                  after=at(target, lambda d: d.setdefault("data", {}).update({name: value})), area="data",
                  objects=[wants(target, fields={f"/data{ptr(name)}": value})],
                  changes=[place(target, below(target, "/data", name))])


def secret_key(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    present = set(as_dict(target.get("data"))) | set(as_dict(target.get("stringData")))
    free = [k for k in ("api-key", "token", "password", "username") if k not in present]
    if target.get("kind") != "Secret" or target.get("type", "Opaque") != "Opaque" or not free:
        return None
    name, value = rng.choice(free), rng.choice(("change-me", "replace-this", "s3cr3t!"))
    asks = [f"add a key {name} with the value {value} (stringData is fine)", f"put {name}={value} into the Secret"]
    return Change("secret-key", asks, [f"+{name}={value}"], ["the app now needs " + name],
                  after=at(target, lambda d: d.setdefault("stringData", {}).update({name: value})), area="data",
                  objects=[wants(target, fields={f"/stringData{ptr(name)}": value})],
                  changes=[place(target, below(target, "/stringData", name))])


def hpa_bounds(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    low, high = dig(target, "spec", "minReplicas"), dig(target, "spec", "maxReplicas")
    if target.get("kind") != "HorizontalPodAutoscaler" or not isinstance(high, int):
        return None
    low = low if isinstance(low, int) else 1
    new_low = rng.choice([n for n in (1, 2, 3, 4) if n != low])
    new_high = max(new_low + 1, high + rng.choice((2, 5, 10)))
    asks = [f"let it scale between {new_low} and {new_high} replicas", f"set minReplicas to {new_low} and "
            f"maxReplicas to {new_high}", f"change the HPA bounds to {new_low}-{new_high}"]
    return Change("hpa-bounds", asks, [f"min {low} -> {new_low}, max {high} -> {new_high}"],
                  ["it maxes out every evening"], area="hpa",
                  after=at(target, lambda d: d["spec"].update(minReplicas=new_low, maxReplicas=new_high)),
                  objects=[wants(target, fields={"/spec/minReplicas": new_low, "/spec/maxReplicas": new_high})],
                  changes=[place(target, "/spec/minReplicas"), place(target, "/spec/maxReplicas")])


def pdb_budget(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    spec = as_dict(target.get("spec"))
    if target.get("kind") != "PodDisruptionBudget" or ("minAvailable" in spec) == ("maxUnavailable" in spec):
        return None
    old = "minAvailable" if "minAvailable" in spec else "maxUnavailable"
    new, value = rng.choice((("maxUnavailable", 1), ("maxUnavailable", "25%"), ("minAvailable", "50%")))
    if spec.get(new) == value:
        return None
    asks = [f"use {new}: {value} instead of {old}", f"change the budget to {new} {value}"]

    def apply(d: dict) -> None:
        d["spec"].pop(old)
        d["spec"][new] = value

    return Change("pdb-budget", asks, [f"{old} -> {new}={value}"], ["node drains get stuck"], after=at(target, apply),
                  objects=[wants(target, fields={f"/spec/{new}": value})], area="pdb",
                  changes=[place(target, "/spec/minAvailable"), place(target, "/spec/maxUnavailable")])


RULES = ((["configmaps"], ["get", "list", "watch"]), (["secrets"], ["get"]), (["events"], ["create", "patch"]),
         (["pods/log"], ["get"]), (["endpoints"], ["get", "list", "watch"]))


def rbac_rule(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    rules = as_list(target.get("rules"))
    granted = {r for rule in rules if isinstance(rule, dict) for r in as_list(rule.get("resources"))}
    options = [(res, verbs) for res, verbs in RULES if not set(res) & granted]
    if target.get("kind") not in ("Role", "ClusterRole") or not options or "aggregationRule" in target:
        return None
    resources, verbs = rng.choice(options)
    rule = {"apiGroups": [""], "resources": resources, "verbs": verbs}
    said = f"{', '.join(verbs)} on {resources[0]}"
    asks = [f"also allow {said}", f"add a rule granting {said} (core API group)",
            f"give the {target['kind']} {said} as well"]
    at_index = len(rules)
    return Change("rbac-rule", asks, [f"+rule {resources[0]}: {','.join(verbs)}"], ["the controller logs forbidden "
                  f"errors on {resources[0]}"], after=at(target, lambda d: d.setdefault("rules", []).append(rule)),
                  objects=[wants(target, fields={f"/rules/{at_index}/resources": resources,
                                                 f"/rules/{at_index}/verbs": verbs})],
                  area="rules", changes=[place(target, "/rules")])


def pvc_size(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    size = dig(target, "spec", "resources", "requests", "storage")
    current = parse_quantity(size) if isinstance(size, str | int) else None
    if target.get("kind") != "PersistentVolumeClaim" or current is None:
        return None
    bigger = [s for s in pools.STORAGE_SIZES if parse_quantity(s) > current]
    if not bigger:
        return None
    new = rng.choice(bigger)
    asks = [f"grow the claim to {new}", f"resize the volume to {new}", f"request {new} of storage instead of {size}"]
    return Change("pvc-size", asks, [f"storage {size} -> {new}"], ["the disk is almost full"], area="storage",
                  after=at(target, lambda d: d["spec"]["resources"]["requests"].update(storage=new)),
                  objects=[wants(target, storage=new)], changes=[place(target, "/spec/resources/requests/storage")])


def pod_security_label(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    labels = as_dict(dig(target, "metadata", "labels"))
    if target.get("kind") != "Namespace" or any(k.startswith("pod-security.kubernetes.io/") for k in labels):
        return None
    level = rng.choice(("restricted", "baseline"))
    new = {"pod-security.kubernetes.io/enforce": level}
    if rng.random() < 0.5:
        new["pod-security.kubernetes.io/warn"] = "restricted"
    said = " and ".join(f"{k}={v}" for k, v in new.items())
    asks = [f"enforce the {level} Pod Security level on the namespace ({said})",
            f"add the label{'s' if len(new) > 1 else ''} {said}"]
    return Change("pod-security-label", asks, [f"+{said}"], ["we are rolling out Pod Security admission"],
                  after=at(target, lambda d: d["metadata"].setdefault("labels", {}).update(new)), area="metadata",
                  objects=[wants(target, labels=new)], changes=[place(target, "/metadata/labels")])


def service_account_token(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    if target.get("kind") != "ServiceAccount" or "automountServiceAccountToken" in target:
        return None
    asks = ["stop mounting its API token into pods automatically", "set automountServiceAccountToken to false"]
    return Change("sa-token", asks, ["automountServiceAccountToken: false"], ["the pods never talk to the API server"],
                  after=at(target, lambda d: d.update(automountServiceAccountToken=False)), area="token",
                  objects=[wants(target, fields={"/automountServiceAccountToken": False})],
                  changes=[place(target, "/automountServiceAccountToken")])


def ingress_tls(rng: random.Random, docs: Docs, target: dict) -> Change | None:
    hosts = [r.get("host") for r in as_list(dig(target, "spec", "rules")) if isinstance(r, dict)]
    if target.get("kind") != "Ingress" or dig(target, "spec", "tls") or not hosts or not all(
            isinstance(h, str) for h in hosts):
        return None
    secret = f"{name_of(target)}-tls"
    asks = [f"terminate TLS for {', '.join(hosts)} with the certificate in the Secret {secret}",
            f"add a tls section for {hosts[0]}" + (" and the other hosts" if len(hosts) > 1 else "") +
            f" using secretName {secret}"]
    tls = [{"hosts": hosts, "secretName": secret}]
    return Change("ingress-tls", asks, [f"+tls {secret}"], ["browsers warn that the site is not secure"],
                  after=at(target, lambda d: d["spec"].update(tls=tls)), area="tls",
                  objects=[wants(target, fields={"/spec/tls/0/secretName": secret, "/spec/tls/0/hosts": hosts})],
                  changes=[place(target, "/spec/tls")])


KIND_OPS: tuple[Callable[[random.Random, Docs, dict], Change | None], ...] = (
    service_type, config_data, secret_key, hpa_bounds, pdb_budget, rbac_rule, pvc_size, pod_security_label,
    service_account_token, ingress_tls)
