"""edit pairs: "here is my YAML, change it so that ..." -> the complete manifests after the change.

    kubedistill sources --config configs/sources/offline-edits.yaml --out runs/sources

An edit pair starts from a manifest that passes every level: the offline teacher's own (a synthetic family's
reference manifest) or, when ``reverse.dir`` is set, a real one that passes L1-L4 at the corpus policy. One or two
``Change``s (``edit_fields.py``, ``edit_pods.py``, ``edit_kinds.py``, ``edit_companions.py``,
``edit_conversions.py``, ``edit_defects.py``) make the input and the answer from it; the request is written in a
drawn voice (``edit_voices.py``) and laid out as people paste it (``context/edit.py``: the sentence, then the YAML;
or the YAML first). Families start with ``edit-`` so that reports can tell them from write tasks:

- ``edit-field``: add or change fields (probes, resources, env, replicas, image, labels, security, volumes ...);
- ``edit-companion``: add a Service, HPA, PDB, NetworkPolicy or Ingress for a workload of the input;
- ``edit-convert``: Pod -> Deployment, Deployment -> StatefulSet, a removed API version -> its replacement;
- ``edit-fix``: a defect the verifier finds, with "fix it", "why is this rejected?", "make it pass restricted".

Every draft is verified before it becomes a request: the answer must pass L1-L4 at the policy with its spec and
edit conformance, and the input handed back unchanged must fail that spec (else the spec would not test the
change). A draft that does not is counted and another is drawn. Pair ``i`` depends only on (seed, i).
"""

from __future__ import annotations

import copy
import logging
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import yaml

from kubedistill.context.edit import edit_message
from kubedistill.context.families import FAMILIES
from kubedistill.context.spec import TaskSpec
from kubedistill.prompts import render
from kubedistill.sources.edit_change import Change, Docs, key, merge, name_of
from kubedistill.sources.edit_companions import COMPANION_OPS
from kubedistill.sources.edit_conversions import CONVERT_OPS
from kubedistill.sources.edit_defects import FIX_OPS
from kubedistill.sources.edit_fields import FIELD_OPS
from kubedistill.sources.edit_kinds import KIND_OPS
from kubedistill.sources.edit_pods import POD_OPS
from kubedistill.sources.edit_voices import edit_request, fix_request
from kubedistill.sources.offline import dump
from kubedistill.sources.reverse import ReverseConfig, reverse_requests
from kubedistill.sources.teacher import EDIT, TeacherRequest
from kubedistill.verify import Verifier, VerifyConfig

log = logging.getLogger(__name__)

Op = Callable[[random.Random, Docs, dict], Change | None]
OPS: dict[str, tuple[Op, ...]] = {"edit-field": FIELD_OPS + POD_OPS + KIND_OPS, "edit-companion": COMPANION_OPS,
                                  "edit-convert": CONVERT_OPS, "edit-fix": FIX_OPS}
OP_WEIGHTS = {"labels": 0.4, "annotations": 0.4, "missing_field": 0.5, "legacy_api": 0.5, "restricted": 2.0,
              "duplicate_key": 0.7, "pod_to_deployment": 1.5, "deployment_to_statefulset": 1.5}
"""How often a change is drawn relative to the others that apply (1 when not listed): a label fits every object,
a conversion of a Pod only Pods."""
GENERIC = frozenset({"labels", "annotations", "missing-apiversion", "duplicate-key"})
"""Changes that fit any object: on a real base where nothing else fits, another base is usually drawn instead."""
WEIGHTS = {"edit-field": 0.45, "edit-companion": 0.2, "edit-convert": 0.15, "edit-fix": 0.2}
WORKLOADS = ("deployment", "deployment-service", "web-app", "statefulset", "stateful-db", "daemonset",
             "monitoring-agent", "worker-pvc", "app-config-secret", "app-pdb")
BASES = {
    "edit-field": (*WORKLOADS, "pod", "cronjob", "job", "configmap", "service-clusterip", "hpa", "namespace"),
    "edit-companion": WORKLOADS,
    "edit-convert": ("pod", "pod", "pod", "pod", "deployment", "deployment", "deployment", "deployment-service",
                     "deployment-service", "app-config-secret", "statefulset", "daemonset", "cronjob", "pdb", "hpa",
                     "ingress", "rbac"),
    "edit-fix": (*WORKLOADS, "pod", "cronjob", "job", "secret", "ingress", "service-clusterip", "app-netpol"),
}
"""The synthetic families each edit family starts from (the ones its changes apply to)."""
ATTEMPTS = 12


@dataclass
class EditsConfig:
    n: int = 0
    """Number of edit pairs (0: none)."""
    families: dict[str, float] = field(default_factory=dict)
    """Edit family -> weight; empty means every edit family at its default weight."""
    real_share: float = 0.3
    """Share of pairs that start from a real manifest (when ``reverse.dir`` is set); the rest start from the
    offline teacher's own manifests."""
    yaml_first: float = 0.25
    """Share of requests that paste the YAML before the sentence."""
    combine: float = 0.2
    """Share of edit-field requests that ask for two changes at once."""
    policy: str = "restricted"
    """L3 profile the answers must pass (the corpus policy)."""
    max_lines: int = 160
    """Real manifests longer than this are not used as inputs (the pair holds the manifest twice)."""

    def problems(self) -> list[str]:
        found = [] if self.n >= 0 else ["edits.n must be >= 0"]
        try:
            edit_mix(self.families)
        except ValueError as exc:
            found.append(f"edits.families: {exc}")
        found += [f"edits.{name} must be within [0, 1]" for name in ("real_share", "yaml_first", "combine")
                  if not 0 <= getattr(self, name) <= 1]
        return found


@dataclass
class Base:
    docs: Docs
    origin: dict


@dataclass
class Draft:
    family: str
    changes: list[Change]
    target: dict
    manifest: str
    spec: TaskSpec


def edit_mix(weights: dict[str, float]) -> tuple[list[str], list[float]]:
    unknown = sorted(set(weights) - set(OPS))
    if unknown:
        raise ValueError(f"unknown edit families {unknown}; known: {', '.join(OPS)}")
    chosen = weights or WEIGHTS
    names = sorted(n for n, w in chosen.items() if w > 0)
    return names, [chosen[n] for n in names]


def real_bases(reverse: ReverseConfig, seed: int, verifier: Verifier, max_lines: int) -> list[Base]:
    """The real manifests (redacted as reverse pairs are) that pass L1-L4, as edit bases, in file order."""
    out = []
    for _, request, origin in reverse_requests(ReverseConfig(**{**asdict(reverse), "limit": 0}), seed, Counter()):
        text = request.manifest
        if text.count("\n") > max_lines or any(f.is_error for r in verifier.verify_text(text) for f in r.findings):
            continue
        out.append(Base([d for d in yaml.safe_load_all(text) if isinstance(d, dict)],
                        {**origin, "base": "real"}))
    return out


def synthetic_base(rng: random.Random, family: str) -> Base:
    name = rng.choice([n for n in BASES[family] if n in FAMILIES])
    item = rng.randrange(2**31)
    task = FAMILIES[name].sample(random.Random(item))
    return Base(copy.deepcopy(task.objects), {"base": "synthetic", "base_family": name, "base_seed": item})


def drafts(rng: random.Random, base: Base, family: str, combine: float) -> Iterator[Draft]:
    """Drafts on ``base``, change by change in a random order (each change on the targets it applies to), so that a
    change that fits every object (a label) is drawn no more often than one that fits a single workload."""
    ops = OPS[family]
    order = sorted(ops, key=lambda op: -rng.random() ** (1 / OP_WEIGHTS.get(op.__name__, 1.0)))
    for op in order:
        for target in rng.sample(base.docs, len(base.docs)):
            change = op(rng, base.docs, target)
            if change is None:
                continue
            changes = [change]
            if family == "edit-field" and rng.random() < combine:
                for other in rng.sample(ops, len(ops)):
                    second = other(rng, base.docs, target)
                    if second is not None and second.area != change.area:
                        changes.append(second)
                        break
            yield assemble(base, family, changes, target)


def assemble(base: Base, family: str, changes: list[Change], target: dict) -> Draft:
    given, answer = copy.deepcopy(base.docs), copy.deepcopy(base.docs)
    for change in changes:
        change.before(given)
        change.after(answer)
    text = dump(given)
    for change in changes:
        text = change.text(text) if change.text else text
    spec = TaskSpec(family=family, objects=merge([o for c in changes for o in c.objects]),
                    absent=[a for c in changes for a in c.absent], input=text,
                    changes=[p for c in changes for p in c.changes])
    return Draft(family, changes, target, dump(answer), spec)


def problem(draft: Draft, verifier: Verifier) -> str:
    """Why a draft is no fair edit task ("" when it is one)."""
    results = verifier.verify_text(draft.manifest, spec=draft.spec)
    errors = [f for r in results for f in r.findings if f.is_error]
    if errors:
        return f"answer: {errors[0].rule} {errors[0].path}"
    if not any(r.status == "valid" for r in results):
        return "answer: no object"
    if not any(f.is_error for r in verifier.verify_text(draft.spec.input, spec=draft.spec) for f in r.findings):
        return "input passes its own spec"
    return ""


def instruction(rng: random.Random, draft: Draft, yaml_first: float) -> tuple[str, str, str]:
    """(the user's turn, its voice, its layout)."""
    layout = "yaml-first" if rng.random() < yaml_first else "request-first"
    where = "above" if layout == "yaml-first" else "below"
    kind, name = str(draft.target.get("kind")), name_of(draft.target)
    words = fix_request if draft.family == "edit-fix" else edit_request
    request, voice = words(rng, draft.changes, kind, name, where)
    if layout == "yaml-first":
        return f"```yaml\n{draft.spec.input.rstrip()}\n```\n\n{request}", voice, layout
    return edit_message(request, draft.spec.input), voice, layout


def edit_requests(config: EditsConfig, seed: int, reverse: ReverseConfig | None = None,
                  counts: Counter | None = None) -> Iterator[tuple[str, TeacherRequest, dict]]:
    """(pair id, request, origin) for ``config.n`` edit pairs; ``counts`` gets the drafts rejected by the gate."""
    counts = counts if counts is not None else Counter()
    names, weights = edit_mix(config.families)
    verifier = Verifier(VerifyConfig(policy=config.policy, context="bundle"))
    reals = real_bases(reverse, seed, verifier, config.max_lines) if (
        config.n and reverse and reverse.dir and config.real_share > 0) else []
    order = list(range(len(reals)))
    random.Random(f"edit-bases:{seed}").shuffle(order)
    for index in range(config.n):
        rng = random.Random(f"edit:{seed}:{index}")
        family = rng.choices(names, weights)[0]
        found = _draw(rng, family, config, [reals[order[(index + 7919 * a) % len(order)]] for a in range(
            ATTEMPTS)] if reals and rng.random() < config.real_share else [], verifier, counts)
        if found is None:
            counts[f"no-draft:{family}"] += 1
            log.warning("edit %d (%s): no draft passed after %d bases", index, family, ATTEMPTS)
            continue
        draft, base = found
        text, voice, layout = instruction(rng, draft, config.yaml_first)
        item = rng.randrange(2**31)
        request = TeacherRequest(EDIT, [{"role": "user", "content": render("teacher_edit", instruction=text)}],
                                 family, item, draft.spec, draft.manifest, instruction=text)
        origin = {**base.origin, "ops": [c.op for c in draft.changes], "target": "/".join(key(draft.target)[::2]),
                  "voice": voice, "layout": layout}
        yield f"edit-{seed}-{index:07d}", request, origin


def _draw(rng: random.Random, family: str, config: EditsConfig, reals: list[Base], verifier: Verifier,
          counts: Counter) -> tuple[Draft, Base] | None:
    """The first draft that passes the gate: on the given real bases first, then on synthetic ones."""
    for attempt in range(ATTEMPTS):
        real = attempt < len(reals) // 2
        base = reals[attempt] if real else synthetic_base(rng, family)
        for tried, draft in enumerate(drafts(rng, base, family, config.combine)):
            if real and attempt < len(reals) // 2 - 1 and {c.op for c in draft.changes} <= GENERIC and (
                    rng.random() < 0.75):
                break  # a label on yet another real Service: try a base that fits more changes
            why = problem(draft, verifier)
            if not why:
                return draft, base
            counts[f"rejected:{'+'.join(c.op for c in draft.changes)}"] += 1
            log.debug("edit draft %s rejected: %s", [c.op for c in draft.changes], why)
            if tried >= 3:
                break
    return None
