"""Schema defaults applied to a custom resource before it is validated, as the API server applies them.

apiextensions-apiserver fills every absent property that has a ``default`` (and every null one that is not
nullable) at every level, top-down, before validation, so a required field with a default may be left out and a
rule such as ``self.mode == 'Strict'`` sees the default of ``mode``. The compiled defaulter copies only the
objects it changes and leaves the manifest as read; a default value is inserted as it is, not copied, since
nothing downstream mutates a document (deep-copying every default cost a sixth of checking a Gateway).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Defaulter = Callable[[Any], Any]
_MISSING = object()


def defaulter(schema: Any) -> Defaulter | None:
    """The function applying ``schema``'s defaults, or None when the schema has none anywhere."""
    if not isinstance(schema, dict):
        return None
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    defaults = {k: (s["default"], bool(s.get("nullable"))) for k, s in props.items()
                if isinstance(s, dict) and "default" in s}
    subs = {k: d for k, s in props.items() if (d := defaulter(s)) is not None}
    extra = defaulter(schema.get("additionalProperties"))
    items = defaulter(schema.get("items"))
    if not (defaults or subs or extra or items):
        return None

    def apply(value: Any) -> Any:
        if type(value) is dict:
            return _object(value, props, defaults, subs, extra)
        if type(value) is list and items is not None:
            new = [items(v) for v in value]
            return new if any(a is not b for a, b in zip(new, value, strict=True)) else value
        return value

    return apply


def _object(value: dict, props: dict, defaults: dict, subs: dict, extra: Defaulter | None) -> dict:
    out: dict | None = None
    for key, (default, nullable) in defaults.items():
        current = value.get(key, _MISSING)
        if current is _MISSING or (current is None and not nullable):
            out = dict(value) if out is None else out
            out[key] = default
    source = value if out is None else out
    for key, item in source.items():
        fill = subs.get(key) if key in props else extra
        if fill is not None:
            new = fill(item)
            if new is not item:
                out = dict(value) if out is None else out
                out[key] = new
    return value if out is None else out
