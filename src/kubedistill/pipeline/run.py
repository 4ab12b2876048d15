"""``kubedistill pipeline``: sources -> corpus -> train -> eval (zero-shot baseline and student) -> report.

Each stage writes into its own folder under ``out`` and, when it finishes, a ``stage.json`` holding its *key*:
a hash of the stage's own settings and the keys of the stages it reads. A rerun skips every stage whose key is
unchanged; a changed setting changes the key of its stage and of everything downstream, so only those rerun.
A stage interrupted half-way resumes with its own mechanism (the pair store, the corpus chunk files, training
checkpoints, the evaluation's finished cases); a stage whose settings changed starts from an empty folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from kubedistill.corpus.build import CorpusConfig
from kubedistill.corpus.engine import ENGINES
from kubedistill.errors import UserError
from kubedistill.evaluation.run import EvalConfig
from kubedistill.sources.run import SourcesConfig
from kubedistill.sources.store import write_json_atomic
from kubedistill.train.lora import TrainConfig

STAGES = ("sources", "corpus", "train", "baseline", "student", "report")


@dataclass
class EvalStage:
    prompt: str = "strict"
    max_new_tokens: int = 768
    limit: int = 0
    """Evaluate the first N test tasks (0: the whole test split)."""
    repair: int = 0
    backend: str = "auto"
    policy: str = "restricted"
    baseline: bool = True
    """Also evaluate the base model zero-shot on the same tasks, for the comparison in the report."""
    jobs: int = 1
    batch_size: int = 8
    """First answers generated together (transformers backend): several times the throughput on a CPU."""
    dtype: str = "auto"
    """transformers backend: auto (bfloat16 on a GPU and on a CPU with native bfloat16, else float32) | float32 |
    bfloat16."""

    def config(self, **fixed: object) -> EvalConfig:
        """The evaluation settings: every field of this stage but ``baseline`` is an EvalConfig field."""
        return EvalConfig(**{f.name: getattr(self, f.name) for f in fields(self) if f.name != "baseline"}, **fixed)


@dataclass
class PipelineConfig:
    out: str = "runs/pipeline"
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalStage = field(default_factory=EvalStage)
    engine: str = "local"
    """Where the corpus map stage runs: local | ray."""
    ray_address: str = ""
    jobs: int = 1
    """Worker processes (local engine) or CPUs (local Ray) for the corpus map stage."""
    examples: int = 3
    """Example generations shown in the report."""

    def problems(self) -> list[str]:
        found = [f"sources: {p}" for p in self.sources.problems()]
        found += [f"train: {p}" for p in self.train.problems()]
        found += [f"eval: {p}" for p in self.eval.config().problems()]
        if self.engine not in ENGINES:
            found.append(f"engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        return found


LATER_SETTINGS = {"train": {"hints": "none"}}
"""Settings added after pipeline folders existed: left out of a stage's key at their default, so upgrading does
not retrain what is already up to date."""


def _settings(section: str, values: dict, skip: tuple[str, ...] = ()) -> dict:
    later = LATER_SETTINGS.get(section, {})
    return {k: v for k, v in values.items() if k not in skip and not (k in later and v == later[k])}


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class Stage:
    name: str
    key: str
    run: Callable[[Path], dict]


class Pipeline:
    def __init__(self, config: PipelineConfig, out: Path, progress: bool | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.config, self.out, self.progress = config, out, progress
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))

    # --- the stages ---------------------------------------------------------------------------------

    def stages(self) -> list[Stage]:
        c = self.config
        sources_key = _key("sources", asdict(c.sources))
        corpus_key = _key("corpus", asdict(c.corpus), sources_key)
        train_settings = _settings("train", asdict(c.train), ("threads", "cache_dir"))
        train_key = _key("train", train_settings, corpus_key)
        eval_settings = {k: v for k, v in asdict(c.eval).items() if k != "jobs"}
        baseline_key = _key("baseline", eval_settings, c.train.model, corpus_key)
        student_key = _key("student", eval_settings, train_key)
        report_key = _key("report", c.examples, corpus_key, train_key, baseline_key, student_key)
        stages = [Stage("sources", sources_key, self._sources), Stage("corpus", corpus_key, self._corpus),
                  Stage("train", train_key, self._train)]
        if c.eval.baseline:
            stages.append(Stage("baseline", baseline_key, lambda d: self._eval(d, adapter="")))
        stages += [Stage("student", student_key, lambda d: self._eval(d, adapter=str(self.out / "train"))),
                   Stage("report", report_key, self._report)]
        return stages

    def _sources(self, folder: Path) -> dict:
        from kubedistill.sources.run import run_sources

        return run_sources(self.config.sources, folder, progress=self.progress)

    def _corpus(self, folder: Path) -> dict:
        from kubedistill.corpus.build import build_corpus
        from kubedistill.corpus.engine import make_engine

        engine = make_engine(self.config.engine, self.config.jobs, self.config.ray_address)
        summary = build_corpus(self.config.corpus, [str(self.out / "sources" / "pairs.jsonl")], folder,
                               jobs=self.config.jobs, progress=self.progress, engine=engine)
        return {"splits": summary["splits"], "funnel": summary["funnel"]}

    def _train(self, folder: Path) -> dict:
        from kubedistill.train.lora import fit

        resume = any((folder / "checkpoints").glob("step-*")) if (folder / "checkpoints").exists() else False
        return fit(self.config.train, self.out / "corpus", folder, resume=resume, progress=self.progress)

    def eval_config(self, adapter: str) -> EvalConfig:
        c = self.config
        return c.eval.config(model=c.train.model, adapter=adapter, split="test", corpus=str(self.out / "corpus"),
                             k8s_version=c.corpus.filter.k8s_version, cache_dir=str(self.out / ".generations"),
                             model_cache=c.train.cache_dir)

    def _eval(self, folder: Path, adapter: str) -> dict:
        from kubedistill.evaluation.run import evaluate

        summary = evaluate(self.eval_config(adapter), folder, progress=self.progress)
        return {"full_pass_at_1": summary["full_pass_at_1"], "after_repair": summary["after_repair"],
                "level_pass_rate": summary["level_pass_rate"], "wall_s": summary["wall_s"]}

    def _report(self, folder: Path) -> dict:
        from kubedistill.pipeline.report import write_pipeline_report

        return write_pipeline_report(self.out, folder, self.config)

    # --- running ----------------------------------------------------------------------------------------

    def run(self) -> dict:
        problems = self.config.problems()
        if problems:
            raise UserError("invalid pipeline config:\n  " + "\n  ".join(problems))
        self.out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.out / "pipeline_config.json", asdict(self.config))
        stages = self.stages()
        results: dict[str, dict] = {}
        start = time.monotonic()
        for number, stage in enumerate(stages, start=1):
            folder = self.out / stage.name
            marker = folder / "stage.json"
            done = _read(marker)
            label = f"[{number}/{len(stages)}] {stage.name}"
            if done.get("key") == stage.key and done.get("finished"):
                self.log(f"{label}: up to date (key {stage.key}), skipped")
                results[stage.name] = {**done.get("result", {}), "skipped": True}
                continue
            started = _read(folder / "stage.started.json")
            if folder.exists() and started.get("key") != stage.key:
                shutil.rmtree(folder)  # settings changed: nothing in the old folder may be reused
            folder.mkdir(parents=True, exist_ok=True)
            write_json_atomic(folder / "stage.started.json", {"key": stage.key})
            self.log(f"{label}: running (key {stage.key})")
            began = time.monotonic()
            result = stage.run(folder)
            seconds = round(time.monotonic() - began, 1)
            write_json_atomic(marker, {"key": stage.key, "finished": True, "seconds": seconds, "result": result})
            results[stage.name] = {**result, "seconds": seconds}
            self.log(f"{label}: done in {seconds:.0f} s")
        summary = {"out": str(self.out), "wall_s": round(time.monotonic() - start, 1), "stages": results}
        write_json_atomic(self.out / "pipeline.json", summary)
        return summary


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def with_out(config: PipelineConfig, out: str | None) -> tuple[PipelineConfig, Path]:
    if out:
        config = replace(config, out=out)
    return config, Path(config.out)
