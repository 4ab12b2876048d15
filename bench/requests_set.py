"""The hand-written request set: requests as people type them, each with a reference manifest and its spec.

    python bench/requests_set.py verify [FILE...]   # every reference passes L1-L4 (baseline) and its own spec
    python bench/requests_set.py build              # writes bench/data/requests/{dev,check}.jsonl

Every request, reference manifest and spec under ``bench/data/requests/src/`` and ``src-check/`` was written by
hand by this project's developers: none rendered by the offline teacher's frames, none copied from elsewhere. The
set exists to measure what the teacher's own requests cannot: how the request reader, the checklist and the
student do on the way people write. ``dev`` may be looked at while working; ``check`` is looked at only to measure.
Neither may ever be trained on (``tests/test_requests_set.py`` fails when a built corpus holds one of its requests
or a near copy).

The split, version 2: every request under ``src/`` is ``dev``; ``check`` is ``src-check/``, written later by authors
who had not read the request reader, its results or the other requests. (Version 1 split ``src/`` by a seeded hash
of the id, 40% to ``check``; after that check split's false failures were fixed from its own cases, it could no
longer measure, so all of ``src/`` became ``dev``; ``split_v1`` keeps the old rule for the record.)

The built files are evaluation task files (``kubedistill eval --split bench/data/requests/check.jsonl``): one JSON
object a line with id, instruction, spec, family, source (``handwritten``), style and manifest.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import handset

REPO = Path(__file__).resolve().parent.parent
SET_DIR = REPO / "bench" / "data" / "requests"
SOURCES = SET_DIR / "src"
CHECK_SOURCES = SET_DIR / "src-check"
SPLIT_SEED = "kubedistill-requests-v1"
CHECK_SHARE = 40
"""Percent of ``src/`` the version-1 split put in ``check`` (136 of 342)."""

STYLES = ("shorthand", "chat", "bullets", "paragraph", "question", "words", "existing", "negation", "imperative")
"""kubectl-like one-liners; chat with abbreviations and typos; bullet lists; long paragraphs with business context;
questions; numbers and sizes in words; objects that exist already; negations and counts; precise imperative specs."""
FIELDS = ("id", "style", "family", "request", "spec", "manifest")


def split_of(path: Path) -> str:
    """``check`` for the sources under ``src-check/``, ``dev`` for the rest."""
    return "check" if path.resolve().parent == CHECK_SOURCES.resolve() else "dev"


def split_v1(ident: str) -> str:
    """The version-1 split of ``src/``: ``check`` or ``dev`` from a hash of the id alone."""
    digest = hashlib.sha256(f"{SPLIT_SEED}:{ident}".encode()).hexdigest()
    return "check" if int(digest[:8], 16) % 100 < CHECK_SHARE else "dev"


def load(files: list[Path] | None = None) -> list[dict]:
    """Every entry of the source files, checked for shape; a bad one is a SystemExit naming file and entry."""
    paths = files or [*sorted(SOURCES.glob("*.yaml")), *sorted(CHECK_SOURCES.glob("*.yaml"))]
    return handset.load_entries(paths, FIELDS, {"style": STYLES}, lambda path, _entry: split_of(path))


def task_row(entry: dict) -> dict:
    """An entry as an evaluation task (the layout ``kubedistill eval`` and the corpus splits use)."""
    spec = dict(entry["spec"])
    spec.setdefault("family", entry["family"])
    return {"id": entry["id"], "instruction": entry["request"].strip(), "spec": spec, "family": entry["family"],
            "source": "handwritten", "style": entry["style"], "split": entry["split"],
            "manifest": entry["manifest"]}


def reference_problems(entry: dict, verifier=None) -> list[str]:
    """What keeps an entry's reference from passing L1-L4 at baseline and its own spec (empty when it passes)."""
    from kubedistill.context.spec import TaskSpec
    from kubedistill.verify import Verifier, VerifyConfig

    verifier = verifier or Verifier(VerifyConfig(policy="baseline", context="bundle"))
    try:
        spec = TaskSpec.from_dict(task_row(entry)["spec"])
    except (ValueError, TypeError) as exc:
        return [f"spec: {exc}"]
    results = verifier.verify_text(entry["manifest"], f"{entry['id']}.yaml", spec=spec)
    problems = [f"doc {r.doc} {f.rule} {f.path}: {f.message}" for r in results for f in r.findings if f.is_error]
    if not results:
        problems.append("the manifest holds no object")
    return problems


def verify(files: list[Path] | None) -> int:
    return handset.report(load(files), reference_problems, ("style",))


def build() -> int:
    return handset.write_splits(load(), task_row, SET_DIR)


def main() -> int:
    return handset.main(__doc__.splitlines()[0], verify, build,
                        "check every reference manifest against L1-L4 and its spec")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    raise SystemExit(main())
