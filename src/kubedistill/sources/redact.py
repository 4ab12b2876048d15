"""Comment stripping and credential redaction before a real manifest reaches a (possibly remote) teacher.

Secret values, environment variables whose names say they hold credentials, and strings that look like keys
or tokens are replaced by placeholders that keep the manifest valid (base64 stays base64).
"""

from __future__ import annotations

import base64
import re
from typing import Any

import yaml

REDACTED = "REDACTED"
REDACTED_B64 = base64.b64encode(REDACTED.encode()).decode()
_SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)",
                          re.IGNORECASE)
_SECRET_VALUE = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|"
    r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|sk-[A-Za-z0-9]{20,})")


def redact(doc: Any) -> tuple[Any, int]:
    """A copy of one object with credentials replaced, and how many values were replaced."""
    count = 0

    def walk(node: Any, key: str = "") -> Any:
        nonlocal count
        if isinstance(node, dict):
            return {k: walk(v, str(k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        if isinstance(node, str) and _SECRET_VALUE.search(node):
            count += 1
            return REDACTED
        return node

    out = walk(doc)
    if isinstance(out, dict) and out.get("kind") == "Secret":
        for section, placeholder in (("data", REDACTED_B64), ("stringData", REDACTED)):
            if isinstance(out.get(section), dict):
                count += len(out[section])
                out[section] = dict.fromkeys(out[section], placeholder)
    count += _redact_env(out)
    return out, count


def _redact_env(node: Any) -> int:
    count = 0
    if isinstance(node, dict):
        if isinstance(node.get("env"), list):
            for var in node["env"]:
                if isinstance(var, dict) and isinstance(var.get("value"), str) and _SECRET_NAME.search(
                        str(var.get("name", ""))) and var["value"]:
                    var["value"] = REDACTED
                    count += 1
        count += sum(_redact_env(v) for v in node.values())
    elif isinstance(node, list):
        count += sum(_redact_env(v) for v in node)
    return count


def clean_manifest(docs: list[Any]) -> tuple[str, int]:
    """Comment-free YAML of the redacted documents (key order kept), and the number of redactions."""
    cleaned, total = [], 0
    for doc in docs:
        out, n = redact(doc)
        cleaned.append(out)
        total += n
    return yaml.safe_dump_all(cleaned, sort_keys=False, default_flow_style=False, width=120), total
