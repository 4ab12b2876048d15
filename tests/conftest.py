"""Shared test helpers: the fixture folder, the shared real-manifest corpus, and a verifier factory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubedistill.verify import Verifier, VerifyConfig

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


def real_manifests_dir() -> Path | None:
    env = os.environ.get("KUBEDISTILL_REAL_MANIFESTS")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared" / "data" / "real-manifests"]
    return next((p for p in candidates if (p / "index.jsonl").exists()), None)


@pytest.fixture(scope="session")
def real_dir() -> Path:
    found = real_manifests_dir()
    if found is None:
        pytest.skip("shared real-manifest corpus not found (../shared/data/real-manifests or "
                    "$KUBEDISTILL_REAL_MANIFESTS)")
    return found


@pytest.fixture(scope="session")
def verifier() -> Verifier:
    return Verifier(VerifyConfig())


def rules_of(results) -> set[str]:
    return {f.rule for r in results for f in r.findings}


def errors_of(results) -> list:
    return [f for r in results for f in r.findings if f.is_error]


CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A 2-layer Llama with a real BPE tokenizer (trained here) and a chat template, saved as a model folder."""
    torch = pytest.importorskip("torch", reason="needs torch: pip install -e '.[train]'")
    transformers = pytest.importorskip("transformers", reason="needs transformers: pip install -e '.[train]'")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<|im_start|>", "<|im_end|>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    text = (REPO / "examples" / "web-app.yaml").read_text() + (REPO / "src/kubedistill/prompts/system_strict.txt"
                                                                 ).read_text()
    tokenizer.train_from_iterator([text] * 5, trainer)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", eos_token="<|im_end|>",
                                                pad_token="<pad>", bos_token="<|im_start|>")
    fast.chat_template = CHAT_TEMPLATE
    config = transformers.LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048,
                                      eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-model")
    transformers.LlamaForCausalLM(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path
