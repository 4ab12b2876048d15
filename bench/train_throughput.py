"""Training throughput: our LoRA step against a plain transformers.Trainer + peft baseline, in one run.

    python bench/train_throughput.py --corpus runs/corpus [--model smollm2-135m-instruct] [--pairs 24]

Both train the same LoRA (r=4, alpha=8, seven projections) on the same first PAIRS training pairs with the same
strict prompt and answer-only labels. The baseline uses Trainer's defaults (per-device batch 8, padding collator,
no gradient accumulation); ours uses its defaults (batch 1 with accumulation 8, no padding). The figure is
*useful* (non-padding) tokens per second. Writes bench/results/train_throughput.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import machine, write_result
from kubedistill.train.data import collate, encode, read_split
from kubedistill.train.lora import LoraSettings, TrainConfig, fit, resolve_model


def baseline_in_subprocess(model_path: str, examples: list[dict], out: Path, batch: int) -> dict:
    """The baseline in its own process, so that running out of memory is a result, not the end of the bench."""
    payload = out / "examples.json"
    out.mkdir(parents=True, exist_ok=True)
    payload.write_text(json.dumps(examples))
    here = str(Path(__file__).parent)
    code = (f"import json, sys, pathlib; sys.path.insert(0, {here!r}); import train_throughput as t; "
            f"print('RESULT', json.dumps(t.baseline({model_path!r}, json.load(open({str(payload)!r})), "
            f"pathlib.Path({str(out)!r}), {batch})))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    line = next((x for x in run.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        return {"failed": f"exit code {run.returncode}" + (" (killed: out of memory)" if run.returncode == -9 else ""),
                "batch_size": batch}
    return json.loads(line[7:])


def baseline(model_path: str, examples: list[dict], out: Path, batch: int = 8) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32),
                           LoraConfig(r=4, lora_alpha=8, lora_dropout=0.05, task_type="CAUSAL_LM",
                                      target_modules=LoraSettings().target_modules))
    pad = 0

    def collator(batch: list[dict]) -> dict:
        return collate(batch, pad)

    args = TrainingArguments(output_dir=str(out), num_train_epochs=1, report_to=[], save_strategy="no",
                             logging_strategy="no", use_cpu=True, remove_unused_columns=False,
                             per_device_train_batch_size=batch)
    trainer = Trainer(model=model, args=args, train_dataset=examples, data_collator=collator)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    batch = args.per_device_train_batch_size
    padded = sum(max(len(e["input_ids"]) for e in examples[i:i + batch]) * len(examples[i:i + batch])
                 for i in range(0, len(examples), batch))
    return {"seconds": seconds, "batch_size": batch, "padded_tokens": padded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--pairs", type=int, default=24)
    parser.add_argument("--baseline-batch", type=int, default=8, help="Trainer's per-device batch (default: its own)")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    path = resolve_model(args.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    rows = read_split(Path(args.corpus), "train")[: args.pairs]
    examples = [e for e in (encode(tokenizer, r, "strict", 1024) for r in rows) if e is not None]
    useful = sum(len(e["input_ids"]) for e in examples)
    result: dict = {"machine": machine(), "model": args.model, "pairs": len(examples), "useful_tokens": useful}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "corpus" / "data"
        data.mkdir(parents=True)
        lines = (Path(args.corpus) / "data" / "train.jsonl").read_text().splitlines(keepends=True)[: args.pairs]
        (data / "train.jsonl").write_text("".join(lines))
        (data / "validation.jsonl").write_text(lines[0])
        config = TrainConfig(model=args.model, max_steps=max(1, len(examples) // 8), grad_accum=8, eval_every=10**6,
                             save_every=10**6, eval_pairs=1)
        fit(config, data.parent, Path(tmp) / "ours", progress=False)
        steps = [json.loads(line) for line in (Path(tmp) / "ours" / "metrics.jsonl").read_text().splitlines()]
        ours = sum(s["tokens"] / s["tokens_per_second"] for s in steps)  # step time only, like the baseline's
        base = baseline_in_subprocess(path, examples, Path(tmp) / "baseline", args.baseline_batch)
    result["ours"] = {"seconds": round(ours, 1), "useful_tokens_per_second": round(useful / ours, 1)}
    result["baseline"] = base
    rows = [f"| kubedistill train (batch 1 x 8 accumulation) | {result['ours']['seconds']} | "
            f"{result['ours']['useful_tokens_per_second']} |"]
    if "failed" in base:
        rows.append(f"| Trainer + peft, batch {base['batch_size']} (its default is 8) | {base['failed']} | - |")
        verdict = "The baseline did not finish, so there is no ratio."
    else:
        rate = round(useful / base["seconds"], 1)
        base["useful_tokens_per_second"] = rate
        result["ratio"] = round(result["ours"]["useful_tokens_per_second"] / rate, 2)
        rows.append(f"| Trainer + peft, batch {base['batch_size']} (padded to {base['padded_tokens']:,} tokens) | "
                    f"{round(base['seconds'], 1)} | {rate} |")
        verdict = f"Ratio: **{result['ratio']}x** (goal: 2x). Both count training steps only (no model loading)."
    text = (f"# Training throughput: {args.model}, {len(examples)} pairs, {useful:,} useful tokens\n\n"
            f"Machine: {result['machine']}\n\n| run | seconds | useful tokens/s |\n|---|---:|---:|\n"
            + "\n".join(rows) + f"\n\n{verdict}\n")
    write_result(f"train_throughput_{args.model}_batch{args.baseline_batch}", result, text)


if __name__ == "__main__":
    main()
