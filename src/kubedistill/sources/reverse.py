"""reverse_instruction: real manifests in, the instruction a user would have written out.

Files come from a directory (the shared real-manifest corpus, with its ``index.jsonl``, or any tree of
YAML). Each file is parsed safely, stripped of comments, redacted, described as a task spec and sent to the
teacher. Skipped files are counted by reason, never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kubedistill.context.derive import derive_spec, is_builtin
from kubedistill.context.families import FAMILIES
from kubedistill.prompts import render
from kubedistill.sources.redact import clean_manifest
from kubedistill.sources.teacher import REVERSE, TeacherRequest
from kubedistill.verify.syntax import parse_stream


@dataclass
class ReverseConfig:
    dir: str = ""
    """A directory of manifests; empty disables reverse instructions."""
    limit: int = 0
    """Stop after this many files (0: all)."""
    categories: list[str] = field(default_factory=lambda: ["example", "deploy", "test-fixture", "other"])
    """With an index.jsonl: the categories to use (invalid examples are never used)."""
    builtin_only: bool = True
    """Skip files with custom resources or CRDs: the student targets built-in kinds."""
    skip_placeholders: bool = True


def _files(cfg: ReverseConfig, skipped: Counter) -> Iterator[tuple[Path, dict]]:
    root = Path(cfg.dir)
    index = root / "index.jsonl"
    if index.exists():
        for line in index.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            reason = _index_skip(entry, cfg)
            if reason:
                skipped[reason] += 1
                continue
            yield root / entry["file"], {k: entry[k] for k in ("file", "repo", "path", "commit", "license")
                                         if k in entry}
    else:
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml")):
            yield path, {"file": str(path.relative_to(root))}


def _index_skip(entry: dict, cfg: ReverseConfig) -> str:
    if entry.get("category") == "invalid-example":
        return "invalid-example"
    if entry.get("category") not in cfg.categories:
        return "category"
    if entry.get("patch_like"):
        return "patch"
    if cfg.skip_placeholders and entry.get("has_placeholders"):
        return "placeholders"
    if cfg.builtin_only and (entry.get("custom_kinds") or entry.get("has_crd_definition")):
        return "custom-resources"
    return ""


def family_of(kinds: set[str]) -> str:
    for name, fam in FAMILIES.items():
        if set(fam.kinds) == kinds:
            return name
    return "reverse:" + "+".join(sorted(kinds))


def reverse_requests(cfg: ReverseConfig, seed: int, skipped: Counter) -> Iterator[tuple[str, TeacherRequest, dict]]:
    taken = 0
    for path, origin in _files(cfg, skipped):
        if cfg.limit and taken >= cfg.limit:
            return
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            skipped["unreadable"] += 1
            continue
        parsed = list(parse_stream(text))
        if any(p.issues for p in parsed):
            skipped["yaml-error"] += 1
            continue
        docs = [p.data for p in parsed if isinstance(p.data, dict)]
        if not docs:
            skipped["empty"] += 1
            continue
        if cfg.builtin_only and not all(is_builtin(d) for d in docs):
            skipped["not-builtin"] += 1
            continue
        kinds = {d["kind"] for d in docs}
        family = family_of(kinds)
        spec = derive_spec(docs, family)
        if spec is None:
            skipped["no-spec"] += 1
            continue
        manifest, redactions = clean_manifest(docs)
        prompt = render("teacher_reverse", manifest=manifest.strip())
        item = int.from_bytes(hashlib.sha256(f"{seed}:{origin['file']}".encode()).digest()[:4], "big") & 0x7FFFFFFF
        request = TeacherRequest(REVERSE, [{"role": "user", "content": prompt}], family, item, spec, manifest)
        taken += 1
        key = hashlib.sha1(origin["file"].encode()).hexdigest()[:16]
        yield f"rev-{key}", request, {**origin, "redactions": redactions}
