"""What ``dtype: auto`` and ``--backend auto`` pick on a given machine: bfloat16 only where the CPU computes it
natively (CPU flags read from a stand-in /proc/cpuinfo), a warning where a fixed bfloat16 would be emulated, and
one line of advice where llama.cpp is not installed."""

from __future__ import annotations

import json
import logging

import pytest

from kubedistill import hardware
from kubedistill.hardware import auto_dtype, emulated_bf16, native_bf16
from kubedistill.inference import backend as backends
from kubedistill.inference.backend import ModelRef, load_backend, resolve_backend

AVX2 = "fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma avx2 bmi2"
AVX512_BF16 = AVX2 + " avx512f avx512dq avx512bw avx512vl avx512_bf16 avx512_vnni"
AMX = AVX512_BF16.replace(" avx512_bf16", "") + " amx_bf16 amx_tile amx_int8"


def _cpuinfo(tmp_path, flags: str):
    path = tmp_path / f"cpuinfo-{len(flags)}"
    path.write_text("".join(f"processor\t: {n}\nmodel name\t: Test CPU\nflags\t\t: {flags}\n\n" for n in range(2)))
    return path


def test_auto_is_bfloat16_only_where_the_cpu_computes_it(tmp_path):
    avx2, bf16, amx = (_cpuinfo(tmp_path, f) for f in (AVX2, AVX512_BF16, AMX))
    assert auto_dtype("cpu", avx2) == "float32" and not native_bf16(avx2)
    assert auto_dtype("cpu", bf16) == "bfloat16" and auto_dtype("cpu", amx) == "bfloat16"
    assert auto_dtype("cuda", avx2) == "bfloat16"  # a GPU computes bfloat16 whatever its host CPU
    assert auto_dtype("cpu", tmp_path / "missing") == "float32"  # no /proc/cpuinfo (macOS, Windows): the reference


def test_fixed_bfloat16_on_an_emulating_cpu_is_warned_about(tmp_path):
    avx2, bf16 = _cpuinfo(tmp_path, AVX2), _cpuinfo(tmp_path, AVX512_BF16)
    assert "emulated" in emulated_bf16("bfloat16", "cpu", avx2) and "slow" in emulated_bf16("bfloat16", "cpu", avx2)
    assert emulated_bf16("bfloat16", "cpu", bf16) == emulated_bf16("float32", "cpu", avx2) == ""
    assert emulated_bf16("bfloat16", "cuda:0", avx2) == ""


def test_the_transformers_backend_follows_the_cpu(tiny_model, tmp_path, monkeypatch, caplog):
    torch = pytest.importorskip("torch", reason="pip install -e '.[train]'")
    if torch.cuda.is_available():
        pytest.skip("on a GPU the backend runs bfloat16 whatever the CPU")
    monkeypatch.setattr(hardware, "CPUINFO", _cpuinfo(tmp_path, AVX2))
    assert load_backend(ModelRef(str(tiny_model), threads=1)).model.dtype == torch.float32
    assert not caplog.records
    with caplog.at_level(logging.WARNING):
        assert load_backend(ModelRef(str(tiny_model), threads=1, dtype="bfloat16")).model.dtype == torch.bfloat16
    assert ["emulated" in r.getMessage() for r in caplog.records] == [True]
    monkeypatch.setattr(hardware, "CPUINFO", _cpuinfo(tmp_path, AVX512_BF16))
    assert load_backend(ModelRef(str(tiny_model), threads=1)).model.dtype == torch.bfloat16


def test_training_follows_the_cpu_and_warns_of_emulated_bfloat16(tiny_model, tmp_path, monkeypatch, capsys):
    torch = pytest.importorskip("torch", reason="pip install -e '.[train]'")
    from kubedistill.train.lora import TrainConfig, setup

    data = tmp_path / "corpus" / "data"
    data.mkdir(parents=True)
    pair = {"instruction": "Create a Namespace called shop.", "manifest": "apiVersion: v1\nkind: Namespace\n"}
    for split in ("train", "validation"):
        (data / f"{split}.jsonl").write_text(json.dumps(pair) + "\n")

    def base_dtype(dtype: str):
        model = setup(TrainConfig(model=str(tiny_model), threads=1, dtype=dtype), data.parent, "cpu")[0]
        return model.get_base_model().dtype

    monkeypatch.setattr(hardware, "CPUINFO", _cpuinfo(tmp_path, AVX2))
    assert base_dtype("auto") == torch.float32 and "emulated" not in capsys.readouterr().err
    assert base_dtype("bfloat16") == torch.bfloat16 and "bfloat16 on this CPU is emulated" in capsys.readouterr().err
    monkeypatch.setattr(hardware, "CPUINFO", _cpuinfo(tmp_path, AVX512_BF16))
    assert base_dtype("auto") == torch.bfloat16 and "emulated" not in capsys.readouterr().err


def test_auto_backend_without_llama_cpp_says_once_how_to_install_it(monkeypatch, caplog):
    monkeypatch.setattr(backends, "llamacpp_installed", lambda: False)
    monkeypatch.setattr(hardware, "cuda_available", lambda: False)
    backends.advise_llamacpp.cache_clear()
    with caplog.at_level(logging.WARNING):
        assert [resolve_backend(ModelRef("some-model", backend="auto")) for _ in range(3)] == ["transformers"] * 3
    (advice,) = [r.getMessage() for r in caplog.records]
    assert "\n" not in advice and 'CMAKE_ARGS="-DGGML_NATIVE=ON' in advice and 'pip install -e ".[llamacpp]"' in advice
    assert resolve_backend(ModelRef("some-model", backend="transformers")) == "transformers"
    backends.advise_llamacpp.cache_clear()


def test_auto_backend_with_llama_cpp_needs_gguf_weights(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(backends, "llamacpp_installed", lambda: True)
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    with caplog.at_level(logging.WARNING):
        assert resolve_backend(ModelRef(str(tmp_path / "model.gguf"), backend="auto")) == "llamacpp"
        assert resolve_backend(ModelRef(str(tmp_path), backend="auto")) == "llamacpp"  # a folder holding one
        assert resolve_backend(ModelRef(str(tmp_path / "elsewhere"), backend="auto")) == "transformers"
    assert not caplog.records
