"""``kubedistill eval ablate``: the reference's experiment as one command.

corpus size (train pairs) x prompt mode x max_new_tokens. Size 0 is the base model zero-shot. For each size
the first N training pairs form a sub-corpus (validation and test unchanged), an adapter is trained once and
reused on reruns, and every (prompt, max_new_tokens) cell is an ordinary ``eval`` run sharing one generation
cache, so an interrupted or extended ablation only computes what is missing.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from kubedistill.config import load_config
from kubedistill.errors import UserError
from kubedistill.evaluation.report import compare
from kubedistill.evaluation.run import EvalConfig, evaluate
from kubedistill.plots import pyplot, save
from kubedistill.sources.store import write_json_atomic, write_text_atomic


@dataclass
class AblateConfig:
    corpus: str = "runs/corpus"
    sizes: list[int] = field(default_factory=lambda: [0, 300, 1200, 2000])
    """Training pairs per adapter; 0 means the base model with no adapter."""
    prompts: list[str] = field(default_factory=lambda: ["plain", "strict"])
    max_new_tokens: list[int] = field(default_factory=lambda: [768])
    train_config: str = "configs/train/paper.yaml"
    train_overrides: list[str] = field(default_factory=list)
    eval: EvalConfig = field(default_factory=EvalConfig)
    """Settings shared by every cell (model, backend, split, limit, repair, policy ...)."""

    def problems(self) -> list[str]:
        found = []
        if not self.sizes or any(s < 0 for s in self.sizes):
            found.append("sizes must be a non-empty list of numbers >= 0")
        if not self.prompts or not self.max_new_tokens:
            found.append("prompts and max_new_tokens must not be empty")
        if any(s > 0 for s in self.sizes) and not Path(self.train_config).is_file():
            found.append(f"train_config {self.train_config!r} does not exist")
        return found


def sub_corpus(corpus: Path, size: int, dest: Path) -> Path:
    """A corpus folder with the first ``size`` training pairs and the same validation and test splits."""
    rows = (corpus / "data" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    if size > len(rows):
        raise UserError(f"size {size} asks for more training pairs than {corpus} holds ({len(rows)})",
                        "build a larger corpus or lower the size")
    data = dest / "data"
    data.mkdir(parents=True, exist_ok=True)
    body = "".join(line + "\n" for line in rows[:size])
    target = data / "train.jsonl"
    if not target.exists() or target.read_text(encoding="utf-8") != body:
        write_text_atomic(target, body)
    for split in ("validation", "test"):
        shutil.copyfile(corpus / "data" / f"{split}.jsonl", data / f"{split}.jsonl")
    return dest


def _adapter(config: AblateConfig, size: int, out: Path, progress: bool | None) -> str:
    from kubedistill.train.lora import TrainConfig, fit

    train_dir = out / f"train-{size}"
    if (train_dir / "training_config.json").exists() and (train_dir / "adapter").is_dir():
        return str(train_dir)
    corpus = sub_corpus(Path(config.corpus), size, out / f"corpus-{size}")
    settings = load_config(TrainConfig, config.train_config, config.train_overrides)
    settings = replace(settings, model=config.eval.model)
    resume = any((train_dir / "checkpoints").glob("step-*")) if train_dir.exists() else False
    fit(settings, corpus, train_dir, resume=resume, progress=progress)
    return str(train_dir)


def ablate(config: AblateConfig, out: str | Path, progress: bool | None = None) -> dict:
    problems = config.problems() + config.eval.problems()
    if problems:
        raise UserError("invalid ablation config: " + "; ".join(problems))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cells = []
    for size in config.sizes:
        adapter = _adapter(config, size, out, progress) if size else ""
        for prompt in config.prompts:
            for tokens in config.max_new_tokens:
                run_dir = out / f"eval-{size}-{prompt}-{tokens}"
                cell = replace(config.eval, adapter=adapter, prompt=prompt, max_new_tokens=tokens,
                               corpus=config.eval.corpus or config.corpus,
                               cache_dir=config.eval.cache_dir or str(out / ".generations"))
                summary = evaluate(cell, run_dir, progress=progress)
                cells.append({"size": size, "prompt": prompt, "max_new_tokens": tokens, "run": str(run_dir),
                              "full_pass_at_1": summary["full_pass_at_1"]["rate"],
                              "ci95": summary["full_pass_at_1"]["ci95"],
                              "after_repair": summary["after_repair"]["rate"],
                              "failures_by_level": summary["failures_by_level"], "wall_s": summary["wall_s"]})
    result = {"config": asdict(config), "cells": cells}
    write_json_atomic(out / "ablation.json", result)
    table = compare([c["run"] for c in cells], out)
    _plot(out, cells)
    (out / "README.md").write_text("# Ablation: corpus size x prompt mode x max_new_tokens\n\n" + table +
                                   "\n![pass@1 by size](ablation.png)\n", encoding="utf-8")
    return result


def _plot(out: Path, cells: list[dict]) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for prompt in sorted({c["prompt"] for c in cells}):
        for tokens in sorted({c["max_new_tokens"] for c in cells}):
            row = sorted((c for c in cells if c["prompt"] == prompt and c["max_new_tokens"] == tokens),
                         key=lambda c: c["size"])
            ax.plot([c["size"] for c in row], [100 * c["full_pass_at_1"] for c in row], "o-",
                    label=f"{prompt}, {tokens} tokens")
    ax.set_xlabel("training pairs (0 = zero-shot)")
    ax.set_ylabel("full-pass@1 %")
    ax.set_ylim(0, 100)
    ax.legend()
    save(fig, out / "ablation.png")


def summary_line(result: dict) -> str:
    return json.dumps([{k: c[k] for k in ("size", "prompt", "max_new_tokens", "full_pass_at_1")}
                       for c in result["cells"]])
