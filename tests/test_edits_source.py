"""Edit pairs from the offline teacher (``sources/edits.py``): every family passes L1-L4 with its spec and edit
conformance while its input fails that spec; same seed, same pairs; they go through ``kubedistill sources`` and
``kubedistill corpus build`` and the dataset card counts them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from conftest import REPO
from kubedistill.context.edit import split_edit
from kubedistill.context.spec import TaskSpec
from kubedistill.sources.edits import OPS, EditsConfig, edit_requests
from kubedistill.sources.offline import OfflineTeacher
from kubedistill.sources.reverse import ReverseConfig
from kubedistill.sources.store import read_pairs
from kubedistill.sources.teacher import cached_answer
from kubedistill.verify import Verifier, VerifyConfig

FAMILIES = tuple(OPS)
VERIFIER = Verifier(VerifyConfig(policy="restricted", context="bundle"))


def _pairs(family: str | None, n: int, seed: int = 0, reverse: ReverseConfig | None = None, **extra) -> list:
    config = EditsConfig(n=n, families={family: 1} if family else {}, **extra)
    return list(edit_requests(config, seed, reverse))


def _errors(text: str, spec: TaskSpec) -> list[tuple[str, str]]:
    return [(f.rule, f.path) for r in VERIFIER.verify_text(text, spec=spec) for f in r.findings if f.is_error]


def _check(pair_id: str, request, origin: dict) -> None:
    spec = request.spec
    assert spec.family == request.family and spec.family.startswith("edit-"), pair_id
    assert _errors(request.manifest, spec) == [], (pair_id, origin["ops"])
    assert _errors(spec.input, spec), (pair_id, origin["ops"], "the input passes its own spec")
    said, pasted = split_edit(request.instruction)
    assert said and pasted.strip() == spec.input.strip(), pair_id
    assert TaskSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert "*" not in spec.changes and origin["voice"] and origin["layout"] in ("request-first", "yaml-first")


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_passes_its_spec_and_its_input_fails_it(family):
    pairs = _pairs(family, 24, seed=3)
    assert len(pairs) == 24
    for pair in pairs:
        _check(*pair)
    assert len({op for _, _, origin in pairs for op in origin["ops"]}) >= 3  # more than one kind of change


def test_an_unasked_change_to_an_edit_answer_is_caught():
    checked = 0
    for pair_id, request, _ in _pairs("edit-field", 12, seed=5):
        docs = list(yaml.safe_load_all(request.manifest))
        target = next((d for d in docs if not any(c.startswith(f"{d['kind']}/{d['metadata']['name']}") and (
            "labels" in c or " " not in c) for c in request.spec.changes)), None)
        if target is None:
            continue  # the request itself changes the labels of the only object
        target["metadata"].setdefault("labels", {})["unasked"] = "yes"
        rules = [rule for rule, _ in _errors(yaml.safe_dump_all(docs, sort_keys=False), request.spec)]
        assert rules == ["L4-EDIT-UNASKED"], pair_id
        checked += 1
    assert checked >= 8


@pytest.mark.realdata
def test_pairs_from_real_manifests_pass(real_dir):
    pairs = _pairs(None, 16, seed=1, real_share=1.0, reverse=ReverseConfig(dir=str(real_dir)))
    assert sum(origin["base"] == "real" for _, _, origin in pairs) >= 8
    for pair in pairs:
        _check(*pair)
    real = next(origin for _, _, origin in pairs if origin["base"] == "real")
    assert real["file"] and real["repo"] and real["license"]


def test_same_seed_same_pairs_and_another_seed_others():
    def stable(pairs):
        return [(i, r.instruction, r.manifest, r.spec.to_dict(), o) for i, r, o in pairs]

    first = stable(_pairs(None, 20, seed=7))
    assert first == stable(_pairs(None, 20, seed=7))
    assert [p[1] for p in first] != [p[1] for p in stable(_pairs(None, 20, seed=8))]
    assert [p[0] for p in first] == [f"edit-7-{i:07d}" for i in range(20)]


def test_teachers_answer_an_edit_with_the_complete_result():
    _, request, _ = _pairs("edit-companion", 1)[0]
    assert request.instruction in request.messages[0]["content"]
    offline = OfflineTeacher().answer(request)
    assert (offline.instruction, offline.manifest, offline.error) == (request.instruction, request.manifest, "")
    text = "Here you go:\n```yaml\n" + request.manifest + "```\n"
    remote = cached_answer(request, None, "key", "model", lambda: (text, 1, ""))
    assert remote.instruction == request.instruction and remote.manifest == request.manifest
    assert remote.format_violations == ["code_fence", "prose"] and not remote.error
    assert cached_answer(request, None, "key", "model", lambda: ("I can't.", 1, "")).error


def test_bad_edits_config_is_reported():
    problems = EditsConfig(n=-1, families={"edit-typo": 1}, real_share=2).problems()
    assert any("edits.n" in p for p in problems) and any("edit-typo" in p for p in problems)
    assert any("real_share" in p for p in problems)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kubedistill", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=300)


def test_sources_and_corpus_build_keep_edit_pairs(tmp_path):
    config = tmp_path / "sources.yaml"
    config.write_text("seed: 4\nsynthetic:\n  n: 20\nedits:\n  n: 16\n  yaml_first: 0.5\n")
    done = _cli("sources", "--config", str(config), "--out", str(tmp_path / "src"), "--no-progress")
    assert done.returncode == 0, done.stderr
    pairs = list(read_pairs(tmp_path / "src" / "pairs.jsonl"))
    edits = [p for p in pairs if p["source"] == "edit"]
    assert len(pairs) == 36 and len(edits) == 16 and pairs[-1]["id"] == "edit-4-0000015"  # after the write pairs
    assert all(p["spec"]["input"] and p["family"].startswith("edit-") and p["origin"]["ops"] for p in edits)
    stats = json.loads((tmp_path / "src" / "stats.json").read_text())
    assert stats["edit"] == 16 and "edit_drafts" in stats

    corpus = tmp_path / "corpus.yaml"
    corpus.write_text("split:\n  train: -1\n  validation: 4\n  test: 4\n")
    done = _cli("corpus", "build", "--config", str(corpus), "--input", str(tmp_path / "src" / "pairs.jsonl"),
                "--out", str(tmp_path / "corpus"), "--no-progress")
    assert done.returncode == 0, done.stderr
    marked = [json.loads(line) for line in (tmp_path / "corpus" / "pairs.jsonl").read_text().splitlines()]
    assert all(m["status"] == "kept" for m in marked if m["source"] == "edit"), [
        m for m in marked if m["source"] == "edit" and m["status"] != "kept"]
    rows = [json.loads(line) for split in ("train", "validation", "test")
            for line in (tmp_path / "corpus" / "data" / f"{split}.jsonl").read_text().splitlines()]
    kept = [r for r in rows if r["source"] == "edit"]
    assert len(kept) == 16 and all(r["spec"]["input"] and (r["spec"].get("changes") or r["spec"].get("absent"))
                                   for r in kept)
    card = (tmp_path / "corpus" / "README.md").read_text()
    assert f"task: write {len(rows) - 16}, edit 16" in card
    tasks = json.loads((tmp_path / "corpus" / "stats.json").read_text())["tasks"]
    assert sum(tasks["edit"].values()) == 16 and sum(tasks["write"].values()) == len(rows) - 16
