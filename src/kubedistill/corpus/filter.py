"""Filter and canonicalize: the per-pair stage of the corpus build (pure, so any engine can run it).

Every pair is verified at L1-L4 and against its own task spec. Pairs that pass are kept with their
canonical manifest; the others are *marked* with the stage, level, rule ids and first message, never
dropped, so the card can show the rejection funnel and a user can see why each pair went.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubedistill.context.spec import TaskSpec
from kubedistill.corpus.canonical import CanonicalError, canonicalize, content_hash
from kubedistill.sources.teacher import extract_yaml
from kubedistill.verify import Verifier, VerifyConfig


@dataclass
class FilterConfig:
    policy: str = "restricted"
    """L3 profile a pair must pass (see the README's choice of corpus policy)."""
    context: str = "bundle"
    """L4 mode; bundle: references to cluster objects are warnings, broken bundles are errors."""
    k8s_version: str = "1.33"
    require_spec: bool = True
    """Reject pairs without a task spec: L4 cannot check what the instruction asked for."""


_VERIFIERS: dict[tuple, Verifier] = {}


def _verifier(config: FilterConfig) -> Verifier:
    key = (config.policy, config.context, config.k8s_version)
    if key not in _VERIFIERS:
        _VERIFIERS[key] = Verifier(VerifyConfig(k8s_version=config.k8s_version, policy=config.policy,
                                                context=config.context))
    return _VERIFIERS[key]


def reject(record: dict, stage: str, level: str, rules: list[str], message: str) -> dict:
    record["status"] = "rejected"
    record["reject"] = {"stage": stage, "level": level, "rules": rules, "message": message}
    return record


def process(record: dict[str, Any], config: FilterConfig) -> dict[str, Any]:
    """Verify one raw pair; return it marked kept (with canonical manifest and hashes) or rejected."""
    out = {k: record.get(k) for k in ("id", "source", "family", "instruction", "spec", "teacher", "model", "origin",
                                      "format_violations")}
    out["format_violations"] = list(record.get("format_violations") or [])
    manifest = record.get("manifest") or ""
    if not manifest and record.get("raw"):
        manifest, violations = extract_yaml(record["raw"])
        out["format_violations"] += violations
    if record.get("error"):
        return reject(out, "teacher", "teacher", [], str(record["error"]))
    if not (record.get("instruction") or "").strip():
        return reject(out, "format", "format", ["no-instruction"], "the pair has no instruction")
    if not manifest.strip():
        return reject(out, "format", "format", ["no-manifest"], "no YAML could be extracted from the answer")
    spec = None
    if record.get("spec"):
        try:
            spec = TaskSpec.from_dict(record["spec"])
        except ValueError as exc:
            return reject(out, "format", "format", ["bad-spec"], str(exc))
    elif config.require_spec:
        return reject(out, "format", "format", ["no-spec"], "the pair has no task spec")
    results = _verifier(config).verify_text(manifest, spec=spec)
    errors = [f for r in results for f in r.findings if f.is_error]
    if errors:
        level = min(f.level for f in errors)
        first = next(f for f in errors if f.level == level)
        rules = sorted({f.rule for f in errors if f.level == level})
        return reject(out, "verify", f"L{level}", rules, f"{first.rule} {first.path}: {first.message}".strip())
    if not any(r.status == "valid" for r in results):
        return reject(out, "verify", "L2", ["no-object"], "the manifest holds no checkable object")
    try:
        canonical = canonicalize(manifest)
    except CanonicalError as exc:
        return reject(out, "canonical", "L1", ["canonical"], str(exc))
    out.update(status="kept", reject=None, manifest=canonical, manifest_hash=content_hash(canonical),
               documents=canonical.count("\n---\n") + 1)
    return out


def process_chunk(records: list[dict], config: FilterConfig) -> list[dict]:
    return [process(r, config) for r in records]
