"""The teacher interface: one small protocol that the offline, OpenAI-compatible and local teachers share.

A teacher receives a ``TeacherRequest`` (the chat messages plus, for the offline teacher, the sampled task)
and returns a ``TeacherAnswer``. An answer that cannot be used is still an answer: its ``error`` says why,
so the run records a rejection instead of crashing (distilabel's habit).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubedistill.context.spec import TaskSpec

SYNTHETIC = "synthetic_direct"
REVERSE = "reverse_instruction"
EDIT = "edit"


@dataclass
class TeacherRequest:
    task: str
    """synthetic_direct | reverse_instruction | edit"""
    messages: list[dict[str, str]]
    family: str = ""
    seed: int = 0
    spec: TaskSpec | None = None
    manifest: str = ""
    """reverse_instruction: the (redacted) manifest the instruction is written for; edit: the reference answer."""
    instruction: str = ""
    """edit: the user's turn (request and pasted input) the teacher answers with the complete result."""


@dataclass
class TeacherAnswer:
    instruction: str = ""
    manifest: str = ""
    raw: str = ""
    error: str = ""
    cached: bool = False
    attempts: int = 1
    format_violations: list[str] = field(default_factory=list)
    """How the raw answer strayed from the strict format (prose, code fence, missing instruction ...)."""


class Teacher(Protocol):
    name: str
    model: str

    def answer(self, request: TeacherRequest) -> TeacherAnswer: ...


class TeacherError(Exception):
    """A fault that retrying cannot fix (bad key, unknown model): the run stops with this message."""


_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_INSTRUCTION = re.compile(r"^\s*(?:\d+\.\s*)?\**\s*INSTRUCTION\s*\**\s*:\s*", re.IGNORECASE | re.MULTILINE)


def extract_yaml(text: str) -> tuple[str, list[str]]:
    """The YAML in an answer, and how the answer departed from 'YAML only'.

    Accepts a fenced block (```yaml or bare ```), an unterminated fence (truncated answer), or bare YAML
    after leading prose; returns "" when nothing looks like a Kubernetes object.
    """
    violations: list[str] = []
    stripped = text.strip()
    if not stripped:
        return "", ["empty"]
    fences = [m for m in _FENCE.finditer(text)]
    if fences:
        violations.append("code_fence")
        block = next((m for m in fences if m.group(1).lower() in ("yaml", "yml")), fences[0])
        if not block.group(0).rstrip().endswith("```"):
            violations.append("unterminated_fence")
        outside = (text[: block.start()] + text[block.end():]).strip()
        if outside:
            violations.append("prose")
        return block.group(2).strip() + "\n", violations
    start = re.search(r"^(apiVersion|kind|---)\b", text, re.MULTILINE)
    if start is None:
        return "", ["no_yaml"]
    if text[: start.start()].strip():
        violations.append("prose")
    body = text[start.start():]
    tail = re.search(r"\n\s*\n(?=[A-Z][^:\n]*[.!?]\s*$)", body)  # trailing sentence after a blank line
    if tail:
        violations.append("prose")
        body = body[: tail.start()]
    return body.strip() + "\n", violations


def parse_synthetic(text: str) -> TeacherAnswer:
    """Split a synthetic_direct answer into instruction and manifest."""
    answer = TeacherAnswer(raw=text)
    match = _INSTRUCTION.search(text)
    manifest, violations = extract_yaml(text[match.end():] if match else text)
    answer.format_violations = [v for v in violations if v not in ("code_fence", "prose")]
    if match and text[: match.start()].strip():
        answer.format_violations.append("prose")
    if match:
        rest = text[match.end():]
        fence = rest.find("```")
        api = re.search(r"^(apiVersion|kind|---)\b", rest, re.MULTILINE)
        cut = min(x for x in (fence if fence >= 0 else len(rest), api.start() if api else len(rest)))
        answer.instruction = " ".join(rest[:cut].split()).strip()
    else:
        answer.format_violations.append("no_instruction")
    answer.manifest = manifest
    if not answer.instruction or not manifest:
        answer.error = "unparseable answer: " + ", ".join(answer.format_violations or ["empty"])
    return answer


def cached_answer(request: TeacherRequest, cache: Any, key: str, model: str,
                  produce: Callable[[], tuple[str, int, str]]) -> TeacherAnswer:
    """The answer to ``request``: from the cache when there, else ``produce()`` (text, attempts, error), cached
    before parsing so a rerun never pays twice; parsed for the request's task."""
    text = cache.get(key) if cache else None
    cached, attempts = text is not None, 0
    if text is None:
        text, attempts, error = produce()
        if error:
            return TeacherAnswer(error=error, attempts=attempts)
        if cache:
            cache.put(key, text, {"model": model})
    if request.task == EDIT:
        return parse_edit(text, request.instruction, cached, attempts)
    answer = parse_synthetic(text) if request.task == SYNTHETIC else parse_reverse(text)
    answer.cached, answer.attempts = cached, attempts
    if request.task != SYNTHETIC:
        answer.manifest = request.manifest
    return answer


def parse_edit(text: str, instruction: str, cached: bool = False, attempts: int = 1) -> TeacherAnswer:
    """An edit answer is the complete result as YAML; the instruction is the request the teacher was given."""
    manifest, violations = extract_yaml(text)
    answer = TeacherAnswer(instruction=instruction, manifest=manifest, raw=text, cached=cached, attempts=attempts,
                           format_violations=violations)
    if not manifest:
        answer.error = "unparseable answer: " + ", ".join(violations or ["empty"])
    return answer


def parse_reverse(text: str) -> TeacherAnswer:
    """A reverse_instruction answer is the instruction alone; strip quotes and labels a model may add."""
    answer = TeacherAnswer(raw=text)
    instruction = _INSTRUCTION.sub("", text.strip(), count=1)
    instruction = re.sub(r"^(request|instruction|user)\s*:\s*", "", instruction, flags=re.IGNORECASE).strip()
    if "```" in instruction:
        answer.format_violations.append("code_fence")
        instruction = instruction.split("```")[0].strip()
    instruction = instruction.strip().strip('"').strip("'").strip()
    answer.instruction = " ".join(instruction.split())
    if not answer.instruction:
        answer.error = "empty answer"
    return answer
