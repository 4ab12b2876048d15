"""bench/stage2_pairs.py and bench/memory_probe.py: which unseen pairs a second training stage gets (memory phrasing
balanced, or richest), and a probe of held-out tasks by memory phrasing that holds no corpus instruction."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _module(name: str = "stage2_pairs"):
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(ident: str, **memory: str) -> dict:
    obj: dict = {"kind": "Deployment", "name": ident}
    if "limit" in memory:
        obj["limits"] = {"memory": memory["limit"]}
    if "request" in memory:
        obj["requests"] = {"memory": memory["request"]}
    return {"id": ident, "instruction": f"a deployment {ident}", "manifest": "kind: Deployment\n",
            "family": "deployment",
            "spec": {"family": "deployment", "objects": [{"kind": "Service", "name": ident}, obj]}}


def test_memory_phrasing_reads_every_object_and_prefers_the_rarer_statement():
    stage = _module()
    assert stage.memory_phrasing(_row("a", limit="1Gi")["spec"]) == "limit"
    assert stage.memory_phrasing(_row("b", limit="1Gi", request="512Mi")["spec"]) == "both"
    assert stage.memory_phrasing(_row("c", request="512Mi")["spec"]) == "request"
    assert stage.memory_phrasing(_row("d")["spec"]) == ""
    assert stage.memory_phrasing(None) == ""
    mixed = {"objects": [_row("e", request="1Gi")["spec"]["objects"][1], _row("f", limit="2Gi")["spec"]["objects"][1]]}
    assert stage.memory_phrasing(mixed) == "limit"


def test_memory_balanced_keeps_every_limit_and_as_many_requests_as_limits():
    stage = _module()
    rows = ([_row(f"l{i}", limit="1Gi") for i in range(3)]
            + [_row(f"b{i}", limit="1Gi", request="1Gi") for i in range(2)]
            + [_row(f"r{i}", request="1Gi") for i in range(9)] + [_row(f"n{i}") for i in range(5)])
    chosen = stage.memory_balanced(rows, 100)
    kinds = Counter(stage.memory_phrasing(r["spec"]) for r in chosen)
    assert kinds == {"limit": 3, "both": 2, "request": 3}
    assert len({r["id"] for r in chosen}) == len(chosen)
    assert stage.memory_balanced(rows, 4) == chosen[:4]
    rehearsed = stage.memory_balanced(rows, 100, rehearsal=2)
    assert Counter(stage.memory_phrasing(r["spec"]) for r in rehearsed) == {**kinds, "": 2}
    assert len(stage.memory_balanced(rows, 100, rehearsal=50)) == 8 + 5


def test_cli_writes_the_memory_stage_and_keeps_test_and_validation(tmp_path):
    def corpus(root: Path, train: list[dict]) -> Path:
        (root / "data").mkdir(parents=True)
        for split, rows in (("train", train), ("validation", [_row("v")]), ("test", [_row("t", limit="1Gi")])):
            (root / "data" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return root

    seen = [_row("s1", limit="1Gi"), _row("s2", request="1Gi")]
    unseen = [_row("u1", limit="2Gi"), _row("u2", request="2Gi"), _row("u3", request="4Gi"), _row("u4")]
    all_ = corpus(tmp_path / "all", seen + unseen)
    first = corpus(tmp_path / "first", seen)
    out = tmp_path / "stage"
    done = subprocess.run([sys.executable, str(REPO / "bench" / "stage2_pairs.py"), "--all", str(all_), "--seen",
                           str(first), "--pick", "memory", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["unseen"] == 4 and summary["memory"] == {"limit": 1, "request": 1}
    ids = {json.loads(line)["id"] for line in (out / "data" / "train.jsonl").read_text().splitlines()}
    assert "u1" in ids and len(ids) == 2 and not ids & {"s1", "s2", "u4"}
    assert (out / "data" / "test.jsonl").read_bytes() == (first / "data" / "test.jsonl").read_bytes()


def test_memory_probe_skips_corpus_instructions_repeats_and_reverse_pairs(tmp_path):
    probe = _module("memory_probe")
    corpus = tmp_path / "corpus"
    (corpus / "data").mkdir(parents=True)
    for split, row in (("train", _row("x")), ("validation", _row("y")), ("test", _row("in-test", limit="1Gi"))):
        (corpus / "data" / f"{split}.jsonl").write_text(json.dumps(row) + "\n")
    reverse = dict(_row("reverse", limit="1Gi"), source="reverse_instruction")
    rows = [dict(r, source="synthetic_direct") for r in
            (_row("in-test", limit="1Gi"), _row("l1", limit="1Gi"), _row("l1", limit="2Gi"), _row("l2", limit="1Gi"),
             _row("r1", request="1Gi"), _row("n1"))] + [reverse, dict(_row("bad", limit="1Gi"), error="timeout")]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    known = probe.known_instructions([corpus])
    chosen = probe.probe([pairs], known, {"limit": 2, "request": 1})
    assert sorted(r["id"] for r in chosen) == ["l1", "l2", "r1"]
    assert set(chosen[0]) == set(probe.FIELDS)
    with pytest.raises(SystemExit, match="only 2 unseen"):
        probe.probe([pairs], known, {"limit": 3})


def test_the_scripts_name_a_bad_input_file_and_exit_1_without_a_traceback(tmp_path):
    bad = tmp_path / "pairs.jsonl"
    bad.write_text(json.dumps(_row("a", limit="1Gi")) + "\n{broken\n")
    cases = ((["memory_probe.py", "--pairs", str(bad)], "pairs.jsonl:2: not a JSON line"),
             (["memory_probe.py", "--pairs", str(tmp_path / "none")], "No such file"),
             (["stage2_pairs.py", "--all", str(tmp_path), "--seen", str(tmp_path)], "test.jsonl"))
    for (script, *args), said in cases:
        done = subprocess.run([sys.executable, str(REPO / "bench" / script), *args, "--out", str(tmp_path / "o")],
                              capture_output=True, text=True)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "error:" in done.stderr and said in done.stderr
