"""The hand-written edit set (bench/data/edits): its shape, its split, and that every entry is a fair edit task:
the reference passes L1-L4, its spec and edit conformance, and the input handed back unchanged fails."""

from __future__ import annotations

import json
import sys
from collections import Counter

import pytest

from conftest import REPO
from kubedistill.verify import Verifier, VerifyConfig

sys.path.insert(0, str(REPO / "bench"))
import edits_set

ROWS = edits_set.load()


def test_the_set_has_every_style_family_and_layout_and_a_check_split():
    assert len(ROWS) >= 60
    for key, allowed in (("style", edits_set.STYLES), ("family", edits_set.FAMILIES), ("layout", edits_set.LAYOUTS)):
        counts = Counter(row[key] for row in ROWS)
        assert set(counts) == set(allowed) and min(counts.values()) >= 5, (key, counts)
    assert sum(row["split"] == "check" for row in ROWS) >= 20


def test_the_built_files_match_the_sources():
    for split in ("dev", "check"):
        built = [json.loads(line) for line in (edits_set.SET_DIR / f"{split}.jsonl").read_text().splitlines()]
        assert built == [edits_set.task_row(row) for row in ROWS if row["split"] == split], \
            f"{split}.jsonl is stale: run python bench/edits_set.py build"


def test_the_instruction_is_the_request_and_the_input_as_pasted():
    row = next(r for r in ROWS if r["layout"] == "yaml-first")
    text = edits_set.instruction(row)
    assert text.startswith("```yaml\n") and text.endswith(row["request"].strip())


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(VerifyConfig(policy="baseline", context="bundle"))


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_every_reference_is_a_fair_edit(row, verifier):
    assert edits_set.reference_problems(row, verifier) == []
