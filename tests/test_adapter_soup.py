"""bench/adapter_soup.py: the soup of LoRA adapters is the exact weighted mean of their weight updates."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _soup_module():
    spec = importlib.util.spec_from_file_location("adapter_soup", REPO / "bench" / "adapter_soup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _adapter(base, path, r, alpha, seed, targets=("q_proj", "v_proj")):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base)
    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=list(targets), init_lora_weights=False)
    get_peft_model(model, config).save_pretrained(path)
    return path


def _merged(base, adapter):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), str(adapter)).merge_and_unload()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_a_soup_equals_the_weighted_mean_of_the_updates(tiny_model, tmp_path):
    pytest.importorskip("peft", reason="needs peft: pip install -e '.[train]'")
    soup = _soup_module()
    one = _adapter(tiny_model, tmp_path / "one", r=2, alpha=4, seed=1)
    two = _adapter(tiny_model, tmp_path / "two", r=3, alpha=3, seed=2, targets=("v_proj", "q_proj"))
    config = soup.soup([one, two], [0.25, 0.75], tmp_path / "soup")
    assert config["r"] == 5 and json.loads((tmp_path / "soup" / "adapter_config.json").read_text())["r"] == 5
    from transformers import AutoModelForCausalLM

    base = {k: v.detach() for k, v in AutoModelForCausalLM.from_pretrained(tiny_model).state_dict().items()}
    w1, w2 = _merged(tiny_model, one), _merged(tiny_model, two)
    mixed = _merged(tiny_model, tmp_path / "soup")
    changed = [k for k in base if not bool((w1[k] == base[k]).all())]
    assert changed and all("q_proj" in k or "v_proj" in k for k in changed)
    for key in base:
        expected = base[key] + 0.25 * (w1[key] - base[key]) + 0.75 * (w2[key] - base[key])
        assert (mixed[key] - expected).abs().max() < 1e-5, key


def test_adapters_of_another_layout_do_not_mix(tiny_model, tmp_path):
    pytest.importorskip("peft", reason="needs peft: pip install -e '.[train]'")
    soup = _soup_module()
    one = _adapter(tiny_model, tmp_path / "one", r=2, alpha=4, seed=1)
    other = _adapter(tiny_model, tmp_path / "other", r=2, alpha=4, seed=1, targets=("q_proj", "k_proj"))
    with pytest.raises(SystemExit, match="adapters differ in target_modules"):
        soup.soup([one, other], [0.5, 0.5], tmp_path / "soup")
    with pytest.raises(SystemExit, match="no LoRA adapter here"):
        soup.soup([one, tmp_path / "missing"], [0.5, 0.5], tmp_path / "soup")
    assert not (tmp_path / "soup").exists()
