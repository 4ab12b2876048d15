"""The verdict on one model answer: extract the YAML, run L1-L4 and the task spec, name the failing level.

An answer passes when YAML could be extracted, at least one object was checked, and no error finding remains at
any level (the task spec's requirements are L4 findings). The failing level is the lowest level with an error,
or ``format`` when the answer holds no YAML at all. Format violations (prose, code fences, truncation at
max_new_tokens, a loop the decoder stopped) are counted whether or not the extracted manifest passes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from kubedistill.context.spec import TaskSpec
from kubedistill.sources.teacher import extract_yaml
from kubedistill.verify import Verifier
from kubedistill.verify.finding import Status

FAIL_LEVELS = ("format", "L1", "L2", "L3", "L4")
LOOP_FEEDBACK = ("- [format loop] the answer repeated the same lines again and again until it was stopped; write "
                 "each entry once and end the manifest")


@dataclass
class Verdict:
    passed: bool
    failed_level: str | None = None
    """format | L1 | L2 | L3 | L4, or None when the answer passed."""
    rules: list[str] = field(default_factory=list)
    """Rule ids of the errors at the failing level."""
    findings: list[dict] = field(default_factory=list)
    """Every finding (errors and warnings), as the verifier reports them."""
    manifest: str = ""
    format_violations: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Verdict:
        return cls(**data)

    def feedback(self, limit: int = 12) -> str:
        """The findings as a short list a model (or a person) can act on."""
        lines = []
        for item in self.findings:
            if item.get("severity") != "error":
                continue
            where = f"{item.get('kind', '')}/{item.get('name', '')} {item.get('path', '')}".strip(" /")
            hint = f" Fix: {item['hint']}" if item.get("hint") else ""
            lines.append(f"- [{item['level']} {item['rule']}] {where}: {item['message']}.{hint}")
        if not lines and self.failed_level == "format":
            lines.append("- [format] the answer holds no Kubernetes YAML")
        if "loop" in self.format_violations:  # first: the loop is why the rest is broken
            lines.insert(0, LOOP_FEEDBACK)
        more = f"\n- ... and {len(lines) - limit} more" if len(lines) > limit else ""
        return "\n".join(lines[:limit]) + more


def judge(text: str, verifier: Verifier, spec: TaskSpec | None = None, truncated: bool = False,
          looped: bool = False) -> Verdict:
    manifest, violations = extract_yaml(text)
    if truncated:
        violations.append("truncated")
    if looped:
        violations.append("loop")
    if not manifest.strip():
        return Verdict(False, "format", ["no-yaml"], format_violations=violations)
    results = verifier.verify_text(manifest, file="answer.yaml", spec=spec)
    findings = [f for r in results for f in r.findings]
    errors = [f for f in findings if f.is_error]
    verdict = Verdict(True, manifest=manifest, format_violations=violations,
                      findings=[f.to_dict() for f in findings])
    if errors:
        level = min(f.level for f in errors)
        verdict.passed, verdict.failed_level = False, f"L{level}"
        verdict.rules = sorted({f.rule for f in errors if f.level == level})
    elif not any(r.status == Status.VALID for r in results):
        verdict.passed, verdict.failed_level, verdict.rules = False, "L2", ["no-object"]
    return verdict
