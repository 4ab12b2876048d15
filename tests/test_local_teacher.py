"""The local teacher on a real (tiny) model: a 2-layer Llama built in the test with a real BPE tokenizer and a
chat template. It asserts plumbing, not quality: chat template, seeded generation, cache, recorded rejection."""

from __future__ import annotations

import pytest

from kubedistill.sources.local import LocalConfig, LocalTeacher
from kubedistill.sources.teacher import TeacherError, TeacherRequest

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
