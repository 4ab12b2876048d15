"""``kubedistill corpus build``: raw pairs in, verified leak-free splits and a dataset card out.

    kubedistill corpus build --config configs/corpus/default.yaml --input runs/sources/pairs.jsonl --out runs/corpus

Stage 1 (map, per pair, parallel): filter + canonicalize + MinHash signature, in chunks written atomically
to ``work/``; an interrupted build resumes from the last finished chunk. Stage 2 (global, streaming over the
chunks, compact keys only): exact and near dedup, groups, stratified split. Stage 3: split files, the marked
record of every pair (``pairs.jsonl``), ``stats.json`` and the card. Same inputs and seed, same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from kubedistill.corpus import card
from kubedistill.corpus.dedup import DedupConfig, Deduper, exact_key, lean, signature
from kubedistill.corpus.engine import Engine, LocalEngine
from kubedistill.corpus.filter import FilterConfig, process_chunk
from kubedistill.corpus.split import Item, SplitConfig, UnionFind, assign
from kubedistill.errors import UserError
from kubedistill.progress import Progress
from kubedistill.sources.store import read_pairs, write_json_atomic

OUTPUT_FIELDS = ("id", "instruction", "manifest", "family", "source", "spec", "teacher", "model", "origin")


@dataclass
class CorpusConfig:
    filter: FilterConfig = field(default_factory=FilterConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    chunk_size: int = 2000
    """Pairs per map chunk: the unit of parallel work and of resume."""
    contamination_ngram: int = 13


def map_chunk(records: list[dict], config: CorpusConfig) -> list[dict]:
    """Stage 1 for one chunk: pure function of its input, so a local pool or a cluster can run it."""
    out = process_chunk(records, config.filter)
    for record in out:
        if record["status"] == "kept":
            record["exact_key"] = exact_key(record["instruction"], record["manifest_hash"])
            sig = signature(record["instruction"], record["manifest"], config.dedup)
            record["minhash"] = base64.b64encode(sig.tobytes()).decode()
    return out


def fingerprint(paths: list[Path], config: CorpusConfig) -> str:
    digest = hashlib.sha256(json.dumps(asdict(config.filter), sort_keys=True).encode())
    digest.update(json.dumps(asdict(config.dedup), sort_keys=True).encode())
    digest.update(str(config.chunk_size).encode())
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _chunks(records: Iterator[dict], size: int, skip: set[int]) -> Iterator[tuple[int, list[dict]]]:
    for index in itertools.count():
        chunk = list(itertools.islice(records, size))
        if not chunk:
            return
        if index not in skip:
            yield index, chunk


def run_map(inputs: list[Path], config: CorpusConfig, work: Path, engine: Engine, bar: Progress) -> list[Path]:
    work.mkdir(parents=True, exist_ok=True)
    finished = sorted(work.glob("part-*.jsonl"))
    done = {int(p.stem.split("-")[1]) for p in finished}
    bar.advance(sum(1 for p in finished for _ in p.open()))
    pending = _chunks(read_pairs(*inputs), config.chunk_size, done)
    for index, result in engine.map(_MapTask(config), pending):
        tmp = work / f"part-{index:06d}.tmp"
        tmp.write_text("".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in result))
        os.replace(tmp, work / f"part-{index:06d}.jsonl")
        bar.advance(len(result))
    return sorted(work.glob("part-*.jsonl"))


class _MapTask:
    """Picklable chunk function for worker processes: (index, records) -> (index, marked records)."""

    def __init__(self, config: CorpusConfig) -> None:
        self.config = config

    def __call__(self, item: tuple[int, list[dict]]) -> tuple[int, list[dict]]:
        index, records = item
        return index, map_chunk(records, self.config)


def _group_key(record: dict) -> list[str]:
    keys = [f"manifest:{record['manifest_hash']}"]
    origin = record.get("origin") or {}
    if origin.get("file"):
        keys.append(f"file:{origin.get('repo', '')}:{origin['file']}")
    return keys


def run_global(parts: list[Path], config: CorpusConfig) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Dedup marks (id -> (kind, duplicate of)) and split assignment (id -> split), from compact keys only."""
    deduper = Deduper(config.dedup)
    marks: dict[str, tuple[str, str]] = {}
    items: list[Item] = []
    union = UnionFind()
    for record in read_pairs(*parts):
        if record["status"] != "kept":
            continue
        hashvalues = np.frombuffer(base64.b64decode(record["minhash"]), dtype=np.uint64)
        duplicate = deduper.add(record["id"], record["exact_key"], hashvalues)
        if duplicate:
            marks[record["id"]] = duplicate
            continue
        keys = _group_key(record)
        for key in keys[1:]:
            union.union(keys[0], key)
        items.append(Item(record["id"], (record.get("family") or "", record.get("source") or ""), keys[0]))
    for item in items:
        item.group = union.find(item.group)
    return marks, assign(items, config.split)


def build_corpus(config: CorpusConfig, inputs: list[str], out: str | Path, jobs: int = 1,
                 progress: bool | None = None, engine: Engine | None = None) -> dict:
    paths = [Path(p) for p in inputs]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise UserError(f"input not found: {', '.join(missing)}", "pass the pairs.jsonl of a sources run")
    out = Path(out)
    timings: dict[str, float] = {}
    start = time.monotonic()
    key = fingerprint(paths, config)
    work = out / "work" / f"map-{key}"
    if (out / "work").exists():
        for stale in (out / "work").glob("map-*"):
            if stale != work:
                shutil.rmtree(stale)
    bar = Progress("corpus map", None, enabled=progress)
    parts = run_map(paths, config, work, engine or LocalEngine(jobs), bar)
    bar.close()
    timings["map"] = time.monotonic() - start
    start = time.monotonic()
    marks, splits = run_global(parts, config)
    timings["dedup_split"] = time.monotonic() - start
    start = time.monotonic()
    summary = write_outputs(parts, marks, splits, config, out)
    timings["write"] = time.monotonic() - start
    engine_name = engine.name if engine else "local"
    write_json_atomic(out / "build_log.json", {"seconds": {k: round(v, 3) for k, v in timings.items()},
                                               "jobs": jobs, "engine": engine_name, "work": str(work)})
    summary["seconds"] = timings
    return summary


def write_outputs(parts: list[Path], marks: dict, splits: dict, config: CorpusConfig, out: Path) -> dict:
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    handles = {s: (data / f"{s}.jsonl.tmp").open("w", encoding="utf-8") for s in card.SPLITS}
    marked = (out / "pairs.jsonl.tmp").open("w", encoding="utf-8")
    counts: Counter = Counter()
    rules: Counter = Counter()
    violations: Counter = Counter()
    families: dict[str, Counter] = defaultdict(Counter)
    sources: dict[str, Counter] = defaultdict(Counter)
    families_by_split: dict[str, Counter] = defaultdict(Counter)
    words: dict[str, list[int]] = defaultdict(list)
    manifest_lines: dict[str, list[int]] = defaultdict(list)
    contamination = _Contamination(config)
    for record in read_pairs(*parts):
        counts["input"] += 1
        violations.update(record.get("format_violations") or [])
        entry = {k: record.get(k) for k in ("id", "source", "family", "status", "reject")}
        if record["status"] == "rejected":
            counts[f"rejected:{record['reject']['level']}"] += 1
            rules.update(record["reject"]["rules"] or [record["reject"]["stage"]])
        elif record["id"] in marks:
            kind, original = marks[record["id"]]
            entry.update(status="duplicate", duplicate_of=original, dedup=kind)
            counts[f"duplicate:{kind}"] += 1
        else:
            split = splits.get(record["id"], "unused")
            entry["split"] = split
            counts[f"split:{split}"] += 1
            if split in handles:
                row = {k: record.get(k) for k in OUTPUT_FIELDS}
                handles[split].write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
                families[record.get("family") or ""][split] += 1
                sources[record.get("source") or ""][split] += 1
                families_by_split[split][record.get("family") or ""] += 1
                words[split].append(len(record["instruction"].split()))
                manifest_lines[split].append(record["manifest"].count("\n"))
                contamination.add(split, record)
        marked.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
    for split, handle in handles.items():
        handle.close()
        os.replace(data / f"{split}.jsonl.tmp", data / f"{split}.jsonl")
    marked.close()
    os.replace(out / "pairs.jsonl.tmp", out / "pairs.jsonl")
    rows = card.funnel(counts)
    summary = {
        "config": asdict(config), "funnel": rows, "counts": dict(sorted(counts.items())),
        "splits": {s: counts[f"split:{s}"] for s in card.SPLITS},
        "reject_rules": sorted(rules.items(), key=lambda t: (-t[1], t[0])),
        "format_violations": dict(sorted(violations.items())),
        "families": {f: dict(c) for f, c in families.items()}, "sources": {s: dict(c) for s, c in sources.items()},
        "tasks": card.tasks({f: dict(c) for f, c in families.items()}),
        "lengths": {s: {"instruction_words": card.lengths(words[s]), "manifest_lines": card.lengths(manifest_lines[s])}
                    for s in card.SPLITS},
        "contamination": contamination.report(),
    }
    card.plots(out / "plots", families_by_split, rows)
    write_json_atomic(out / "stats.json", summary)
    (out / "README.md").write_text(card.render(summary), encoding="utf-8")
    return summary


class _Contamination:
    """Test-against-train overlap: exact instructions and manifests, MinHash near duplicates, shared n-grams."""

    def __init__(self, config: CorpusConfig) -> None:
        self.n = config.contamination_ngram
        self.config = config
        self.train_instructions: set[str] = set()
        self.train_manifests: set[str] = set()
        self.train_grams: set[int] = set()
        self.test: list[dict] = []
        self.train_signatures: list[tuple[str, np.ndarray]] = []

    def add(self, split: str, record: dict) -> None:
        if split == "train":
            self.train_instructions.add(record["instruction"])
            self.train_manifests.add(record["manifest_hash"])
            self.train_grams |= self._grams(record["instruction"])
            self.train_signatures.append((record["id"], np.frombuffer(base64.b64decode(record["minhash"]),
                                                                      dtype=np.uint64)))
        elif split == "test":
            self.test.append({k: record[k] for k in ("id", "instruction", "manifest_hash", "minhash")})

    def _grams(self, text: str) -> set[int]:
        words = text.lower().split()
        return {hash(" ".join(words[i:i + self.n])) for i in range(len(words) - self.n + 1)}

    def report(self) -> dict:
        from datasketch import MinHashLSH

        threshold = 0.8
        lsh = MinHashLSH(threshold=threshold, num_perm=self.config.dedup.num_perm)
        for pair_id, values in self.train_signatures:
            lsh.insert(pair_id, lean(values, self.config.dedup))
        near = sum(bool(lsh.query(lean(np.frombuffer(base64.b64decode(t["minhash"]), dtype=np.uint64),
                                       self.config.dedup))) for t in self.test)
        return {"test": len(self.test), "ngram": self.n,
                "exact_instruction": sum(t["instruction"] in self.train_instructions for t in self.test),
                "exact_manifest": sum(t["manifest_hash"] in self.train_manifests for t in self.test),
                "near_threshold": threshold, "near": near,
                "ngram_overlap": sum(bool(self._grams(t["instruction"]) & self.train_grams) for t in self.test)}
