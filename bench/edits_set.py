"""The hand-written edit set: "here is my YAML, change it so that ...", each with its input, reference and spec.

    python bench/edits_set.py verify [FILE...]   # references pass L1-L4 (baseline), their spec and edit conformance
    python bench/edits_set.py build              # writes bench/data/edits/{dev,check}.jsonl

Every request, input and reference under ``bench/data/edits/src/`` was written by hand by this project's
developers: none rendered by the offline teacher, none copied from elsewhere. ``dev`` may be looked at while
working; ``check`` (about 40%, chosen once by a seeded hash of the id) is looked at only to measure. Neither may be
trained on.

The built files are evaluation task files: the instruction is the request and the input as people paste them,
the sentence then the YAML in a fenced block (``layout: request-first``) or the YAML first (``yaml-first``); the
spec carries the input, so L4 holds the answer to everything the request leaves alone.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import handset

REPO = Path(__file__).resolve().parent.parent
SET_DIR = REPO / "bench" / "data" / "edits"
SOURCES = SET_DIR / "src"
SPLIT_SEED = "kubedistill-edits-v1"
CHECK_SHARE = 40
STYLES = ("shorthand", "chat", "paragraph", "question", "imperative", "fix")
FAMILIES = ("edit-field", "edit-companion", "edit-convert", "edit-fix")
LAYOUTS = ("request-first", "yaml-first")
FIELDS = ("id", "style", "family", "layout", "request", "input", "spec", "manifest")


def split_of(ident: str) -> str:
    digest = hashlib.sha256(f"{SPLIT_SEED}:{ident}".encode()).hexdigest()
    return "check" if int(digest[:8], 16) % 100 < CHECK_SHARE else "dev"


def load(files: list[Path] | None = None) -> list[dict]:
    """Every entry of the source files, checked for shape; a bad one is a SystemExit naming file and entry."""
    choices = {"style": STYLES, "family": FAMILIES, "layout": LAYOUTS}
    return handset.load_entries(files or sorted(SOURCES.glob("*.yaml")), FIELDS, choices,
                                lambda _path, entry: split_of(entry["id"]))


def instruction(entry: dict) -> str:
    """The request as a person pastes it: the sentence and the YAML in a fenced block, in the entry's order."""
    block = "```yaml\n" + entry["input"].rstrip("\n") + "\n```"
    request = entry["request"].strip()
    return f"{request}\n\n{block}" if entry["layout"] == "request-first" else f"{block}\n\n{request}"


def task_row(entry: dict) -> dict:
    spec = dict(entry["spec"])
    spec.setdefault("family", entry["family"])
    spec["input"] = entry["input"]
    return {"id": entry["id"], "instruction": instruction(entry), "spec": spec, "family": entry["family"],
            "source": "handwritten-edit", "style": entry["style"], "split": entry["split"],
            "manifest": entry["manifest"]}


def reference_problems(entry: dict, verifier=None) -> list[str]:
    """What keeps an entry from being a fair edit task (empty when it is one): the reference must pass L1-L4 at
    baseline, its spec and edit conformance; the input handed back unchanged must fail the spec (else the spec
    does not test the change)."""
    from kubedistill.context.spec import TaskSpec
    from kubedistill.verify import Verifier, VerifyConfig

    verifier = verifier or Verifier(VerifyConfig(policy="baseline", context="bundle"))
    try:
        spec = TaskSpec.from_dict(task_row(entry)["spec"])
    except (ValueError, TypeError) as exc:
        return [f"spec: {exc}"]
    results = verifier.verify_text(entry["manifest"], f"{entry['id']}.yaml", spec=spec)
    problems = [f"reference doc {r.doc} {f.rule} {f.path}: {f.message}" for r in results for f in r.findings
                if f.is_error]
    unchanged = verifier.verify_text(entry["input"], f"{entry['id']}-input.yaml", spec=spec)
    if not any(f.is_error for r in unchanged for f in r.findings):
        problems.append("the input itself passes: the spec does not tell the input from the reference")
    return problems


def verify(files: list[Path] | None) -> int:
    return handset.report(load(files), reference_problems, ("style", "family"))


def build() -> int:
    return handset.write_splits(load(), task_row, SET_DIR)


def main() -> int:
    return handset.main(__doc__.splitlines()[0], verify, build,
                        "check every reference against L1-L4, its spec and edit conformance")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    raise SystemExit(main())
