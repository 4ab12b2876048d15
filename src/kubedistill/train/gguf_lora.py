"""Export a PEFT LoRA adapter as a GGUF LoRA adapter that llama.cpp loads beside the base GGUF.

The layout is llama.cpp's: ``general.type = adapter``, ``adapter.type = lora``, ``adapter.lora.alpha``, and per
adapted weight the tensors ``<gguf name>.lora_a`` (r x in) and ``<gguf name>.lora_b`` (out x r), named with the
gguf package's own Hugging Face to GGUF tensor map. One trap: llama.cpp's converter permutes the rows of the
Llama architecture's q and k projections (rotary layout), so the B matrices of those two projections get the same
row permutation here; Qwen2 weights are not permuted.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from kubedistill.errors import UserError

GGUF_NAME = "adapter.gguf"
PERMUTED_ARCHS = {"llama"}
_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.default)?\.weight$")


def _architecture(config: Any) -> Any:
    import gguf

    names = {name: arch for arch, name in gguf.MODEL_ARCH_NAMES.items()}
    model_type = getattr(config, "model_type", "")
    if model_type not in names:
        raise UserError(f"no GGUF LoRA export for model type {model_type!r}",
                        "use the transformers backend, or export a merged model (export_merged: true)")
    return names[model_type]


def _permute_rows(weights: Any, heads: int) -> Any:
    """llama.cpp's q/k permutation (convert_hf_to_gguf's ``permute``), applied to the rows of a B matrix."""
    return (weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def export_gguf_adapter(adapter: Path, config: Any, dest: Path) -> Path:
    import gguf
    from safetensors.torch import load_file

    settings = json.loads((adapter / "adapter_config.json").read_text())
    if settings.get("use_dora") or settings.get("use_rslora"):
        raise UserError("DoRA / rsLoRA adapters have no llama.cpp GGUF form", "train a plain LoRA adapter")
    arch = _architecture(config)
    arch_name = gguf.MODEL_ARCH_NAMES[arch]
    names = gguf.get_tensor_name_map(arch, config.num_hidden_layers)
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    pairs: dict[str, dict[str, Any]] = {}
    for key, tensor in load_file(str(adapter / "adapter_model.safetensors")).items():
        match = _KEY.match(key)
        if not match:
            raise UserError(f"{adapter}: unexpected adapter tensor {key!r}", "only LoRA A/B weights can be exported")
        pairs.setdefault(match["module"], {})[match["ab"]] = tensor.float()
    writer = gguf.GGUFWriter(str(dest), arch_name)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(settings.get("lora_alpha", settings.get("r", 8))))
    for module, ab in sorted(pairs.items()):
        target = names.get_name(module + ".weight", try_suffixes=(".weight",))
        if target is None or set(ab) != {"A", "B"}:
            raise UserError(f"{adapter}: cannot map adapter module {module!r} to a llama.cpp tensor")
        lora_b = ab["B"]
        if arch_name in PERMUTED_ARCHS and module.endswith("q_proj"):
            lora_b = _permute_rows(lora_b, heads)
        elif arch_name in PERMUTED_ARCHS and module.endswith("k_proj"):
            lora_b = _permute_rows(lora_b, kv_heads)
        writer.add_tensor(f"{target}.lora_a", ab["A"].contiguous().numpy())
        writer.add_tensor(f"{target}.lora_b", lora_b.contiguous().numpy())
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return dest


def ensure_gguf_adapter(adapter: Path, config: Any) -> Path:
    """``adapter/adapter.gguf``, (re)built when missing or older than the PEFT weights; written atomically."""
    target = adapter / GGUF_NAME
    weights = adapter / "adapter_model.safetensors"
    if not weights.exists():
        if target.exists():
            return target
        raise UserError(f"{adapter} holds no adapter_model.safetensors", "give the adapter folder of a training run")
    if target.exists() and target.stat().st_mtime_ns >= weights.stat().st_mtime_ns:
        return target
    fd, tmp = tempfile.mkstemp(dir=adapter, suffix=".gguf.tmp")
    os.close(fd)
    try:
        export_gguf_adapter(adapter, config, Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
