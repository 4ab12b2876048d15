"""The local teacher on a real (tiny) model: a 2-layer Llama built in the test with a real BPE tokenizer and a
chat template. It asserts plumbing, not quality: chat template, seeded generation, cache, recorded rejection."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the local teacher needs torch: pip install -e '.[train]'")
transformers = pytest.importorskip("transformers", reason="pip install -e '.[train]'")

from kubedistill.sources.local import LocalConfig, LocalTeacher  # noqa: E402
from kubedistill.sources.teacher import TeacherError, TeacherRequest  # noqa: E402

CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<|im_start|>", "<|im_end|>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(["apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
                                   "INSTRUCTION: Create a Deployment named web with 2 replicas."] * 20, trainer)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", eos_token="<|im_end|>",
                                                pad_token="<pad>", bos_token="<|im_start|>")
    fast.chat_template = CHAT_TEMPLATE
    config = transformers.LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                                      eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny")
    transformers.LlamaForCausalLM(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path


REQUEST = TeacherRequest("synthetic_direct", [{"role": "user", "content": "write a ConfigMap"}], seed=4)


def test_generation_is_seeded_and_cached(tiny_model, tmp_path):
    teacher = LocalTeacher(LocalConfig(path=str(tiny_model), max_new_tokens=16, cache_dir=str(tmp_path)))
    first = teacher.answer(REQUEST)
    again = LocalTeacher(LocalConfig(path=str(tiny_model), max_new_tokens=16)).answer(REQUEST)
    cached = teacher.answer(REQUEST)
    assert first.raw and first.raw == again.raw and cached.cached and cached.raw == first.raw
    assert first.error.startswith("unparseable answer")  # random weights: a recorded rejection, not a crash


def test_the_chat_template_frames_the_prompt(tiny_model):
    teacher = LocalTeacher(LocalConfig(path=str(tiny_model)))
    tokenizer, _ = teacher._load()
    text = tokenizer.apply_chat_template(REQUEST.messages, add_generation_prompt=True, tokenize=False)
    assert text.endswith("<|im_start|>assistant\n") and "write a ConfigMap" in text


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(TeacherError, match="not found"):
        LocalTeacher(LocalConfig(path=str(tmp_path / "nope")))
