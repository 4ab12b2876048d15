"""Typed configs from YAML and command-line overrides: defaults < YAML < ``key.path=value`` flags.

Every problem in a config (unknown key, wrong type) is collected and reported at once, with the file and
the dotted key, so a user fixes them in one pass (torchtune's habit).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from kubedistill.errors import UserError

T = TypeVar("T")


def load_config(cls: type[T], path: str | None = None, overrides: list[str] | None = None) -> T:
    data: dict = {}
    source = "command-line overrides"
    if path:
        source = path
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise UserError(f"cannot read config {path}: {exc.strerror}", "check the path") from None
        except yaml.YAMLError as exc:
            raise UserError(f"config {path} is not valid YAML: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise UserError(f"config {path} must be a mapping at the top level")
        data = loaded or {}
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"override {item!r} is not key=value", "e.g. synthetic.n=500")
        target = data
        parts = key.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise UserError(f"override {item!r}: {part} is not a section")
        target[parts[-1]] = yaml.safe_load(value) if value else ""
    problems: list[str] = []
    result = _build(cls, data, "", problems)
    if problems:
        raise UserError(f"invalid config ({source}):\n  " + "\n  ".join(problems),
                        "see the config's dataclass docstrings or a shipped example under configs/")
    return result


def _build(cls: Any, data: Any, prefix: str, problems: list[str]) -> Any:
    if not isinstance(data, dict):
        problems.append(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {type(data).__name__}")
        return cls()
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            problems.append(f"{prefix}{key}: unknown key (known: {', '.join(sorted(names))})")
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _coerce(hints[f.name], data[f.name], f"{prefix}{f.name}", problems)
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str, problems: list[str]) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key + ".", problems)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _coerce(options[0], value, key, problems) if len(options) == 1 else value
    if origin is list or origin is tuple:
        if not isinstance(value, list):
            problems.append(f"{key}: expected a list, got {type(value).__name__}")
            return []
        item = typing.get_args(hint)[0] if typing.get_args(hint) else Any
        items = [_coerce(item, v, f"{key}[{i}]", problems) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(f"{key}: expected a mapping, got {type(value).__name__}")
            return {}
        return dict(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and not (isinstance(value, hint) and not (hint is int and isinstance(value,
                                                                                                            bool))):
        problems.append(f"{key}: expected {hint.__name__}, got {type(value).__name__} {value!r}")
        return hint()
    return value
