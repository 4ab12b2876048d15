"""bench/average_adapters.py: stacking two real peft LoRA adapters along the rank gives, once merged, exactly the
weighted average of their merged models; mismatched inputs stop with a message, not a traceback."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _module():
    spec = importlib.util.spec_from_file_location("average_adapters", REPO / "bench" / "average_adapters.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _adapter(tiny_model: Path, out: Path, seed: int, r: int = 4, alpha: int = 8) -> Path:
    """A LoRA adapter with random (non-zero) A and B on the tiny model, saved as peft writes it."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=["q_proj", "v_proj", "down_proj"],
                        init_lora_weights=False, task_type="CAUSAL_LM")
    get_peft_model(base, config).save_pretrained(out)
    return out


def _merged(tiny_model: Path, adapter: Path) -> dict:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), adapter)
    return {k: v.detach().clone() for k, v in model.merge_and_unload().state_dict().items()}


def test_stacked_adapter_merges_to_the_weighted_average(tiny_model, tmp_path):
    pytest.importorskip("peft")
    first = _adapter(tiny_model, tmp_path / "a", seed=1)
    second = _adapter(tiny_model, tmp_path / "b", seed=2)
    out = tmp_path / "avg"
    assert _module().main(["--out", str(out), str(first), str(second), "--weights", "0.25", "0.75"]) == 0
    config = json.loads((out / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"]) == (8, 16)

    one, two, both = (_merged(tiny_model, path) for path in (first, second, out))
    changed = 0
    for key, value in both.items():
        expected = 0.25 * one[key] + 0.75 * two[key]
        assert value.allclose(expected, atol=1e-5), key
        changed += not one[key].allclose(two[key])
    assert changed == 2 * 3  # q, v and down projections of both layers differ between the two adapters


def test_mismatched_adapters_stop_with_a_message(tiny_model, tmp_path, capsys):
    pytest.importorskip("peft")
    first = _adapter(tiny_model, tmp_path / "a", seed=1, r=4, alpha=8)
    other_scale = _adapter(tiny_model, tmp_path / "b", seed=2, r=4, alpha=16)
    module = _module()
    assert module.main(["--out", str(tmp_path / "x"), str(first), str(other_scale)]) == 1
    assert "scale differently" in capsys.readouterr().err
    assert module.main(["--out", str(tmp_path / "x"), str(first), str(tmp_path / "missing")]) == 1
    assert "missing/adapter_model.safetensors: not found" in capsys.readouterr().err
    assert module.main(["--out", str(tmp_path / "x"), str(first), str(first), "--weights", "1"]) == 1
    assert "1 weights for 2 adapters" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
