"""Prompt templates, shared by the teachers, training, evaluation and serving.

Templates are plain text files in this folder with ``$name`` placeholders (``string.Template``), so YAML
braces in a prompt never need escaping. ``system_strict`` is the strict output-format prompt that the
reference result found to matter more than data size; ``system_plain`` is the plain one it was compared to.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from string import Template

PROMPT_MODES = ("plain", "strict")
HINTS = ("none", "request")
"""What the user's turn carries beside the request: ``none``, or ``request``: a checklist of the values the request
states and the fields they go in, read from its own text (``context/checklist.py``)."""


@cache
def load(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8")


def render(name: str, **values: object) -> str:
    """Fill a template; a missing placeholder is an error, not a silently empty prompt."""
    return Template(load(name)).substitute({k: str(v) for k, v in values.items()}).strip()


MAX_PROMPT_FILE_BYTES = 64 * 1024


def prompt_problem(mode: str) -> str | None:
    """Why ``mode`` names no usable system prompt (a mode or a UTF-8 text file), or None when it does."""
    if mode in PROMPT_MODES:
        return None
    path = Path(mode)
    if not path.is_file():
        return (f"prompt {mode!r} is neither a prompt mode ({', '.join(PROMPT_MODES)}) nor a file "
                "holding a system prompt")
    if path.stat().st_size > MAX_PROMPT_FILE_BYTES:
        return f"prompt file {mode} is larger than {MAX_PROMPT_FILE_BYTES} bytes"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"prompt file {mode} cannot be read as UTF-8 text: {exc}"
    return None if text.strip() else f"prompt file {mode} is empty"


def system_prompt(mode: str) -> str:
    """The system prompt of a mode (``plain``, ``strict``) or the text of a prompt file: a user who tunes the
    prompt (the reference's largest gain came from the prompt alone) needs no code change to try one."""
    if mode in PROMPT_MODES:
        return load(f"system_{mode}").strip()
    return _prompt_file(mode)


@cache
def _prompt_file(path: str) -> str:
    """Read once per process, so a server keeps the prompt it started with even if the file changes later."""
    problem = prompt_problem(path)
    if problem:
        raise ValueError(problem)
    return Path(path).read_text(encoding="utf-8").strip()


def prompt_stamp(mode: str) -> str:
    """How a run records its prompt: a mode by name, a prompt file by its text (sha256), since editing the file
    makes other answers and other training."""
    if mode in PROMPT_MODES:
        return mode
    return f"{mode} (sha256 {hashlib.sha256(system_prompt(mode).encode('utf-8')).hexdigest()[:16]})"


def hinted(instruction: str, hints: str = "none") -> str:
    """The user's turn for a request: the request, with its checklist after it when ``hints`` is ``request`` and
    the request states any value (one it finds no object in is asked word for word)."""
    user = instruction.strip()
    if hints == "none":
        return user
    if hints != "request":
        raise ValueError(f"hints must be one of {', '.join(HINTS)}, not {hints!r}")
    from kubedistill.context.checklist import checklist
    from kubedistill.context.edit import split_edit
    from kubedistill.context.request import read_request

    pasted = split_edit(user)  # an edit: the values are read from its sentence, never from the pasted YAML
    listed = checklist(read_request(pasted[0] if pasted else user))
    return f"{user}\n\n{listed}" if listed else user


def chat(mode: str, instruction: str, hints: str = "none") -> list[dict[str, str]]:
    """The student's conversation for one request: system prompt of the mode, then the user's turn (``hinted``)."""
    return [{"role": "system", "content": system_prompt(mode)}, {"role": "user", "content": hinted(instruction, hints)}]


def prompt_hash(messages: list[dict[str, str]], **params: object) -> str:
    """A stable key for a request: the messages and the generation parameters that change the answer."""
    payload = json.dumps({"messages": messages, **params}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
