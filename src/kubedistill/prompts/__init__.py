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
from string import Template

PROMPT_MODES = ("plain", "strict")


@cache
def load(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8")


def render(name: str, **values: object) -> str:
    """Fill a template; a missing placeholder is an error, not a silently empty prompt."""
    return Template(load(name)).substitute({k: str(v) for k, v in values.items()}).strip()


def system_prompt(mode: str) -> str:
    if mode not in PROMPT_MODES:
        raise ValueError(f"unknown prompt mode {mode!r}; choose one of {', '.join(PROMPT_MODES)}")
    return load(f"system_{mode}").strip()


def chat(mode: str, instruction: str) -> list[dict[str, str]]:
    """The student's conversation for one request: system prompt of the mode, then the user's instruction."""
    return [{"role": "system", "content": system_prompt(mode)}, {"role": "user", "content": instruction.strip()}]


def prompt_hash(messages: list[dict[str, str]], **params: object) -> str:
    """A stable key for a request: the messages and the generation parameters that change the answer."""
    payload = json.dumps({"messages": messages, **params}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
