"""Training speed of our LoRA step at a real model's shapes, on whatever device is there (a GPU when one is).

    python bench/train_shapes.py --shape DIR [--shape DIR ...] --corpus runs/corpus [--steps 30] [--out DIR]

Each DIR holds a model's config.json and tokenizer (no weights): the model is built from the config with random
weights, saved, and trained by ``kubedistill.train.lora.fit`` exactly as ``kubedistill train`` would (strict
prompt, answer-only loss, LoRA r=4/alpha=8 on the seven projections, batch 1 x accumulation 2, max_length 1536,
``dtype: auto``), on the corpus's first training pairs in its own length-grouped order. Speed depends on shapes,
not on weight values, so this measures what a real run of that size would take where the weights cannot be
brought (the lent GPU machines reach no model hub and carry at most 64 MiB). The loss is meaningless here.

Anchor, in the same run: the same fit with ``share_prefix: false`` (every micro-batch runs the whole prompt, as
the textbook step does). Since the H100 run in bench/results/train_shapes_h100/ found the prefix path slower on
a GPU, ``fit()`` takes it on CPUs only: on a GPU both rows now run the same step, and the figure that remains
meaningful there is the projected epoch time. Reports median useful tokens/s over the steps after the first two,
and the projected time of one epoch over all training pairs that fit (their token count / that rate).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import machine
from kubedistill.train.data import encode, read_split
from kubedistill.train.lora import TrainConfig, fit


def build(shape: Path, dest: Path) -> int:
    """A random-weight model of ``shape``'s config, saved with its tokenizer; returns its parameter count."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(shape), dtype=torch.bfloat16)
    model.save_pretrained(dest)
    AutoTokenizer.from_pretrained(shape).save_pretrained(dest)
    return sum(p.numel() for p in model.parameters())


def measure(model_dir: Path, corpus: Path, steps: int, share_prefix: bool, work: Path) -> dict:
    config = TrainConfig(model=str(model_dir), grad_accum=2, max_length=1536, max_steps=steps, eval_every=10_000,
                         save_every=10_000, eval_pairs=1, share_prefix=share_prefix, export_gguf=False)
    start = time.perf_counter()
    fit(config, corpus, work, progress=False)
    rows = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    rates = [r["tokens_per_second"] for r in rows[2:]] or [r["tokens_per_second"] for r in rows]
    return {"share_prefix": share_prefix, "steps": len(rows), "median_tokens_per_second": statistics.median(rates),
            "wall_s": round(time.perf_counter() - start, 1)}


def main() -> None:
    import torch
    import transformers
    from transformers import AutoTokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", required=True, type=Path)
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "train_shapes")
    args = parser.parse_args()
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    results = []
    for shape in args.shape:
        with tempfile.TemporaryDirectory() as tmp:
            model_dir = Path(tmp) / "model"
            params = build(shape, model_dir)
            tokenizer = AutoTokenizer.from_pretrained(model_dir)
            lengths = [len(e["input_ids"]) for e in (encode(tokenizer, r, "strict", 1536)
                                                     for r in read_split(args.corpus, "train")) if e]
            runs = [measure(model_dir, args.corpus, args.steps, share, Path(tmp) / f"run-{share}")
                    for share in (True, False)]
            ours, anchor = runs
            results.append({
                "shape": shape.name, "parameters": params, "train_pairs": len(lengths), "train_tokens": sum(lengths),
                "ours": ours, "anchor_textbook_prefix": anchor,
                "speedup": round(ours["median_tokens_per_second"] / anchor["median_tokens_per_second"], 2),
                "projected_epoch_min": round(sum(lengths) / ours["median_tokens_per_second"] / 60, 1)})
            print(json.dumps(results[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    data = {"device": device, "machine": machine(), "torch": torch.__version__,
            "transformers": transformers.__version__, "steps": args.steps, "results": results}
    (args.out / "result.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = [f"# LoRA training speed at real model shapes on {device}", "",
             f"torch {torch.__version__}, transformers {transformers.__version__}; random weights of each model's "
             f"config, {args.steps} optimizer steps (batch 1 x accumulation 2, max_length 1536, dtype auto).", "",
             "| shape | parameters | ours tokens/s | textbook-prefix tokens/s | ratio | one epoch (projected) |",
             "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['shape']} | {r['parameters'] / 1e9:.2f} B | {r['ours']['median_tokens_per_second']:.0f} "
                     f"| {r['anchor_textbook_prefix']['median_tokens_per_second']:.0f} | {r['speedup']}x | "
                     f"{r['projected_epoch_min']} min ({r['train_pairs']} pairs, {r['train_tokens']:,} tokens) |")
    (args.out / "RESULT.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
