"""``kubedistill sources``: write raw (instruction, manifest) pairs with provenance, resumably.

    kubedistill sources --config configs/sources/offline.yaml --out runs/sources

Requests are produced lazily (synthetic_direct first, then reverse_instruction, then edits), skipped when their id
is already in the store, answered by the configured teacher (in parallel for remote teachers) and appended in
request order. Ctrl-C or a crash loses nothing: rerun the same command to continue.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kubedistill.errors import UserError
from kubedistill.progress import Progress
from kubedistill.prompts import prompt_hash
from kubedistill.sources.edits import EditsConfig, edit_requests
from kubedistill.sources.local import LocalConfig, LocalTeacher
from kubedistill.sources.offline import OfflineTeacher
from kubedistill.sources.openai_teacher import OpenAIConfig, OpenAITeacher
from kubedistill.sources.reverse import ReverseConfig, reverse_requests
from kubedistill.sources.store import PairStore, write_json_atomic
from kubedistill.sources.synthetic import family_mix, synthetic_requests
from kubedistill.sources.teacher import Teacher, TeacherError, TeacherRequest

log = logging.getLogger(__name__)
TEACHERS = ("offline", "openai", "local")


@dataclass
class SyntheticConfig:
    n: int = 1000
    """Number of synthetic_direct pairs."""
    families: dict[str, float] = field(default_factory=dict)
    """Family -> weight; empty means every family at its default weight."""


@dataclass
class TeacherConfig:
    kind: str = "offline"
    """offline | openai | local"""
    concurrency: int = 4
    """Requests in flight at once (remote teachers)."""
    openai: OpenAIConfig = field(default_factory=OpenAIConfig)
    local: LocalConfig = field(default_factory=LocalConfig)


@dataclass
class SourcesConfig:
    seed: int = 0
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    reverse: ReverseConfig = field(default_factory=ReverseConfig)
    edits: EditsConfig = field(default_factory=EditsConfig)
    """Edit pairs ("here is my YAML, change it"), after the synthetic and reverse ones; their real bases come from
    ``reverse.dir``."""
    teacher: TeacherConfig = field(default_factory=TeacherConfig)

    def problems(self) -> list[str]:
        found = []
        if self.teacher.kind not in TEACHERS:
            found.append(f"teacher.kind {self.teacher.kind!r} is not one of {', '.join(TEACHERS)}")
        if self.synthetic.n < 0:
            found.append("synthetic.n must be >= 0")
        if self.teacher.concurrency < 1:
            found.append("teacher.concurrency must be >= 1")
        try:
            family_mix(self.synthetic.families)
        except ValueError as exc:
            found.append(f"synthetic.families: {exc}")
        if self.reverse.dir and not Path(self.reverse.dir).is_dir():
            found.append(f"reverse.dir {self.reverse.dir!r} is not a directory")
        return found + self.edits.problems()


def make_teacher(config: TeacherConfig, out: Path) -> Teacher:
    cache = str(out / "cache")
    if config.kind == "openai":
        return OpenAITeacher(OpenAIConfig(**{**asdict(config.openai), "cache_dir": config.openai.cache_dir or cache}))
    if config.kind == "local":
        return LocalTeacher(LocalConfig(**{**asdict(config.local), "cache_dir": config.local.cache_dir or cache}))
    return OfflineTeacher()


def _requests(config: SourcesConfig, skipped: Counter, drafts: Counter) -> Iterator[tuple[str, TeacherRequest, dict]]:
    for pair_id, request in synthetic_requests(config.synthetic.n, config.seed, config.synthetic.families):
        yield pair_id, request, {}
    if config.reverse.dir:
        yield from reverse_requests(config.reverse, config.seed, skipped)
    if config.edits.n:
        yield from edit_requests(config.edits, config.seed, config.reverse, drafts)


def _record(pair_id: str, request: TeacherRequest, origin: dict, teacher: Teacher, answer, seconds: float) -> dict:
    return {
        "id": pair_id,
        "source": request.task,
        "family": request.family,
        "instruction": answer.instruction,
        "manifest": answer.manifest,
        "spec": request.spec.to_dict() if request.spec else None,
        "teacher": teacher.name,
        "model": teacher.model,
        "prompt_hash": prompt_hash(request.messages),
        "seed": request.seed,
        "origin": origin or None,
        "error": answer.error,
        "format_violations": answer.format_violations,
        "raw": answer.raw or None,
        "cached": answer.cached,
        "attempts": answer.attempts,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 4),
    }


def run_sources(config: SourcesConfig, out: str | Path, teacher: Teacher | None = None,
                progress: bool | None = None) -> dict:
    """Write ``out/pairs.jsonl`` and ``out/stats.json``; returns the stats of this invocation."""
    problems = config.problems()
    if problems:
        raise UserError("invalid sources config:\n  " + "\n  ".join(problems))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "config.json", asdict(config))
    try:
        teacher = teacher or make_teacher(config.teacher, out)
    except TeacherError as exc:
        raise UserError(str(exc)) from None
    skipped: Counter = Counter()
    drafts: Counter = Counter()
    stats: Counter = Counter()
    families: Counter = Counter()
    total = config.synthetic.n + (config.reverse.limit or 0) + config.edits.n
    bar = Progress("sources", total or None, enabled=progress)
    start = time.monotonic()
    workers = config.teacher.concurrency if config.teacher.kind != "offline" else 1
    with PairStore(out / "pairs.jsonl") as store:
        todo = _pending(_requests(config, skipped, drafts), store.done, stats)
        pool = ThreadPoolExecutor(workers) if workers > 1 else None
        try:
            while batch := list(itertools.islice(todo, workers * 8)):
                requests = [request for _, request, _ in batch]
                answers = pool.map(lambda r: _timed(teacher, r), requests) if pool else (
                    _timed(teacher, r) for r in requests)
                for (pair_id, request, origin), (answer, seconds) in zip(batch, answers, strict=True):
                    store.append(_record(pair_id, request, origin, teacher, answer, seconds))
                    stats.update([request.task, "rejected" if answer.error else "answered"])
                    stats.update(f"violation:{v}" for v in answer.format_violations)
                    families[request.family] += 1
                    bar.advance()
        except TeacherError as exc:
            raise UserError(f"teacher stopped the run: {exc}", "fix the teacher settings and rerun: finished "
                            "pairs are kept") from None
        finally:
            if pool:
                pool.shutdown(wait=True, cancel_futures=True)
            bar.close()
        summary = {"written": sum(stats[k] for k in ("answered", "rejected")), **dict(stats),
                   "skipped_files": dict(skipped), "families": dict(families),
                   **({"edit_drafts": dict(sorted(drafts.items()))} if config.edits.n else {}),
                   "seconds": round(time.monotonic() - start, 3), "pairs_in_store": len(store.done),
                   "teacher": teacher.name, "model": teacher.model}
    write_json_atomic(out / "stats.json", summary)
    return summary


def _pending(requests: Iterator[tuple[str, TeacherRequest, dict]], done: set[str],
             stats: Counter) -> Iterator[tuple[str, TeacherRequest, dict]]:
    """Requests whose pair is not in the store yet; the others are counted as resumed."""
    for item in requests:
        if item[0] in done:
            stats["resumed"] += 1
        else:
            yield item


def _timed(teacher: Teacher, request: TeacherRequest):
    start = time.monotonic()
    answer = teacher.answer(request)
    return answer, time.monotonic() - start
