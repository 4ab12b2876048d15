"""``kubedistill eval``: generate an answer for every task, verify it, repair it if asked, and report.

Each finished case is appended to ``results.jsonl`` at once, so an interrupted run resumes where it stopped;
generations are also cached by prompt, model, adapter, backend and decoding settings, so an ablation that
revisits a setting (or a rerun with more repair rounds) never pays for the same generation twice.
"""

from __future__ import annotations

import json
import os
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from kubedistill.context.request import read_request
from kubedistill.context.spec import TaskSpec
from kubedistill.errors import UserError
from kubedistill.evaluation import cloudeval
from kubedistill.evaluation.metrics import summarize
from kubedistill.evaluation.tasks import Task, load_tasks, tasks_path
from kubedistill.hardware import resolve_dtype
from kubedistill.inference.backend import (
    BACKENDS,
    DTYPES,
    Backend,
    Generation,
    ModelRef,
    adapter_hints,
    load_backend,
    resolve_backend,
)
from kubedistill.inference.repair import (
    DEFAULT_REPAIR_STYLE,
    REPAIR_STYLES,
    Outcome,
    attempt_of,
    repair_messages,
    solve,
)
from kubedistill.inference.verdict import judge
from kubedistill.progress import Progress
from kubedistill.prompts import HINTS, chat, prompt_hash, prompt_problem, prompt_stamp
from kubedistill.sources.cache import AnswerCache
from kubedistill.sources.store import changed_settings, read_json_object, write_json_atomic
from kubedistill.verify import Verifier, VerifyConfig

REPAIR_SPECS = ("task", "request")


@dataclass
class EvalConfig:
    model: str = "smollm2-135m-instruct"
    adapter: str = ""
    split: str = "test"
    """train | validation | test (of ``corpus``) or a JSONL file of tasks."""
    corpus: str = ""
    prompt: str = "strict"
    hints: str = ""
    """none | request: the request's checklist after it in the user's turn (``prompts.HINTS``); "": as the
    adapter was trained (``adapter_hints``), none without one."""
    max_new_tokens: int = 768
    temperature: float = 0.0
    repair: int = 0
    repair_style: str = DEFAULT_REPAIR_STYLE
    """restate (the request again with the findings added) | chat (the failed answer, then the findings, as a
    conversation: the reference's form); see ``inference/repair.py``."""
    repair_spec: str = "task"
    """What the repair loop holds answers to: ``task`` (the spec the task was written from) or ``request`` (the
    requirements ``generate`` and ``serve`` read from the instruction's text, as a user's request gets). Cases are
    scored against the task's spec either way, so ``request`` measures the repair a user really gets."""
    backend: str = "transformers"
    dtype: str = "auto"
    """transformers backend: auto (bfloat16 on a GPU and on a CPU with native bfloat16, else float32) | float32 |
    bfloat16."""
    openai_base_url: str = ""
    """openai backend: the model server's endpoint, e.g. http://gpu:8000/v1. Generations are cached by the served
    model's name, all the server says of its weights: serve a changed adapter under a new name (or a new
    cache_dir)."""
    openai_timeout: float = 600.0
    """openai backend: seconds to wait for one answer."""
    jobs: int = 1
    """Parallel generators, each with its own copy of the model and cores/jobs threads."""
    batch_size: int = 1
    """Answers generated this many at a time (transformers backend): the first answers of a slice of tasks
    together, then each repair round's answers of that slice together."""
    limit: int = 0
    """Evaluate only the first N tasks (0: all)."""
    policy: str = "restricted"
    context: str = "bundle"
    k8s_version: str = "1.33"
    cache_dir: str = ""
    """Generation cache (default: OUT/../.generations, shared by runs in the same folder)."""
    model_cache: str = ""
    seed: int = 0
    benchmark: str = ""
    """'' (tasks from ``split``) or cloudeval (CloudEval-YAML Kubernetes problems under ``data``)."""
    data: str = ""

    def problems(self) -> list[str]:
        found = []
        if problem := prompt_problem(self.prompt):
            found.append(problem)
        if self.hints not in ("", *HINTS):
            found.append(f"hints must be one of {', '.join(HINTS)}")
        if self.backend not in BACKENDS:
            found.append(f"backend must be one of {', '.join(BACKENDS)}")
        if self.dtype not in DTYPES:
            found.append(f"dtype must be one of {', '.join(DTYPES)}")
        if self.backend == "openai":
            from kubedistill.inference.openai_backend import openai_problems

            found += openai_problems(self.ref())
        for name in ("max_new_tokens", "jobs", "batch_size"):
            if getattr(self, name) < 1:
                found.append(f"{name} must be at least 1")
        if self.benchmark not in ("", "cloudeval"):
            found.append(f"unknown benchmark {self.benchmark!r}; the one supported is cloudeval")
        if self.benchmark and not self.data:
            found.append("--benchmark needs --data DIR (your local copy of the benchmark)")
        if self.repair_spec not in REPAIR_SPECS:
            found.append(f"repair_spec must be one of {', '.join(REPAIR_SPECS)}")
        if self.repair_style not in REPAIR_STYLES:
            found.append(f"repair_style must be one of {', '.join(REPAIR_STYLES)}")
        if self.repair < 0 or self.limit < 0:
            found.append("repair and limit cannot be negative")
        found += VerifyConfig(k8s_version=self.k8s_version, policy=self.policy, context=self.context).problems()
        return found

    def ref(self, threads: int = 0) -> ModelRef:
        return ModelRef(self.model, self.adapter, self.backend, self.model_cache, threads, self.dtype,
                        base_url=self.openai_base_url, timeout=self.openai_timeout)


class CachedGenerator:
    """Wraps a backend's generate with the on-disk generation cache."""

    def __init__(self, backend: Backend | None, config: EvalConfig, cache: AnswerCache, make: Any = None) -> None:
        self.backend, self.config, self.cache, self.make = backend, config, cache, make
        self.adapter = _adapter_stamp(config.adapter)  # stat the weights once, not once per generation

    def key(self, messages: list[dict[str, str]]) -> str:
        c = self.config
        return prompt_hash(messages, model=c.model, adapter=self.adapter, backend=c.backend,
                           max_new_tokens=c.max_new_tokens, temperature=c.temperature, seed=c.seed,
                           **({"batch_size": c.batch_size} if c.batch_size > 1 else {}),
                           **({"dtype": c.dtype} if c.dtype != "auto" else {}))

    def _loaded(self) -> Backend:
        if self.backend is None:
            self.backend = self.make()
        return self.backend

    def _store(self, key: str, gen: Generation) -> None:
        self.cache.put(key, gen.text, {k: v for k, v in asdict(gen).items() if k != "text"})

    def prefill(self, conversations: list[list[dict[str, str]]]) -> None:
        """Generate the uncached ones among ``conversations`` as one batch and cache them, so that the case loop
        that follows finds every first answer in the cache."""
        keys = {self.key(m): m for m in conversations}
        missing = [(k, m) for k, m in keys.items() if self.cache.entry(k) is None]
        if len(missing) < 2:
            return
        batch = getattr(self._loaded(), "generate_batch", None)
        if batch is None:
            return
        c = self.config
        for (key, _), gen in zip(missing, batch([m for _, m in missing], c.max_new_tokens, c.temperature, c.seed),
                                 strict=True):
            self._store(key, gen)

    def __call__(self, messages: list[dict[str, str]]) -> Generation:
        key = self.key(messages)
        entry = self.cache.entry(key)
        if entry is not None:
            return Generation(entry["text"], entry["tokens"], entry["prompt_tokens"], entry["seconds"],
                              entry["truncated"], entry.get("looped", False))
        c = self.config
        gen = self._loaded().generate(messages, c.max_new_tokens, c.temperature, c.seed)
        self._store(key, gen)
        return gen


def _adapter_stamp(adapter: str) -> str:
    """An adapter is identified by its weights, not its path: retraining into the same folder is a new model."""
    if not adapter:
        return ""
    from kubedistill.inference.backend import adapter_dir

    weights = adapter_dir(adapter) / "adapter_model.safetensors"
    if weights.exists():
        stat = weights.stat()
        return f"{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    return str(Path(adapter).resolve())


def case_record(task: Task, outcome: Outcome, prompt: str, handed: int | None = None) -> dict:
    """``handed``: the attempt the loop handed out, when it chose by another spec than the one ``outcome`` was
    judged by (``repair_spec: request``); by default the best attempt."""
    first = outcome.first
    final = outcome.best if handed is None else outcome.attempts[handed]
    return {
        "id": task.id, "family": task.family, "source": task.source, "prompt": prompt,
        "instruction": task.instruction, "spec": task.spec.to_dict() if task.spec else None,
        "passed": final.verdict.passed, "failed_level": final.verdict.failed_level, "rules": final.verdict.rules,
        "first": {"passed": first.verdict.passed, "failed_level": first.verdict.failed_level,
                  "rules": first.verdict.rules, "format_violations": first.verdict.format_violations},
        "attempts": [a.to_dict() for a in outcome.attempts], "best_attempt": outcome.attempts.index(final),
    }


def loop_spec(task: Task, config: EvalConfig) -> TaskSpec | None:
    """The spec the repair loop holds a task's answers to (see ``EvalConfig.repair_spec``)."""
    return read_request(task.instruction) if config.repair_spec == "request" else task.spec


def _prefill_rounds(generator: CachedGenerator, verifier: Verifier, config: EvalConfig, part: list[Task]) -> None:
    """Generate a slice's answers as batches, one per round: the conversations are the ones ``solve`` will ask
    for (same messages, same cache keys), each repair built from the cached answer of the round before."""
    asks = {t.id: chat(config.prompt, t.instruction, config.hints) for t in part}
    specs = {t.id: loop_spec(t, config) for t in part}
    conversations = dict(asks)
    for round_ in range(config.repair + 1):
        generator.prefill(list(conversations.values()))
        if round_ == config.repair:
            return
        failing = {}
        for task in part:
            if task.id in conversations:
                attempt = attempt_of(generator(conversations[task.id]), verifier, specs[task.id])
                if not attempt.verdict.passed:
                    failing[task.id] = repair_messages(asks[task.id], attempt, config.repair_style)
        conversations = failing


def _read_done(path: Path) -> dict[str, dict]:
    """Cases already finished by an interrupted run; a torn last line (a crash mid-write) is dropped."""
    done: dict[str, dict] = {}
    if not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
            done[record["id"]] = record
        except (ValueError, KeyError, TypeError):
            continue
    return done


def evaluate(config: EvalConfig, out: str | Path, progress: bool | None = None,
             backend: Backend | None = None) -> dict:
    """Run the evaluation into ``out`` (results.jsonl, summary.json, report.md, plots/); returns the summary."""
    problems = config.problems()
    if problems:
        raise UserError("invalid eval settings: " + "; ".join(problems))
    if not config.hints:  # run.json and the summary name the hints the run really used
        config = replace(config, hints=adapter_hints(config.adapter))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if config.backend == "auto" and backend is None:  # the cache and run.json name the backend that really ran
        config = replace(config, backend=resolve_backend(config.ref()))
    if config.backend == "transformers" and backend is None:  # and the dtype: auto depends on the machine
        config = replace(config, dtype=resolve_dtype(config.dtype))
    if config.benchmark == "cloudeval":
        tasks = cloudeval.load_problems(config.data, config.limit)
    else:
        tasks = load_tasks(tasks_path(config.split, config.corpus), config.limit)
    verifier = Verifier(VerifyConfig(k8s_version=config.k8s_version, policy=config.policy, context=config.context))
    cache = AnswerCache(config.cache_dir or out.parent / ".generations")
    results = out / "results.jsonl"
    _claim(out, config)
    done = _read_done(results)
    todo = [t for t in tasks if t.id not in done]
    bar = Progress(f"eval {config.model}", len(tasks), enabled=progress)
    bar.count = len(tasks) - len(todo)
    jobs = min(config.jobs, max(1, len(todo)))
    threads = max(1, (os.cpu_count() or 1) // jobs)
    generators: queue.Queue = queue.Queue()
    for n in range(jobs):
        first = backend if n == 0 else None
        generators.put(CachedGenerator(first, config, cache, make=lambda: load_backend(config.ref(threads))))
    start = time.perf_counter()

    def one(task: Task) -> dict:
        generator = generators.get()
        spec = loop_spec(task, config)
        try:
            outcome = solve(generator.backend, verifier, chat(config.prompt, task.instruction, config.hints), spec,
                            config.repair, generate=generator, repair_style=config.repair_style)
        finally:
            generators.put(generator)
        handed = None
        if spec is not task.spec:  # the loop chose by what it could read; the case is scored by the task's spec
            handed = outcome.attempts.index(outcome.best)
            outcome = Outcome([replace(a, verdict=judge(a.text, verifier, task.spec, a.truncated, a.looped))
                               for a in outcome.attempts])
        record = case_record(task, outcome, config.prompt, handed)
        if config.benchmark == "cloudeval":
            record["benchmark"] = cloudeval.score(outcome.first.verdict.manifest, task.reference)
        return record

    def batched(items: list[Task]):
        """Tasks in order; with batch_size > 1 each slice's answers are generated together first, round by round
        (first answers, then the repairs of those that failed), so that ``one`` finds them all in the cache."""
        size = config.batch_size if jobs == 1 else 1
        for start in range(0, len(items), size):
            part = items[start:start + size]
            if size > 1:
                generator = generators.get()
                try:
                    _prefill_rounds(generator, verifier, config, part)
                finally:
                    generators.put(generator)
            yield from part

    with results.open("a", encoding="utf-8") as handle, ThreadPoolExecutor(jobs) as pool:
        for record in pool.map(one, batched(todo)) if jobs > 1 else map(one, batched(todo)):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            done[record["id"]] = record
            bar.advance(note="pass" if record["passed"] else str(record["failed_level"]))
    bar.close()
    cases = [done[t.id] for t in tasks]
    _rewrite_in_task_order(results, cases)
    summary = {"config": asdict(config), "wall_s": round(time.perf_counter() - start, 2),
               "resumed_cases": len(tasks) - len(todo), **summarize(cases)}
    if config.benchmark:
        scores = [c["benchmark"] for c in cases]
        summary["benchmark"] = {name: sum(s[name] for s in scores) / len(scores) for name in scores[0]}
    write_json_atomic(out / "summary.json", summary)
    from kubedistill.evaluation.report import write_report

    write_report(out, summary, cases)
    return summary


RESULT_FIELDS = ("model", "split", "corpus", "benchmark", "data", "prompt", "max_new_tokens", "temperature", "repair",
                 "repair_style", "repair_spec", "hints",
                 "backend", "policy", "context", "k8s_version", "seed", "batch_size", "dtype")
SETTINGS_BEFORE_THEY_EXISTED = {"repair_style": "chat", "hints": "none"}
"""What a folder written before a setting existed ran with, where that is not today's default: repair rounds
were all in the chat form until ``restate`` became the default."""


def _claim(out: Path, config: EvalConfig) -> None:
    """Refuse to resume into a folder whose finished cases were made with other settings."""
    settings = {k: getattr(config, k) for k in RESULT_FIELDS} | {"adapter": _adapter_stamp(config.adapter),
                                                                  "prompt": prompt_stamp(config.prompt)}
    marker = out / "run.json"
    if marker.exists():
        before = read_json_object(marker, "eval", "delete it and its results.jsonl to start over")
        # a setting added after the folder was written counts as what such folders ran with
        changed = sorted(changed_settings(
            before, settings, lambda k: SETTINGS_BEFORE_THEY_EXISTED.get(k, getattr(EvalConfig, k, None))))
        if changed and (out / "results.jsonl").exists():
            raise UserError(f"{out} holds an evaluation with other settings ({', '.join(changed)} differ)",
                            "use a new --out folder, or delete its results.jsonl to start over")
    write_json_atomic(marker, settings)


def _rewrite_in_task_order(path: Path, cases: list[dict]) -> None:
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for record in cases:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
