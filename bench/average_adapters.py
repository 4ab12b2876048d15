"""Average LoRA adapters exactly, by stacking them along the rank (weight-space ensembling, as in WiSE-FT).

Two adapters trained from the same start each fix tasks the other breaks (the r=16 first stage and its
rehearsal stage). Averaging their A and B matrices separately would not average their updates (B1A1 + B2A2 is
not (B1+B2)(A1+A2)/2); stacking does: with A = [w1 A1; w2 A2] and B = [B1 B2], B A = w1 B1A1 + w2 B2A2. The
result has rank r1 + r2 and keeps the scaling alpha/r of its inputs, which must agree.

    python bench/average_adapters.py --out runs/avg/adapter runs/train-a/adapter runs/train-b/adapter \\
        [--weights 0.5 0.5]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

WEIGHTS_FILE = "adapter_model.safetensors"
CONFIG_FILE = "adapter_config.json"


def stack_adapters(tensors: list[dict[str, torch.Tensor]], weights: list[float]) -> dict[str, torch.Tensor]:
    """Stack ``lora_A`` rows (each scaled by its weight) and ``lora_B`` columns of adapters with the same keys."""
    keys = set(tensors[0])
    for other in tensors[1:]:
        if set(other) != keys:
            raise ValueError(f"the adapters hold different modules: {sorted(keys ^ set(other))[:3]}")
    out: dict[str, torch.Tensor] = {}
    for key in sorted(keys):
        if ".lora_A." in key:
            scaled = [t[key].float() * w for t, w in zip(tensors, weights, strict=True)]
            out[key] = torch.cat(scaled, dim=0).to(tensors[0][key].dtype)
        elif ".lora_B." in key:
            out[key] = torch.cat([t[key] for t in tensors], dim=1)
        else:
            raise ValueError(f"{key}: only lora_A/lora_B weights can be stacked")
    return out


def stacked_config(configs: list[dict]) -> dict:
    """The first config with rank and alpha summed, so alpha/r (the scaling) stays that of every input."""
    scalings = {c["lora_alpha"] / c["r"] for c in configs}
    if len(scalings) != 1:
        raise ValueError(f"the adapters scale differently (alpha/r: {sorted(scalings)})")
    for field in ("rank_pattern", "alpha_pattern"):
        if any(c.get(field) for c in configs):
            raise ValueError(f"{field} is set; per-module ranks are not supported")
    config = dict(configs[0])
    config["r"] = sum(c["r"] for c in configs)
    config["lora_alpha"] = sum(c["lora_alpha"] for c in configs)
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("adapters", nargs="+", type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--weights", nargs="+", type=float)
    args = parser.parse_args(argv)
    weights = args.weights or [1.0 / len(args.adapters)] * len(args.adapters)
    try:
        if len(weights) != len(args.adapters):
            raise ValueError(f"{len(weights)} weights for {len(args.adapters)} adapters")
        for folder in args.adapters:
            for name in (WEIGHTS_FILE, CONFIG_FILE):
                if not (folder / name).is_file():
                    raise ValueError(f"{folder / name}: not found "
                                     "(give the folder kubedistill train writes, RUN/adapter)")
        tensors = [load_file(str(folder / WEIGHTS_FILE)) for folder in args.adapters]
        configs = [json.loads((folder / CONFIG_FILE).read_text()) for folder in args.adapters]
        stacked, config = stack_adapters(tensors, weights), stacked_config(configs)
    except (ValueError, OSError, json.JSONDecodeError) as err:
        print(f"average_adapters: error: {err}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(stacked, str(args.out / WEIGHTS_FILE), metadata={"format": "pt"})
    (args.out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    (args.out / "SOURCES.json").write_text(json.dumps(
        {"adapters": [str(a) for a in args.adapters], "weights": weights}, indent=2) + "\n")
    print(f"{args.out}: rank {config['r']}, alpha {config['lora_alpha']}, {len(stacked)} tensors, weights {weights}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
