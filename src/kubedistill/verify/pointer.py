"""JSON pointers (RFC 6901), the one path notation of every finding.

Findings name the field they are about as a pointer such as `/spec/template/metadata/labels/app.kubernetes.io~1name`;
schema paths, policy rules, conformance checks and the YAML locator all write or read them, so the escaping lives
here once: `~` becomes `~0` before `/` becomes `~1` (the other order would turn a literal `~1` into `/`).
"""

from __future__ import annotations


def escape(key: str) -> str:
    """One key as a pointer segment."""
    if "/" in key or "~" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


def parts(pointer: str) -> list[str]:
    """The unescaped keys of a pointer ('' is the root: no keys)."""
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]] if pointer else []
