"""The hand-written request set (bench/data/requests): its shape, its references, its split, and that no corpus
holds it; and the request reader held to it (no correct reference failed on ``dev``; ``check`` no worse than its
recorded measurement)."""

from __future__ import annotations

import json
import sys
from collections import Counter

import pytest

from conftest import REPO
from kubedistill.context.request import read_request
from kubedistill.corpus.dedup import normalise
from kubedistill.verify import Verifier, VerifyConfig

sys.path.insert(0, str(REPO / "bench"))
import requests_set

ROWS = requests_set.load()
KINDS_ASKED = {"Deployment", "Service", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "Ingress",
               "ConfigMap", "Secret", "PersistentVolumeClaim", "PersistentVolume", "StorageClass", "LimitRange",
               "ResourceQuota", "Namespace", "PriorityClass", "ClusterRole", "ClusterRoleBinding", "Role",
               "RoleBinding", "ServiceAccount", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"}


def test_the_set_has_every_style_and_kind_and_a_large_enough_check_split():
    styles = Counter(row["style"] for row in ROWS)
    assert len(ROWS) >= 200 and set(styles) == set(requests_set.STYLES) and min(styles.values()) >= 20, styles
    assert sum(row["split"] == "check" for row in ROWS) >= 80
    kinds = {o["kind"] for row in ROWS for o in row["spec"]["objects"]}
    assert kinds >= KINDS_ASKED, KINDS_ASKED - kinds
    assert sum(bool(row["spec"].get("existing")) for row in ROWS) >= 26


def test_the_split_follows_the_source_folder_and_the_built_files_match_the_sources():
    assert {row["split"] for row in ROWS if row["file"] in {p.name for p in requests_set.SOURCES.glob("*.yaml")}} == {
        "dev"}
    assert {row["id"][:3] for row in ROWS if row["split"] == "check"} <= {"c2a", "c2b"}
    for split in ("dev", "check"):
        built = [json.loads(line) for line in (requests_set.SET_DIR / f"{split}.jsonl").read_text().splitlines()]
        expected = [requests_set.task_row(row) for row in ROWS if row["split"] == split]
        assert built == expected, f"{split}.jsonl is stale: run python bench/requests_set.py build"


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_every_reference_passes_l1_to_l4_and_its_own_spec(row, baseline_verifier):
    assert requests_set.reference_problems(row, baseline_verifier) == []


@pytest.fixture(scope="module")
def baseline_verifier() -> Verifier:
    return Verifier(VerifyConfig(policy="baseline", context="bundle"))


def _false_failures(split: str, verifier: Verifier) -> list[str]:
    failed = []
    for row in (r for r in ROWS if r["split"] == split):
        spec = read_request(row["request"])
        results = verifier.verify_text(row["manifest"], f"{row['id']}.yaml", spec=spec) if spec else []
        if any(f.rule.startswith("L4-SPEC") for r in results for f in r.findings if f.is_error):
            failed.append(row["id"])
    return failed


def test_the_reader_fails_no_correct_reference_of_the_dev_split(baseline_verifier):
    assert _false_failures("dev", baseline_verifier) == []


def test_the_reader_does_no_worse_on_the_check_split_than_recorded(baseline_verifier):
    recorded = json.loads((REPO / "bench" / "results" / "request_specs_handwritten_check.json").read_text())
    assert len(_false_failures("check", baseline_verifier)) <= recorded["false_failures"]


def _trigrams(text: str) -> set[str]:
    words = normalise(text).split()
    return {" ".join(words[i:i + 3]) for i in range(max(1, len(words) - 2))}


def test_no_built_corpus_holds_a_hand_written_request_or_a_near_copy(tmp_path):
    """Near: word 3-gram Jaccard similarity of 0.5 or more with any corpus instruction."""
    from kubedistill.corpus.build import CorpusConfig, build_corpus
    from kubedistill.corpus.split import SplitConfig
    from kubedistill.sources.run import SourcesConfig, SyntheticConfig, run_sources

    run_sources(SourcesConfig(seed=11, synthetic=SyntheticConfig(n=600)), tmp_path / "sources", progress=False)
    config = CorpusConfig(split=SplitConfig(train=-1, validation=30, test=30))
    build_corpus(config, [str(tmp_path / "sources" / "pairs.jsonl")], tmp_path / "corpus", progress=False)
    instructions = [json.loads(line)["instruction"] for split in ("train", "validation", "test")
                    for line in (tmp_path / "corpus" / "data" / f"{split}.jsonl").read_text().splitlines()]
    assert len(instructions) > 500
    corpus = [(normalise(text), _trigrams(text)) for text in instructions]
    for row in ROWS:
        mine, grams = normalise(row["request"]), _trigrams(row["request"])
        for text, other in corpus:
            assert mine != text, row["id"]
            assert len(grams & other) / len(grams | other) < 0.5, (row["id"], text)
