"""The GGUF LoRA export: llama.cpp's names, shapes and metadata, the q/k row permutation of the Llama
architecture, and (when llama-cpp-python is installed) that llama.cpp with the exported adapter computes what
transformers + peft compute."""

from __future__ import annotations

import importlib.util

import pytest

from kubedistill.errors import UserError
from kubedistill.train.gguf_lora import _permute_rows, ensure_gguf_adapter

torch = pytest.importorskip("torch", reason="pip install -e '.[train]'")
gguf = pytest.importorskip("gguf", reason="pip install -e '.[train]'")


def _random_adapter(model_dir, out, seed=0):
    """A LoRA adapter with random non-zero A and B (peft's init_lora_weights=False), so it changes the output."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    config = LoraConfig(r=4, lora_alpha=8, init_lora_weights=False, task_type="CAUSAL_LM",
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    model = get_peft_model(base, config)
    model.save_pretrained(out)
    return model


def _tensors(path):
    reader = gguf.GGUFReader(str(path))
    fields = {name: reader.fields[name] for name in reader.fields}
    return {t.name: t for t in reader.tensors}, fields


def test_export_uses_llama_cpp_names_shapes_and_metadata(tiny_model, tmp_path):
    model = _random_adapter(tiny_model, tmp_path / "adapter")
    path = ensure_gguf_adapter(tmp_path / "adapter", model.config)
    tensors, fields = _tensors(path)
    assert bytes(fields["general.type"].parts[-1]).decode() == "adapter"
    assert bytes(fields["adapter.type"].parts[-1]).decode() == "lora"
    assert float(fields["adapter.lora.alpha"].parts[-1][0]) == 8.0
    assert len(tensors) == 2 * 7 * 2  # A and B for seven projections in two layers
    a, b = tensors["blk.0.ffn_down.weight.lora_a"], tensors["blk.0.ffn_down.weight.lora_b"]
    assert list(a.shape) == [64, 4] and list(b.shape) == [4, 32]  # GGUF lists dims innermost first: (in, r), (r, out)
    state = model.state_dict()
    v_b = state["base_model.model.model.layers.1.self_attn.v_proj.lora_B.default.weight"]
    assert torch.equal(torch.tensor(tensors["blk.1.attn_v.weight.lora_b"].data).reshape(v_b.shape), v_b)
    q_b = state["base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight"]
    exported = torch.tensor(tensors["blk.0.attn_q.weight.lora_b"].data).reshape(q_b.shape)
    assert not torch.equal(exported, q_b) and torch.equal(exported, _permute_rows(q_b, 2))


def test_export_is_cached_and_rebuilt_when_the_adapter_changes(tiny_model, tmp_path):
    model = _random_adapter(tiny_model, tmp_path / "adapter")
    first = ensure_gguf_adapter(tmp_path / "adapter", model.config)
    stamp = first.stat().st_mtime_ns
    assert ensure_gguf_adapter(tmp_path / "adapter", model.config).stat().st_mtime_ns == stamp
    _random_adapter(tiny_model, tmp_path / "adapter", seed=1)
    assert ensure_gguf_adapter(tmp_path / "adapter", model.config).stat().st_mtime_ns > stamp


def test_unsupported_architectures_are_a_clear_error(tiny_model, tmp_path):
    model = _random_adapter(tiny_model, tmp_path / "adapter")
    model.config.model_type = "no-such-arch"
    with pytest.raises(UserError, match="no GGUF LoRA export for model type"):
        ensure_gguf_adapter(tmp_path / "adapter", model.config)


def _forced_logits(tokenizer, ids, hf_model=None, gguf_path=None, lora=None):
    """Next-token logits at every position of a fixed (teacher-forced) token sequence."""
    if hf_model is not None:
        with torch.no_grad():
            return hf_model(torch.tensor([ids])).logits[0].float().numpy()
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf_path), lora_path=lora, logits_all=True, n_ctx=1024, n_threads=2, verbose=False)
    try:
        llm.eval(ids)
        return llm.scores[: len(ids)].copy()
    finally:
        llm.close()


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                    reason="llama-cpp-python is not installed (pip install -e '.[llamacpp]')")
def test_llama_cpp_with_the_exported_adapter_agrees_with_transformers(tmp_path):
    """Real SmolLM2-135M (pulled offline), a random adapter, a manifest fed token by token: llama.cpp (quantized
    GGUF + exported GGUF adapter) and transformers (fp32 + peft) pick the same next token almost everywhere, and
    the adapter moves the logits the same way in both, so names, q/k permutation and scale are right. Exact
    long greedy agreement is not expected: llama.cpp multiplies in quantized form, so near-ties can flip."""
    import numpy as np
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kubedistill.inference.backend import ModelRef, gguf_paths, load_backend
    from kubedistill.models.pull import pull

    base_dir = pull("smollm2-135m-instruct")
    gguf_path, _ = gguf_paths(ModelRef("smollm2-135m-instruct"))
    _random_adapter(base_dir, tmp_path / "adapter", seed=3)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    messages = [{"role": "user", "content": "Write a Kubernetes ConfigMap named app-config."}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  LOG_LEVEL: debug\n"
    ids = tokenizer(prompt + manifest, add_special_tokens=False)["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(base_dir).eval()
    hf_base = _forced_logits(tokenizer, ids, hf_model=base)
    hf_lora = _forced_logits(tokenizer, ids, hf_model=PeftModel.from_pretrained(base, tmp_path / "adapter").eval())
    config = AutoModelForCausalLM.from_pretrained(base_dir).config
    lora_gguf = str(ensure_gguf_adapter(tmp_path / "adapter", config))
    cpp_base = _forced_logits(tokenizer, ids, gguf_path=gguf_path)
    cpp_lora = _forced_logits(tokenizer, ids, gguf_path=gguf_path, lora=lora_gguf)

    def agreement(a, b):
        return float((a.argmax(-1) == b.argmax(-1)).mean())

    assert agreement(hf_base, cpp_base) > 0.9 and agreement(hf_lora, cpp_lora) > 0.9
    assert agreement(hf_base, hf_lora) < 0.9  # the adapter really changes the model
    delta_hf, delta_cpp = (hf_lora - hf_base).ravel(), (cpp_lora - cpp_base).ravel()
    assert np.corrcoef(delta_hf, delta_cpp)[0, 1] > 0.9
    # and the backends themselves: a short greedy answer through the same chat template is the same (transformers
    # in float32, the reference: in bfloat16, what auto is on a CPU with native bf16, the 4th token differed here)
    answers = [load_backend(ModelRef("smollm2-135m-instruct", "", b, threads=2, dtype="float32")).generate(messages, 4)
               .text for b in ("transformers", "llamacpp")]
    assert answers[0] == answers[1]
