"""``kubedistill train``: LoRA fine-tuning with transformers + peft, in one readable file.

    kubedistill train --config configs/train/smollm2-quick.yaml --corpus runs/corpus --out runs/train

setup (model, adapter, data) -> fit (accumulated AdamW steps, validation loss, checkpoints) -> save (adapter,
config, metrics, loss curve, model card). Defaults follow the reference: r=4, alpha=8, the seven projection
modules, AdamW, batch 1 with gradient accumulation, bf16 on a GPU and on a CPU with native bf16 (fp32 on other
CPUs), the strict system prompt, loss on the answer only. ``--resume`` restores the adapter, optimizer, scheduler,
RNG states and data position of the last checkpoint, so a resumed run ends with the same weights as an
uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kubedistill.errors import UserError
from kubedistill.hardware import emulated_bf16, resolve_dtype
from kubedistill.inference.backend import ASKED_FILE
from kubedistill.progress import Progress
from kubedistill.prompts import HINTS, prompt_problem, prompt_stamp
from kubedistill.sources.store import changed_settings, read_json_object, write_json_atomic
from kubedistill.train.data import IGNORE, collate, encode, length_grouped_order, read_split
from kubedistill.train.step import Prefix, answer_loss, shared_prefix

PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MAX_NON_FINITE_STEPS = 10
"""Optimizer steps in a row whose gradient is NaN or infinite before training stops. One such step is skipped
(the update is dropped, the schedule moves on), as mixed-precision loss scalers do: taken, it would make every
LoRA weight NaN at once and the rest of the run would train nothing. Many in a row mean the run has diverged."""


@dataclass
class LoraSettings:
    r: int = 4
    alpha: int = 8
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: list(PROJECTIONS))


@dataclass
class TrainConfig:
    model: str = "smollm2-135m-instruct"
    """A registry name (pulled offline), a Hugging Face id or a local model directory."""
    prompt: str = "strict"
    hints: str = "none"
    """none | request: train on requests with their checklist (``prompts.HINTS``); a student trained so is asked
    the same way (``eval --hints request``, ``generate --hints request``)."""
    lora: LoraSettings = field(default_factory=LoraSettings)
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 10
    epochs: float = 1.0
    max_steps: int = 0
    """Optimizer steps; 0 means as many as ``epochs`` take."""
    batch_size: int = 1
    grad_accum: int = 8
    max_length: int = 1024
    eval_every: int = 50
    save_every: int = 50
    eval_pairs: int = 50
    """Validation pairs used for the validation loss (0: all)."""
    seed: int = 0
    threads: int = 0
    """torch CPU threads; 0: every core."""
    gradient_checkpointing: bool = False
    dtype: str = "auto"
    """The base model's weights: ``auto`` is bfloat16 on a GPU and on a CPU with AVX512-BF16 or AMX, float32 on
    other CPUs (``kubedistill.hardware``; fixed bfloat16 there is emulated, slow, and warned about). bfloat16 on
    a CPU with AVX512-BF16 or AMX runs a step about 1.9x faster than float32 (measured on this project's
    2-core EPYC: 7.0 s vs 13.1 s for a 700-token pair on the 0.5B model). The LoRA weights and the optimizer stay
    float32 either way (peft keeps adapters in float32), and the loss is taken in float32."""
    share_prefix: bool = True
    """Run the prompt prefix every pair shares once per optimizer step instead of once per pair (exact; see
    ``train/step.py``). Off under gradient checkpointing and data-parallel processes, and on GPUs: there a
    batch-1 step is bound by kernel launches, not arithmetic, and the extra prefix pass made it slower (0.65x the
    textbook step's tokens/s at Qwen2.5-0.5B's shapes on an H100, 0.81x at 1.5B; bench/train_shapes.py)."""
    export_merged: bool = False
    """Also save base + adapter merged into one plain model (``merged/``), for backends without LoRA support."""
    export_gguf: bool = True
    """Also write ``adapter/adapter.gguf``, the GGUF LoRA adapter llama.cpp (the llamacpp backend) loads."""
    cache_dir: str = ""
    init_adapter: str = ""
    """Start from this trained adapter (its folder, or a training run's folder holding ``adapter/``) instead of
    a fresh LoRA: continued fine-tuning, e.g. a second stage on pairs the first never saw. Its rank, alpha and
    target modules must equal ``lora``; the optimizer and schedule start afresh."""

    emphasis: float = 1.0
    """Loss weight of the answer tokens that state the values the pair's task spec asks for, and of the keys they
    sit under (``train/emphasis.py``); 1 is the plain mean. The student's misses are such values, dropped or
    misplaced in long requests, and they are a small share of the tokens. The validation loss stays the plain
    mean, comparable across runs."""

    def problems(self) -> list[str]:
        found = []
        if not self.emphasis >= 1.0:
            found.append(f"emphasis must be at least 1 (1 is the plain loss), got {self.emphasis!r}")
        for name in ("batch_size", "grad_accum", "max_length", "eval_every", "save_every"):
            if getattr(self, name) < 1:
                found.append(f"{name} must be at least 1")
        if self.lora.r < 1:
            found.append("lora.r must be at least 1")
        if problem := prompt_problem(self.prompt):
            found.append(problem)
        if self.hints not in HINTS:
            found.append(f"hints must be one of {', '.join(HINTS)}, got {self.hints!r}")
        if self.dtype not in ("auto", "float32", "bfloat16"):
            found.append(f"dtype must be auto, float32 or bfloat16, got {self.dtype!r}")
        return found


def resolve_model(name: str, cache_dir: str = "") -> str:
    from kubedistill.models.registry import MODELS

    if name in MODELS:
        from kubedistill.models.pull import pull

        return str(pull(name, cache_dir or None))
    return name


class Processes:
    """One process, or several started by ``accelerate launch`` / ``torchrun`` (WORLD_SIZE > 1), in which case
    accelerate sets up the process group (NCCL on GPUs, gloo on CPUs) and wraps the model for data parallelism.
    Process r takes every world-th micro-batch, so N processes with accumulation A see exactly the micro-batches
    one process with accumulation N x A sees, and DDP's gradient mean equals the accumulated mean."""

    def __init__(self) -> None:
        import torch

        self.accelerator = None
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            from accelerate import Accelerator

            # cpu=True is what makes accelerate choose MULTI_CPU (gloo) when there is no GPU
            self.accelerator = Accelerator(cpu=not torch.cuda.is_available())
        self.rank = self.accelerator.process_index if self.accelerator else 0
        self.world = self.accelerator.num_processes if self.accelerator else 1
        self.main = self.rank == 0
        if self.accelerator:
            self.device = self.accelerator.device
        else:
            self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def unwrap(self, model: Any) -> Any:
        return self.accelerator.unwrap_model(model) if self.accelerator else model

    def _reduce(self, value: float, how: str) -> float:
        if not self.accelerator:
            return value
        import torch

        return float(self.accelerator.reduce(torch.tensor(value, device=self.device), how))

    def mean(self, value: float) -> float:
        return self._reduce(value, "mean")

    def total(self, value: int) -> int:
        return int(self._reduce(value, "sum"))

    def barrier(self) -> None:
        if self.accelerator:
            self.accelerator.wait_for_everyone()


def setup(config: TrainConfig, corpus: Path, device: Any = None
          ) -> tuple[Any, Any, list[dict], list[dict], dict[str, Counter]]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads or os.cpu_count() or 1)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = resolve_dtype(config.dtype, str(device))
    if warning := emulated_bf16(dtype, str(device)):
        print(f"kubedistill train: {warning}", file=sys.stderr)
    path = resolve_model(config.model, config.cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(path)
    attention_kernels(device)
    base = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).to(device)
    if config.gradient_checkpointing:
        base.gradient_checkpointing_enable()
        base.enable_input_require_grads()
    lora = LoraConfig(r=config.lora.r, lora_alpha=config.lora.alpha, lora_dropout=config.lora.dropout,
                      target_modules=config.lora.target_modules, task_type="CAUSAL_LM")
    model = get_peft_model(base, lora)
    if config.init_adapter:
        load_adapter(model, config)
    dropped: dict[str, Counter] = {}
    train = _encode_all(tokenizer, read_split(corpus, "train"), config, dropped.setdefault("train", Counter()))
    validation = _encode_all(tokenizer, read_split(corpus, "validation"), config,
                             dropped.setdefault("validation", Counter()))
    if config.eval_pairs:
        validation = validation[: config.eval_pairs]
    if not train:
        raise UserError("no training pair fits max_length", f"raise max_length (now {config.max_length})")
    return model, tokenizer, train, validation, dropped


def attention_kernels(device: Any) -> None:
    """On a GPU, train without cuDNN's attention kernel.

    Since torch 2.11 on H100/H200, its backward returns NaN in the query gradient when an attention mask is given
    and the sequence length is 64 more than a multiple of 128 (pytorch/pytorch#196678). A padded batch of two
    pairs passes a mask, and our first GPU run (batch 2, Qwen2.5-Coder-0.5B, torch 2.11.0+cu130) turned every
    LoRA weight into NaN at its first such batch, step 180 (446 and 448 tokens): the loss was finite, the
    gradient was not. The memory-efficient and flash kernels, which torch picks next, are unaffected."""
    import torch

    if str(device).startswith("cuda"):
        torch.backends.cuda.enable_cudnn_sdp(False)


def load_adapter(model: Any, config: TrainConfig) -> Path:
    """Copy the weights of ``config.init_adapter`` into the fresh LoRA of ``model``; every LoRA tensor must be
    found, so a partial load can never pass for continued training."""
    from peft import set_peft_model_state_dict

    from kubedistill.inference.backend import adapter_dir, read_adapter

    folder = adapter_dir(config.init_adapter)
    if not (folder / "adapter_config.json").is_file() or not (folder / "adapter_model.safetensors").is_file():
        raise UserError(f"init_adapter: no adapter at {config.init_adapter}",
                        "give the adapter/ folder that kubedistill train wrote (adapter_config.json and "
                        "adapter_model.safetensors)")
    tensors = read_adapter(folder)  # read once: checked, then loaded
    saved = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    wanted = {"r": config.lora.r, "lora_alpha": config.lora.alpha,
              "target_modules": sorted(config.lora.target_modules)}
    found = {"r": saved.get("r"), "lora_alpha": saved.get("lora_alpha"),
             "target_modules": sorted(saved.get("target_modules") or [])}
    if found != wanted:
        raise UserError(f"init_adapter {folder}: its LoRA settings {found} differ from this config's {wanted}",
                        "set lora.r, lora.alpha and lora.target_modules to the adapter's")
    try:
        result = set_peft_model_state_dict(model, tensors)
    except RuntimeError as exc:  # shape mismatch: an adapter of another base model
        raise UserError(f"init_adapter {folder} does not fit {config.model}: {str(exc).splitlines()[0]}") from exc
    missing = [k for k in getattr(result, "missing_keys", []) if "lora_" in k]
    if missing:
        raise UserError(f"init_adapter {folder} lacks {len(missing)} LoRA tensors of {config.model}, e.g. "
                        f"{missing[0]}", "train it with the same base model and target modules")
    return folder


def _encode_all(tokenizer: Any, rows: list[dict], config: TrainConfig, dropped: Counter) -> list[dict]:
    """Encoded pairs; those longer than ``max_length`` are counted by family in ``dropped``."""
    kept = []
    for row in rows:
        encoded = encode(tokenizer, row, config.prompt, config.max_length, config.emphasis, config.hints)
        if encoded is None:
            dropped[row.get("family") or "(none)"] += 1
        else:
            kept.append(encoded)
    return kept


def _report_dropped(dropped: dict[str, Counter], max_length: int) -> None:
    """Say which pairs do not fit: a family whose manifests are long (a Deployment, Service, Ingress and HPA in
    one answer) can lose nearly all its pairs to ``max_length``, and a student that never saw one fails every
    such task (1,024 tokens dropped 49 of 51 web-app pairs of our reference corpus)."""
    for split, counts in dropped.items():
        if counts:
            n = sum(counts.values())
            one = n == 1
            print(f"kubedistill train: {n} {split} {'pair is' if one else 'pairs are'} longer than max_length "
                  f"{max_length} tokens and {'is' if one else 'are'} left out ({_by_family(counts, 6)}); raise "
                  f"max_length to keep {'it' if one else 'them'}", file=sys.stderr)


def schedule(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak rate."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def total_steps(config: TrainConfig, n_train: int) -> int:
    if config.max_steps:
        return config.max_steps
    per_epoch = math.ceil(n_train / config.batch_size / config.grad_accum)
    return max(1, math.ceil(per_epoch * config.epochs))


def micro_batches(train: list[dict], config: TrainConfig, start: int):
    """Micro-batches (as index lists) from position ``start`` on, epoch after epoch, deterministically."""
    lengths = [len(e["input_ids"]) for e in train]
    position, epoch = 0, 0
    while True:
        for batch in length_grouped_order(lengths, config.batch_size, config.seed, epoch):
            if position >= start:
                yield batch
            position += 1
        epoch += 1


def evaluate(model: Any, data: list[dict], pad_id: int, device: Any = None) -> float:
    import torch

    if not data:
        return float("nan")
    model.eval()
    losses, tokens = 0.0, 0
    with torch.no_grad():
        for example in data:
            batch = {k: v.to(device or model.device) for k, v in collate([example], pad_id).items()
                     if k != "weights"}  # the plain mean: comparable with runs trained without emphasis
            n = int((batch["labels"][:, 1:] != IGNORE).sum())
            losses += float(answer_loss(model, batch)) * n
            tokens += n
    model.train()
    return losses / max(tokens, 1)


def fit(config: TrainConfig, corpus: str | Path, out: str | Path, resume: bool = False,
        progress: bool | None = None) -> dict:
    """Train and save; returns the final metrics."""
    import torch

    problems = config.problems()
    if problems:
        raise UserError("invalid train config:\n  " + "\n  ".join(problems))
    corpus, out = Path(corpus), Path(out)
    procs = Processes()
    model, tokenizer, train, validation, dropped = setup(config, corpus, procs.device)
    if procs.main:
        _report_dropped(dropped, config.max_length)
    out.mkdir(parents=True, exist_ok=True)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    steps = total_steps(config, len(train) // procs.world or 1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: schedule(s, steps, config.warmup_steps))
    identity = _identity(config, corpus)
    if resume:
        _check_identity(identity, out)
    elif procs.main:
        write_json_atomic(out / "run_identity.json", identity)
    step = _restore(model, optimizer, scheduler, out) if resume else 0
    if procs.accelerator:  # after restoring into the plain peft model
        model, optimizer = procs.accelerator.prepare(model, optimizer)
    if not resume and procs.main:  # a fresh start: an earlier run's metrics and checkpoints are not this run's
        (out / "metrics.jsonl").unlink(missing_ok=True)
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
    per_step = config.grad_accum * procs.world
    batches = micro_batches(train, config, step * per_step)
    bar = Progress("train", steps, enabled=progress if procs.main else False)
    bar.count = step
    shared = (config.share_prefix and not config.gradient_checkpointing and procs.world == 1
              and procs.device.type == "cpu")
    prefix_ids = shared_prefix(train) if shared else []
    model.train()
    last: dict = {}
    non_finite: list[int] = []  # the steps of the current run of non-finite gradients
    while step < steps:
        start, loss_sum, tokens = time.monotonic(), 0.0, 0
        prefix = Prefix(model, prefix_ids, procs.device) if prefix_ids else None
        for _ in range(config.grad_accum):
            group = [next(batches) for _ in range(procs.world)]  # every process draws all, keeps its own
            batch = {k: v.to(procs.device) for k, v in collate([train[i] for i in group[procs.rank]], pad_id).items()}
            loss = answer_loss(model, batch, prefix) / config.grad_accum
            loss.backward()
            loss_sum += float(loss.detach()) * config.grad_accum
            tokens += int(batch["attention_mask"].sum())
        if prefix is not None:
            prefix.backward()
        norm = float(torch.nn.utils.clip_grad_norm_(params, 1.0))  # equal in every process: gradients are synced
        finite = math.isfinite(norm)
        if finite:
            optimizer.step()
            non_finite.clear()
        else:
            non_finite.append(step + 1)
            _skip_or_stop(non_finite, loss_sum / config.grad_accum, out, say=procs.main)
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        seconds = time.monotonic() - start
        tokens = procs.total(tokens)
        last = {"step": step, "loss": round(procs.mean(loss_sum / config.grad_accum), 5),
                "grad_norm": round(norm, 4) if finite else None, "lr": scheduler.get_last_lr()[0], "tokens": tokens,
                "tokens_per_second": round(tokens / seconds, 1)}
        if not finite:
            last["skipped"] = True
        if step % config.eval_every == 0 or step == steps:
            last["val_loss"] = round(evaluate(model, validation, pad_id, procs.device), 5)
        if procs.main:
            with (out / "metrics.jsonl").open("a") as handle:
                handle.write(json.dumps(last) + "\n")
            bar.advance(note=f"loss {last['loss']:.3f}")
            if step % config.save_every == 0 and step < steps:
                _checkpoint(procs.unwrap(model), optimizer, scheduler, step, out)
        procs.barrier()
    bar.close()
    if procs.main:
        save(procs.unwrap(model), tokenizer, config, corpus, out, {**last, "processes": procs.world}, dropped)
    procs.barrier()
    return last


RESUME_NEUTRAL = frozenset({"threads", "cache_dir", "export_merged", "export_gguf", "eval_every", "save_every",
                            "eval_pairs", "gradient_checkpointing", "share_prefix"})
"""Settings a resumed run may change: they change how it runs or what it reports, not the weights it trains
(the last two only by float rounding)."""


def _identity(config: TrainConfig, corpus: Path) -> dict:
    """What a resumed run must share with the run it continues: the settings that shape the weights, and the
    training split they are fitted to."""
    settings = {k: v for k, v in asdict(config).items() if k not in RESUME_NEUTRAL}
    settings["prompt"] = prompt_stamp(config.prompt)
    return {"settings": settings,
            "train_sha256": hashlib.sha256((corpus / "data" / "train.jsonl").read_bytes()).hexdigest()}


def _check_identity(identity: dict, out: Path) -> None:
    """Refuse to resume with other settings or other training pairs: the result would be neither run's.
    Runs from before ``run_identity.json`` existed resume unchecked."""
    path = out / "run_identity.json"
    if not path.is_file():
        return
    hint = "delete it to resume without checking the settings"
    started = read_json_object(path, "--resume", hint)
    before = started.get("settings")
    if not isinstance(before, dict):
        raise UserError(f"--resume: {path} holds no settings mapping", hint)
    defaults = asdict(TrainConfig())  # a setting added after the run started: it ran with that setting's default
    changed = [f"{key}: {old!r} -> {new!r}"
               for key, (old, new) in changed_settings(before, identity["settings"], defaults.get).items()]
    if started.get("train_sha256") != identity["train_sha256"]:
        changed.append("the corpus's train split differs")
    if changed:
        raise UserError(f"--resume: {out} was started with other settings ({'; '.join(changed)})",
                        "resume with the settings it started with, or train into a new --out")


def _skip_or_stop(steps: list[int], loss: float, out: Path, say: bool = True) -> None:
    """Say that step ``steps[-1]`` is skipped, or stop the run when ``MAX_NON_FINITE_STEPS`` came in a row."""
    if len(steps) >= MAX_NON_FINITE_STEPS:
        kept = sorted((out / "checkpoints").glob("step-???????"))
        raise UserError(
            f"training diverged: the gradient was NaN or infinite at {len(steps)} optimizer steps in a row "
            f"(steps {steps[0]}-{steps[-1]}); no adapter was saved",
            ("the last checkpoint, " + kept[-1].name + ", holds the weights before them; " if kept else "")
            + "lower lr, or train with dtype float32")
    if say:
        print(f"kubedistill train: step {steps[-1]}: the gradient is NaN or infinite (loss {loss:.5g}); the update is "
              f"skipped ({len(steps)} in a row, training stops at {MAX_NON_FINITE_STEPS})", file=sys.stderr)


def _checkpoint(model: Any, optimizer: Any, scheduler: Any, step: int, out: Path) -> None:
    """Adapter, optimizer, scheduler and RNG states, written to a temp folder and renamed (atomic)."""
    import torch
    from peft import get_peft_model_state_dict

    final = out / "checkpoints" / f"step-{step:07d}"
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    torch.save({"adapter": get_peft_model_state_dict(model), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "step": step, "torch_rng": torch.get_rng_state(),
                # LoRA dropout on a GPU draws from the CUDA generators, not the CPU one
                "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                "python_rng": random.getstate()}, tmp / "state.pt")
    os.replace(tmp, final)
    for old in sorted((out / "checkpoints").glob("step-???????"))[:-2]:
        shutil.rmtree(old)


def _restore(model: Any, optimizer: Any, scheduler: Any, out: Path) -> int:
    import torch
    from peft import set_peft_model_state_dict

    found = sorted((out / "checkpoints").glob("step-???????"))
    if not found:
        raise UserError(f"--resume: no checkpoint under {out / 'checkpoints'}", "start without --resume")
    # on the CPU first: a checkpoint written on a GPU must also resume on a machine without one (the optimizer
    # moves its state to the parameters' device when loaded)
    state = torch.load(found[-1] / "state.pt", map_location="cpu", weights_only=False)
    set_peft_model_state_dict(model, state["adapter"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    if state.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    random.setstate(state["python_rng"])
    metrics = out / "metrics.jsonl"
    if metrics.exists():  # drop lines logged after the checkpoint (they are recomputed)
        kept = [line for line in metrics.read_text().splitlines() if json.loads(line)["step"] <= state["step"]]
        metrics.write_text("".join(line + "\n" for line in kept))
    return int(state["step"])


def save(model: Any, tokenizer: Any, config: TrainConfig, corpus: Path, out: Path, last: dict,
         dropped: dict[str, Counter] | None = None) -> None:
    import peft
    import torch
    import transformers

    from kubedistill.inference.backend import non_finite

    bad = non_finite((name, p) for name, p in model.named_parameters() if p.requires_grad)
    if bad:  # skipped steps cannot cause this; a run resumed from a checkpoint written before they existed can
        raise UserError(f"the trained adapter holds NaN or infinity ({len(bad)} tensors, e.g. {bad[0]}); it was "
                        "not saved", "resume from an earlier checkpoint (kept under checkpoints/) or train again")
    model.save_pretrained(out / "adapter")
    tokenizer.save_pretrained(out / "adapter")
    write_json_atomic(out / "adapter" / ASKED_FILE, {"prompt": prompt_stamp(config.prompt), "hints": config.hints})
    if config.export_merged:  # after the adapter is saved: merging folds the LoRA weights into this copy
        merged = model.merge_and_unload()
        merged.save_pretrained(out / "merged", safe_serialization=True)
        tokenizer.save_pretrained(out / "merged")
    gguf_note = "not requested"
    if config.export_gguf:
        from kubedistill.train.gguf_lora import ensure_gguf_adapter

        try:
            gguf_note = str(ensure_gguf_adapter(out / "adapter", model.config).name)
        except UserError as exc:  # an architecture llama.cpp's LoRA format does not cover: say so, keep the rest
            gguf_note = f"skipped: {exc}"
            print(f"kubedistill train: GGUF adapter {gguf_note}", file=sys.stderr)
    digest = hashlib.sha256()
    for split in ("train", "validation"):
        digest.update((corpus / "data" / f"{split}.jsonl").read_bytes())
    write_json_atomic(out / "training_config.json", {
        "config": asdict(config), "corpus": str(corpus), "corpus_sha256": digest.hexdigest(), "final": last,
        "gguf_adapter": gguf_note, "base_dtype": str(model.get_base_model().dtype).removeprefix("torch."),
        "left_out_over_max_length": {split: dict(c.most_common()) for split, c in (dropped or {}).items()},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}})
    _loss_plot(out)
    continued = f"Continued from the adapter {config.init_adapter}.\n\n" if config.init_adapter else ""
    (out / "README.md").write_text(
        f"# LoRA adapter for {config.model}\n\nTrained by `kubedistill train` on `{corpus}` "
        f"(sha256 {digest.hexdigest()[:16]}...). LoRA r={config.lora.r}, alpha={config.lora.alpha} on "
        f"{', '.join(config.lora.target_modules)}; {last.get('step')} steps of batch {config.batch_size} x "
        f"{config.grad_accum} accumulation, lr {config.lr}, {config.prompt} prompt"
        f"{' with the request checklist' if config.hints == 'request' else ''}, loss on the answer only"
        f"{f' (x{config.emphasis} on the lines stating the requested values)' if config.emphasis != 1 else ''}.\n\n"
        f"Final training loss {last.get('loss')}, validation loss {last.get('val_loss')}.\n\n"
        f"{continued}"
        f"{_dropped_line(dropped or {}, config.max_length)}"
        "![loss](loss.png)\n\nLoad with `peft.PeftModel.from_pretrained(base, 'adapter')`; the base model is "
        "unchanged.\n")


def _dropped_line(dropped: dict[str, Counter], max_length: int) -> str:
    counts = dropped.get("train") or Counter()
    if not counts:
        return f"Every training pair fit in max_length {max_length} tokens.\n\n"
    return (f"Left out as longer than max_length {max_length} tokens: {sum(counts.values())} pairs "
            f"({_by_family(counts)}).\n\n")


def _by_family(counts: Counter, most: int | None = None) -> str:
    return ", ".join(f"{family} {n}" for family, n in counts.most_common(most))


def _loss_plot(out: Path) -> None:
    from kubedistill.plots import pyplot, save

    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    fig, ax = pyplot().subplots(figsize=(7, 3.5))
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], label="train")
    val = [r for r in rows if "val_loss" in r]
    if val:
        ax.plot([r["step"] for r in val], [r["val_loss"] for r in val], "o-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    save(fig, out / "loss.png", tight=False)
