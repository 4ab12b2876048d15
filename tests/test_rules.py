"""Every rule has an invalid twin that triggers it and a valid twin that passes all levels."""

from __future__ import annotations

import shlex

import pytest

from conftest import FIXTURES, errors_of, rules_of
from kubedistill.__main__ import build_parser
from kubedistill.verify import Verifier
from kubedistill.verify.command import config_from_args
from kubedistill.verify.registry import RULES

PAIRS = sorted(p.name.removesuffix(".invalid.yaml") for p in (FIXTURES / "rules").glob("*.invalid.yaml"))
# Rules exercised in test_syntax.py / test_schema.py with generated input instead of fixture files.
COVERED_ELSEWHERE = {"L1-BINARY", "L1-ENCODING", "L1-DEPTH", "L1-ALIAS-BOMB", "L1-MERGE", "L2-PATTERN",
                     "L2-RANGE", "L2-ONE-OF", "L3-DOCKER-SOCKET", "L3-SA-TOKEN", "L3-READ-ONLY-ROOT-FS",
                     "L4-SPEC-MISSING-OBJECT", "L4-SPEC-MISMATCH", "L4-SPEC-EXTRA-OBJECT",
                     "L4-SPEC-UNWANTED-OBJECT",  # the spec rules: tests/test_context.py
                     "L2-CRD-RULE-UNCHECKED",  # a warning, never an error: tests/test_cel.py
                     "L4-EDIT-UNASKED", "L4-EDIT-DROPPED"}  # edits: tests/test_edit.py, tests/test_edits_set.py


def _verifier_for(path) -> Verifier:
    first = path.read_text().splitlines()[0] if path.read_text() else ""
    flags = shlex.split(first.removeprefix("# kubedistill:")) if first.startswith("# kubedistill:") else []
    args = build_parser().parse_args(["validate", str(path), *flags])
    return Verifier(config_from_args(args))


@pytest.mark.parametrize("rule_id", PAIRS)
def test_invalid_twin_triggers_rule(rule_id):
    path = FIXTURES / "rules" / f"{rule_id}.invalid.yaml"
    results = _verifier_for(path).verify_file(str(path))
    assert rule_id in rules_of(results)
    assert errors_of(results), "the invalid twin must fail"
    level = int(rule_id[1])
    assert any(r.failed_level == level for r in results)


@pytest.mark.parametrize("rule_id", PAIRS)
def test_valid_twin_passes(rule_id):
    path = FIXTURES / "rules" / f"{rule_id}.valid.yaml"
    results = _verifier_for(path).verify_file(str(path))
    assert rule_id not in rules_of(results)
    assert not errors_of(results), [f.message for f in errors_of(results)]


def test_every_rule_has_twins_or_a_generated_test():
    from kubedistill.verify import engine  # noqa: F401  (registers every rule)

    missing = sorted(set(RULES) - set(PAIRS) - COVERED_ELSEWHERE)
    assert not missing, f"rules without fixture twins: {missing}"


def test_rules_have_checkov_twins_where_they_exist():
    from kubedistill.verify import engine  # noqa: F401

    assert RULES["L3-PRIVILEGED"].checkov == "CKV_K8S_16"
    assert RULES["L3-RESOURCES-REQUESTS"].checkov == "CKV_K8S_10"
    assert all(r.level == int(r.id[1]) for r in RULES.values())
