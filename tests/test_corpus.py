"""The corpus builder: canonical form, filter marks, dedup, leak-free splits, card, determinism, resume."""

from __future__ import annotations

import json
import random

import pytest
import yaml

from conftest import REPO
from kubedistill.corpus import build as build_module
from kubedistill.corpus.build import CorpusConfig, build_corpus
from kubedistill.corpus.canonical import canonicalize, documents
from kubedistill.corpus.dedup import DedupConfig, Deduper, exact_key, signature
from kubedistill.corpus.filter import FilterConfig, process
from kubedistill.corpus.split import Item, SplitConfig, assign
from kubedistill.sources.run import SourcesConfig, SyntheticConfig, run_sources
from kubedistill.sources.store import read_pairs


def _as_set(text: str) -> list[str]:
    return sorted(json.dumps(d, sort_keys=True) for d in documents(text))


def test_canonical_form():
    text = ("kind: Service\nspec:\n  ports: [{port: 80}]\nmetadata: {name: web}\napiVersion: v1\n---\n"
            "# comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  run.sh: |\n    echo a\n"
            "    echo b\n  date: '2024-01-01'\n  on: 'yes'\n")
    canonical = canonicalize(text)
    assert canonical.startswith("apiVersion: v1\nkind: ConfigMap\n")  # ConfigMap before Service
    assert "#" not in canonical and "run.sh: |\n    echo a\n    echo b\n" in canonical
    # `on` is a YAML 1.1 boolean key: Kubernetes reads it as "true", and so does the canonical form
    assert "date: '2024-01-01'" in canonical and "'true': 'yes'" in canonical
    assert _as_set(canonical) == _as_set(text) and canonicalize(canonical) == canonical
    service = canonical.split("---\n")[1]
    assert service.index("apiVersion") < service.index("kind") < service.index("metadata") < service.index("spec")


def test_container_keys_in_conventional_order():
    canonical = canonicalize((REPO / "examples" / "web-app.yaml").read_text())
    container = canonical[canonical.index("- name: nginx"):]
    assert container.index("name:") < container.index("image:") < container.index("ports:") < container.index(
        "resources:")


@pytest.mark.realdata
def test_canonicalization_keeps_meaning_on_every_real_manifest(real_dir):
    checked = 0
    for line in (real_dir / "index.jsonl").read_text().splitlines():
        text = (real_dir / json.loads(line)["file"]).read_text()
        try:
            original = _as_set(text)
        except ValueError:
            continue  # files with YAML errors cannot be canonicalized (the filter rejects them first)
        assert _as_set(canonicalize(text)) == original
        checked += 1
    assert checked > 2700


def _pairs(tmp_path, n: int = 120, seed: int = 1) -> list[dict]:
    run_sources(SourcesConfig(seed=seed, synthetic=SyntheticConfig(n=n)), tmp_path / f"src{seed}", progress=False)
    return list(read_pairs(tmp_path / f"src{seed}" / "pairs.jsonl"))


def test_filter_marks_every_rejection_with_its_reason(tmp_path):
    good = _pairs(tmp_path, 3)[0]
    config = FilterConfig()
    kept = process(good, config)
    assert kept["status"] == "kept" and kept["manifest_hash"] and kept["manifest"] == canonicalize(good["manifest"])
    cases = {
        "teacher": {**good, "error": "gave up after 6 attempts"},
        "format": {**good, "manifest": "", "raw": "I cannot help with that."},
        "L2": {**good, "manifest": good["manifest"].replace("apiVersion: apps/v1", "apiVersion: apps/v9")},
        "L4": {**good, "spec": {"family": "x", "objects": [{"kind": "CronJob"}]}},
    }
    for level, record in cases.items():
        marked = process(record, config)
        assert marked["status"] == "rejected" and marked["reject"]["level"] == level, (level, marked["reject"])
        assert marked["reject"]["message"]


def test_dedup_marks_exact_and_near_duplicates(tmp_path):
    pair = _pairs(tmp_path, 3)[0]
    config = DedupConfig()
    deduper = Deduper(config)
    manifest = canonicalize(pair["manifest"])

    def add(pair_id: str, instruction: str, text: str = manifest):
        return deduper.add(pair_id, exact_key(instruction, text), signature(instruction, text, config))

    assert add("a", pair["instruction"]) is None
    assert add("b", "  " + pair["instruction"].upper() + " ") == ("exact", "a")
    assert add("c", pair["instruction"] + " Please.") == ("near", "a")
    other = _pairs(tmp_path, 5, seed=9)[4]
    assert add("d", other["instruction"], canonicalize(other["manifest"])) is None


def test_split_is_grouped_stratified_sized_and_order_free():
    rng = random.Random(0)
    strata = [rng.choice("abc") for _ in range(300)]
    items = [Item(f"p{i}", (strata[i // 3], "s"), f"g{i // 3}") for i in range(900)]
    config = SplitConfig(train=300, validation=60, test=90, seed=4)
    first = assign(items, config)
    shuffled = items[:]
    random.Random(1).shuffle(shuffled)
    assert assign(shuffled, config) == first
    by_group: dict[str, set[str]] = {}
    for item in items:
        by_group.setdefault(item.group, set()).add(first[item.id])
    assert all(len(splits) == 1 for splits in by_group.values())
    counts = {s: sum(v == s for v in first.values()) for s in ("train", "validation", "test", "unused")}
    # groups of 3 are never cut, so each of the 3 strata may miss its quota by at most 1 pair
    for split, target in (("test", 90), ("validation", 60), ("train", 300)):
        assert abs(counts[split] - target) <= 3, (split, counts)
    for stratum in "abc":
        share = sum(first[i.id] == "test" for i in items if i.stratum[0] == stratum) / 90
        total_share = sum(i.stratum[0] == stratum for i in items) / 900
        assert abs(share - total_share) < 0.06


@pytest.fixture()
def raw_pairs(tmp_path):
    pairs = _pairs(tmp_path, 160, seed=2)
    extra = [dict(pairs[0], id="dup-exact"), dict(pairs[1], id="bad", manifest="kind: [")]
    path = tmp_path / "raw.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in pairs + extra))
    return path


SMALL = CorpusConfig(split=SplitConfig(train=-1, validation=20, test=30), chunk_size=40)


def _outputs(out) -> dict[str, bytes]:
    names = ["README.md", "stats.json", "pairs.jsonl", "plots/funnel.png", "plots/family_mix.png"]
    names += [f"data/{s}.jsonl" for s in ("train", "validation", "test")]
    return {name: (out / name).read_bytes() for name in names}


def test_build_end_to_end_is_byte_identical_and_parallel_safe(raw_pairs, tmp_path):
    summary = build_corpus(SMALL, [str(raw_pairs)], tmp_path / "one", progress=False)
    build_corpus(SMALL, [str(raw_pairs)], tmp_path / "two", jobs=2, progress=False)
    assert _outputs(tmp_path / "one") == _outputs(tmp_path / "two")
    assert summary["counts"]["duplicate:exact"] == 1 and summary["counts"]["rejected:L1"] == 1
    assert summary["splits"]["test"] >= 30 and summary["contamination"]["exact_instruction"] == 0
    marked = [json.loads(line) for line in (tmp_path / "one" / "pairs.jsonl").read_text().splitlines()]
    assert len(marked) == 162 and {m["status"] for m in marked} == {"kept", "rejected", "duplicate"}
    front = (tmp_path / "one" / "README.md").read_text().split("---\n")[1]
    files = yaml.safe_load(front)["configs"][0]["data_files"]
    assert [f["split"] for f in files] == ["train", "validation", "test"]
    test_ids = {json.loads(line)["id"] for line in (tmp_path / "one" / "data" / "test.jsonl").read_text().splitlines()}
    train = [json.loads(line) for line in (tmp_path / "one" / "data" / "train.jsonl").read_text().splitlines()]
    assert not test_ids & {t["id"] for t in train}


def test_interrupted_build_resumes_to_the_same_result(raw_pairs, tmp_path, monkeypatch):
    clean = tmp_path / "clean"
    build_corpus(SMALL, [str(raw_pairs)], clean, progress=False)
    original = build_module.map_chunk
    calls = {"n": 0}

    def crash_after_two(records, config):
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt
        return original(records, config)

    monkeypatch.setattr(build_module, "map_chunk", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        build_corpus(SMALL, [str(raw_pairs)], tmp_path / "resumed", progress=False)
    assert len(list((tmp_path / "resumed" / "work").rglob("part-*.jsonl"))) == 2
    monkeypatch.setattr(build_module, "map_chunk", original)
    build_corpus(SMALL, [str(raw_pairs)], tmp_path / "resumed", progress=False)
    assert _outputs(clean) == _outputs(tmp_path / "resumed")


def test_bad_input_is_a_clear_error(tmp_path):
    from kubedistill.errors import UserError

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\nnot json\n')
    with pytest.raises(UserError, match=r"bad.jsonl:2: not a JSON line"):
        build_corpus(SMALL, [str(bad)], tmp_path / "out", progress=False)


def test_hugging_face_datasets_loads_the_output(raw_pairs, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets", reason="pip install -e '.[test]' installs datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    summary = build_corpus(SMALL, [str(raw_pairs)], tmp_path / "out", progress=False)
    loaded = datasets.load_dataset(str(tmp_path / "out"))
    assert {name: len(split) for name, split in loaded.items()} == {s: summary["splits"][s] for s in
                                                                     ("train", "validation", "test")}
    assert loaded["test"][0]["manifest"].startswith("apiVersion:")
