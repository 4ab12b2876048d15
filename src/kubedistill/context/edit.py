"""Edit requests: "here is my YAML, change it so that ...", as people paste them into a chat or a terminal.

A message that holds Kubernetes YAML (in a fenced block, or pasted bare before or after the sentence) is an edit:
the sentence is the request, the YAML its input, and the answer must be the complete result. ``split_edit`` finds
the two parts; ``edit_spec`` turns them into the task spec an answer is held to: the values the request states
(read by the request reader from the sentence alone, never from the YAML), and the input, so that L4 reports an
object the answer drops. Which fields the request allows to change cannot be read for sure from a sentence, so
any change is allowed (``changes: ["*"]``) unless the caller lists the places (``validate --allow-change``).
"""

from __future__ import annotations

import re

from kubedistill.context.spec import TaskSpec

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+-]*)[ \t]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S)
_OBJECT_LINE = re.compile(r"^(?:apiVersion|kind)\s*:", re.M)
_YAML_LINE = re.compile(r"^(?:---.*|\.\.\.|#.*|[ \t]+.*|- .*|-|[\w./\"'-]+\s*:(?:\s.*)?|\s*)$")
_REPLACES = re.compile(r"\b(?:turn|convert|migrate|rewrite|make)\b[^.?!\n]*\b(?:into|as)\s+(?:a|an)\b|"
                       r"\b(?:turn|convert)\b[^.?!\n]*\bto\s+(?:a|an)\b|\breplace\b[^.?!\n]*\bwith\b|\binstead\s+of\b|"
                       r"\b(?:remove|delete|drop|rename|get\s+rid\s+of)\b", re.I)
"""Words that say the edit removes or replaces objects ("turn this Pod into a Deployment", "drop the Service"):
then no input object is required to stay (``-*`` among the changes)."""


def split_edit(text: str) -> tuple[str, str] | None:
    """(request, input YAML) when ``text`` holds Kubernetes YAML, else None."""
    for block in _FENCE.finditer(text):
        body = block.group(3)
        if block.group(2).lower() in ("", "yaml", "yml", "json") and _OBJECT_LINE.search(body):
            request = (text[: block.start()] + text[block.end():]).strip()
            return request, body if body.endswith("\n") else body + "\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _OBJECT_LINE.match(line)), None)
    if start is None:
        return None
    while start > 0 and (lines[start - 1].strip() == "---" or lines[start - 1].startswith("#")):
        start -= 1
    end = start
    while end < len(lines) and _YAML_LINE.match(lines[end]):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    request = "\n".join(lines[:start] + lines[end:]).strip()
    return request, "\n".join(lines[start:end]) + "\n"


def edit_spec(request: str, manifests: str, changes: list[str] | None = None, read: bool = True) -> TaskSpec:
    """The spec an edit's answer is held to: the values ``request`` states, the input, and where it may change."""
    from kubedistill.context.request import read_request
    from kubedistill.verify.conformance import input_objects

    stated = read_request(request) if read and request.strip() else None
    spec = TaskSpec(family="edit", objects=list(stated.objects) if stated else [],
                    existing=list(stated.existing) if stated else [], absent=list(stated.absent) if stated else [],
                    input=manifests, changes=list(changes) if changes else ["*"])
    inputs = {(o.get("kind"), (o.get("metadata") or {}).get("name")) for o in input_objects(manifests)}
    # An object of the input is not "already in the cluster, not to be written": the answer returns it.
    spec.existing = [ref for ref in spec.existing if (ref.kind, ref.name) not in inputs and not (
        ref.name is None and any(kind == ref.kind for kind, _ in inputs))]
    if _REPLACES.search(request):
        spec.changes.append("-*")  # "turn this Pod into a Deployment": an input object may go
    return spec


def edit_message(request: str, manifests: str) -> str:
    """The user's turn for an edit: the request, then the input in a fenced block, as people paste it."""
    return f"{request.strip()}\n\n```yaml\n{manifests.rstrip()}\n```"
