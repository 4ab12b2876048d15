"""Average LoRA adapters of one base model exactly, as a weight-space "soup" of their updates.

    python bench/adapter_soup.py --out runs/soup-stage23 runs/train-qwen05-stage2 runs/train-qwen05-stage3
    kubedistill eval ... --adapter runs/soup-stage23

Why: a later training stage (stage 3, from the stage-2 adapter) lowered the validation loss but scored worse on
the tasks, a sign of drifting too far from a good point; averaging the weights of fine-tuned models that share a
start (Wortsman et al., "Model soups", 2022) often beats each of them, at no training cost.

Averaging A and B separately is not averaging the updates (B A is bilinear), so the soup concatenates ranks:
with A = [A_1; ...; A_n] and B = [w_1 B_1, ..., w_n B_n], B A = sum_i w_i B_i A_i exactly. The soup's rank is the
sum of the ranks and its alpha keeps each update's scale (alpha / r), so the result loads like any peft adapter
(transformers, the GGUF export for llama.cpp) and equals the weighted mean of the adapters' weight updates.
(peft's ``add_weighted_adapter(combination_type="cat")`` builds the same product in memory; this writes a folder
that every kubedistill command takes as ``--adapter``, and checks that the adapters share a layout.)
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from kubedistill.inference.backend import adapter_dir

SETTINGS_THAT_MUST_MATCH = ("base_model_name_or_path", "target_modules", "use_dora", "use_rslora")


def soup(adapters: list[Path], weights: list[float], out: Path) -> dict:
    """Write the exact weighted mean of the adapters' updates to out; returns the soup's adapter config."""
    for a in adapters:
        if not (a / "adapter_config.json").is_file() or not (a / "adapter_model.safetensors").is_file():
            raise SystemExit(f"{a}: no LoRA adapter here (adapter_config.json and adapter_model.safetensors)")
    configs = [json.loads((a / "adapter_config.json").read_text()) for a in adapters]
    for setting in SETTINGS_THAT_MUST_MATCH:
        values = {json.dumps(sorted(v) if isinstance(v := c.get(setting), list) else v) for c in configs}
        if len(values) > 1:
            raise SystemExit(f"adapters differ in {setting}: {sorted(values)}; a soup needs one base and one layout")
    if any(c.get("rank_pattern") or c.get("alpha_pattern") for c in configs):
        raise SystemExit("adapters with rank_pattern/alpha_pattern are not supported")
    tensors = [load_file(str(a / "adapter_model.safetensors")) for a in adapters]
    keys = set(tensors[0])
    for a, t in zip(adapters, tensors, strict=True):
        if set(t) != keys:
            raise SystemExit(f"{a} holds other LoRA tensors than {adapters[0]}: not the same layout")
    rank = sum(int(c["r"]) for c in configs)
    scale = float(configs[0]["lora_alpha"]) / float(configs[0]["r"])
    merged: dict[str, torch.Tensor] = {}
    for key in sorted(k for k in keys if ".lora_A." in k):
        b_key = key.replace(".lora_A.", ".lora_B.")
        merged[key] = torch.cat([t[key].float() for t in tensors], dim=0).contiguous()
        merged[b_key] = torch.cat([w * (float(c["lora_alpha"]) / float(c["r"])) / scale * t[b_key].float()
                                   for w, c, t in zip(weights, configs, tensors, strict=True)], dim=1).contiguous()
    if set(merged) != keys:
        raise SystemExit(f"unexpected tensors (not lora_A/lora_B pairs): {sorted(keys - set(merged))[:5]}")
    out.mkdir(parents=True, exist_ok=True)
    save_file(merged, str(out / "adapter_model.safetensors"))
    config = dict(configs[0], r=rank, lora_alpha=scale * rank)
    (out / "adapter_config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (adapters[0] / name).exists():
            shutil.copyfile(adapters[0] / name, out / name)
    lines = [f"- {a} (weight {w:g}, r={c['r']}, alpha={c['lora_alpha']})"
             for a, w, c in zip(adapters, weights, configs, strict=True)]
    (out / "README.md").write_text(
        "# LoRA soup\n\nThe exact weighted mean of these adapters' weight updates (ranks concatenated, "
        f"r={rank}, alpha={config['lora_alpha']:g}); made by bench/adapter_soup.py:\n\n" + "\n".join(lines) + "\n")
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("adapters", nargs="+", help="training run folders or adapter folders of one base model")
    parser.add_argument("--weights", type=float, nargs="+", help="one per adapter (default: equal); normalised")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    folders = [adapter_dir(a) for a in args.adapters]
    weights = args.weights or [1.0] * len(folders)
    if len(weights) != len(folders) or sum(weights) <= 0 or min(weights) < 0:
        raise SystemExit("--weights needs one non-negative weight per adapter, not all zero")
    total = sum(weights)
    config = soup(folders, [w / total for w in weights], args.out)
    print(json.dumps({"out": str(args.out), "r": config["r"], "lora_alpha": config["lora_alpha"],
                      "adapters": [str(f) for f in folders], "weights": [w / total for w in weights]}))


if __name__ == "__main__":
    main()
