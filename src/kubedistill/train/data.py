"""Training examples: the strict prompt, the instruction and the manifest through the model's chat template,
with the loss on the assistant's answer only."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from kubedistill.errors import UserError
from kubedistill.prompts import chat
from kubedistill.train.emphasis import emphasis_spans

IGNORE = -100


def read_split(corpus: Path, split: str) -> list[dict]:
    path = corpus / "data" / f"{split}.jsonl"
    if not path.is_file():
        raise UserError(f"no {split} split at {path}", "build one with kubedistill corpus build")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{number}: not a JSON line ({exc.msg})") from None
        if not isinstance(row, dict) or not row.get("instruction") or not row.get("manifest"):
            raise UserError(f"{path}:{number}: a training pair needs instruction and manifest")
        rows.append(row)
    return rows


def encode(tokenizer: Any, row: dict, prompt_mode: str, max_length: int,
           emphasis: float = 1.0, hints: str = "none") -> dict[str, list] | None:
    """Token ids and labels for one pair; None when it does not fit in ``max_length`` tokens. With ``emphasis``
    above 1 also per-token loss ``weights``: that factor on the answer tokens stating the values the pair's task
    spec asks for (``train/emphasis.py``), 1 elsewhere. ``hints``: as ``prompts.chat``."""
    messages = chat(prompt_mode, row["instruction"], hints)
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    full = tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": row["manifest"].strip()}],
                                         tokenize=True)
    prompt, full = _ids(prompt), _ids(full)
    if full[: len(prompt)] != prompt:
        raise UserError("the chat template does not render the prompt as a prefix of the conversation",
                        "use a model whose chat template supports add_generation_prompt")
    if len(full) > max_length:
        return None
    encoded: dict[str, list] = {"input_ids": full, "labels": [IGNORE] * len(prompt) + full[len(prompt):]}
    if emphasis != 1.0:
        encoded["weights"] = _weights(tokenizer, messages, row, full, len(prompt), emphasis)
    return encoded


def _weights(tokenizer: Any, messages: list[dict], row: dict, full: list[int], answer_start: int,
             emphasis: float) -> list[float]:
    """``emphasis`` on the answer tokens that overlap a marked line of the manifest, found through the fast
    tokenizer's character offsets of the rendered conversation (which must give the same ids)."""
    if not getattr(tokenizer, "is_fast", False):
        raise UserError("emphasis needs a fast tokenizer (its character offsets); this model's is not",
                        "train with emphasis: 1")
    answer = row["manifest"].strip()
    text = tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": answer}], tokenize=False)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    if list(encoded["input_ids"]) != full:
        raise UserError("the tokenizer does not give the chat template's token ids for a rendered conversation, "
                        "so answer tokens cannot be matched to manifest lines", "train with emphasis: 1")
    base = text.rfind(answer)
    spans = [(base + start, base + end) for start, end in emphasis_spans(answer, row.get("spec"))]
    weights = [1.0] * len(full)
    for position in range(answer_start, len(full)):
        start, end = encoded["offset_mapping"][position]
        if any(start < span_end and span_start < end for span_start, span_end in spans):
            weights[position] = emphasis
    return weights


def _ids(value: Any) -> list[int]:
    if isinstance(value, dict) or hasattr(value, "keys"):
        value = value["input_ids"]
    return list(value)


def length_grouped_order(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Batches of similar length (little padding), in a seeded random order that depends only on the epoch."""
    rng = random.Random(f"{seed}:{epoch}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = max(batch_size * 50, batch_size)
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: lengths[i])
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(examples: list[dict[str, list[int]]], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(e["input_ids"]) for e in examples)
    ids = [e["input_ids"] + [pad_id] * (width - len(e["input_ids"])) for e in examples]
    labels = [e["labels"] + [IGNORE] * (width - len(e["labels"])) for e in examples]
    mask = [[1] * len(e["input_ids"]) + [0] * (width - len(e["input_ids"])) for e in examples]
    batch = {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}
    if any("weights" in e for e in examples):
        batch["weights"] = torch.tensor([e.get("weights", [1.0] * len(e["input_ids"]))
                                         + [0.0] * (width - len(e["input_ids"])) for e in examples])
    return batch
