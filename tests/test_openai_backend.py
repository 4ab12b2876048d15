"""The openai backend: answers from an OpenAI-compatible model server, verified and repaired by kubedistill.

A scripted loopback server (``chat_server.py``) is the seam for retries, refusals, truncation, streaming and
usage; the real test starts llama.cpp's own server (``python -m llama_cpp.server``) on a tiny GGUF built here and
runs ``generate`` and ``serve --backend openai`` against it as a user would."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from chat_server import ChatServer
from conftest import CHAT_TEMPLATE
from kubedistill.context.spec import ObjectSpec, TaskSpec
from kubedistill.errors import UserError
from kubedistill.inference.backend import ModelRef, load_backend
from kubedistill.inference.openai_backend import OpenAIBackend

openai = pytest.importorskip("openai")

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  LOG_LEVEL: debug\n"
ASK = [{"role": "user", "content": "a ConfigMap named app-config with LOG_LEVEL=debug"}]


def _backend(server: ChatServer, model: str = "m", **kwargs) -> tuple[OpenAIBackend, list[float]]:
    slept: list[float] = []
    ref = ModelRef(model, backend="openai", base_url=server.base_url, timeout=kwargs.pop("timeout", 5.0))
    return OpenAIBackend(ref, sleep=slept.append, **kwargs), slept


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_answer_comes_back_with_the_servers_token_counts():
    with ChatServer(answer=CONFIGMAP) as server:
        gen = _backend(server)[0].generate(ASK, 64, seed=7)
    assert (gen.text, gen.tokens, gen.prompt_tokens, gen.truncated) == (CONFIGMAP, 1, 1, False)
    sent = server.requests[0]
    assert (sent["model"], sent["max_tokens"], sent["temperature"], sent["seed"]) == ("m", 64, 0.0, 7)
    assert sent["messages"] == ASK and "stream" not in sent


def test_429_and_5xx_are_retried_with_backoff_then_succeed():
    with ChatServer(["429", "500", "truncated"], answer=CONFIGMAP) as server:
        backend, slept = _backend(server)
        assert backend.generate(ASK, 64).text == CONFIGMAP
    assert len(server.requests) == 4
    assert slept[0] == 0.0  # the 429's Retry-After: 0
    assert 1.0 <= slept[1] <= 2.0 and 1.0 <= slept[2] <= 4.0  # backoff doubles, with jitter


def test_a_server_that_keeps_failing_is_an_error_naming_it_after_the_retries():
    with ChatServer(default="500") as server:
        backend, slept = _backend(server, retries=2)
        with pytest.raises(UserError, match=rf"the model server at {server.base_url} failed 3 times; last: 500"):
            backend.generate(ASK, 64)
    assert len(server.requests) == 3 and len(slept) == 2


def test_a_slow_server_times_out_and_is_retried():
    with ChatServer(["slow"], answer=CONFIGMAP) as server:
        backend, slept = _backend(server, timeout=0.5)
        assert backend.generate(ASK, 64).text == CONFIGMAP
    assert len(slept) == 1


@pytest.mark.parametrize(("behaviour", "needle"), [
    ("401", "refused the API key (401)"),
    ("404", "has no model 'm' or no such route"),
    ("400", "rejected the request (400): scripted 400"),
])
def test_a_refusal_is_not_retried(behaviour, needle):
    with ChatServer(default=behaviour) as server:
        backend, slept = _backend(server)
        with pytest.raises(UserError, match=re.escape(needle)):
            backend.generate(ASK, 64)
    assert len(server.requests) == 1 and slept == []


def test_an_unreachable_server_fails_at_load_naming_the_url():
    url = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(UserError, match=rf"cannot reach the model server at {url}: .*refused") as err:
        load_backend(ModelRef("m", backend="openai", base_url=url))
    assert "--openai-base-url" in err.value.hint


def test_a_model_the_server_does_not_list_is_refused_at_load():
    with ChatServer(models=["kubedistill", "qwen2.5-coder:latest"]) as server:
        with pytest.raises(UserError, match=r"does not serve 'other'; it serves kubedistill, qwen2.5-coder:latest"):
            _backend(server, model="other")
        _backend(server, model="kubedistill")
        _backend(server, model="qwen2.5-coder")  # Ollama's default tag
    with ChatServer() as server:  # a server without /models is taken at its word
        _backend(server, model="anything")


def test_an_answer_cut_at_max_tokens_is_truncated():
    with ChatServer(["length", "ok"]) as server:
        backend = _backend(server)[0]
        assert backend.generate(ASK, 8).truncated is True
        assert backend.generate(ASK, 8).truncated is False


def test_streaming_shows_each_piece_and_takes_usage_from_the_last_chunk():
    shown: list[str] = []
    with ChatServer(["ok", "length"], answer=CONFIGMAP) as server:
        backend = _backend(server)[0]
        gen = backend.generate(ASK, 64, on_text=shown.append)
        cut = backend.generate(ASK, 64, on_text=shown.append)
    assert "".join(shown) == CONFIGMAP * 2 and len(shown) > 2
    assert (gen.text, gen.tokens, gen.truncated, cut.truncated) == (CONFIGMAP, 1, False, True)
    assert server.requests[0]["stream"] is True and server.requests[0]["stream_options"] == {"include_usage": True}


def test_without_usage_token_counts_are_estimated_and_said_to_be_once(caplog):
    with ChatServer(default="nousage", answer=CONFIGMAP) as server, caplog.at_level(logging.WARNING):
        backend = _backend(server)[0]
        streamed = backend.generate(ASK, 64, on_text=lambda _: None)
        plain, _ = backend.generate(ASK, 64), backend.generate(ASK, 64)
    assert streamed.tokens == len(CONFIGMAP.split(" "))  # one per streamed piece
    assert plain.tokens == -(-len(CONFIGMAP) // 4) and plain.prompt_tokens == len(ASK[0]["content"]) // 4
    said = [r.getMessage() for r in caplog.records if "reports no token usage" in r.getMessage()]
    assert len(said) == 1 and server.base_url in said[0]


def test_a_batch_is_sent_at_once_and_each_answer_keeps_its_own():
    with ChatServer(["ok", "length", "ok"], answer=CONFIGMAP) as server:
        gens = _backend(server)[0].generate_batch([ASK, ASK, ASK], 64)
    assert len(gens) == 3 and sorted(g.truncated for g in gens) == [False, False, True]


def test_an_adapter_is_refused_with_how_to_load_it_into_the_server(tmp_path):
    with pytest.raises(UserError, match="the model server loads the adapter") as err:
        load_backend(ModelRef("m", str(tmp_path), backend="openai", base_url="http://127.0.0.1:1/v1"))
    assert "--enable-lora --lora-modules kubedistill=" in err.value.hint
    with pytest.raises(UserError, match="--backend openai needs --openai-base-url"):
        load_backend(ModelRef("m", backend="openai"))


def _cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kubedistill", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_generate_verifies_a_servers_answer_and_reports_an_unreachable_one():
    with ChatServer(answer=CONFIGMAP, models=["kubedistill"]) as server:
        run = _cli("generate", "--backend", "openai", "--openai-base-url", server.base_url, "--model",
                   "kubedistill", "a ConfigMap named app-config with LOG_LEVEL=debug")
    assert run.returncode == 0, run.stderr
    assert run.stdout == CONFIGMAP and run.stderr.splitlines()[-1] == "verdict: PASS (L1-L4)"
    url = f"http://127.0.0.1:{_free_port()}/v1"
    run = _cli("generate", "--backend", "openai", "--openai-base-url", url, "--model", "m", "a ConfigMap")
    assert run.returncode == 2 and f"error: cannot reach the model server at {url}" in run.stderr
    assert "Traceback" not in run.stderr


def test_eval_runs_on_a_model_server(tmp_path):
    from kubedistill.evaluation.run import EvalConfig, evaluate

    tasks = tmp_path / "tasks.jsonl"
    spec = TaskSpec("configmap", [ObjectSpec(kind="ConfigMap", name="app-config")]).to_dict()
    tasks.write_text("".join(json.dumps({"id": f"t{i}", "instruction": f"Create a ConfigMap named app-config ({i}).",
                                         "family": "configmap", "spec": spec}) + "\n" for i in range(2)))
    with ChatServer(answer=CONFIGMAP) as server:
        config = EvalConfig(model="m", backend="openai", openai_base_url=server.base_url, split=str(tasks),
                            batch_size=2, policy="baseline")
        summary = evaluate(config, tmp_path / "run", progress=False)
    assert summary["cases"] == 2 and summary["config"]["openai_base_url"] == server.base_url
    assert len(server.requests) == 2
    bad = EvalConfig(model="m", backend="openai", adapter=str(tmp_path), split=str(tasks))
    with pytest.raises(UserError, match=r"--backend openai needs --openai-base-url.*the model server loads"):
        evaluate(bad, tmp_path / "bad", progress=False)


# --- a real model server: llama.cpp's, on a tiny GGUF ------------------------------------------------------

def _write_gguf(model_dir, path) -> None:
    """The tiny Llama of ``tiny_model`` as a GGUF file with its BPE tokenizer and chat template, as llama.cpp's
    converter would write it (q/k rows permuted to llama.cpp's rope layout)."""
    import gguf
    from safetensors.torch import load_file
    from transformers import AutoConfig

    from kubedistill.train.gguf_lora import _permute_rows

    config = AutoConfig.from_pretrained(model_dir)
    tok = json.loads((model_dir / "tokenizer.json").read_text())
    vocab = dict(tok["model"]["vocab"])
    vocab.update({t["content"]: t["id"] for t in tok["added_tokens"]})
    special = {t["id"] for t in tok["added_tokens"] if t["special"]}
    tokens = sorted(vocab, key=vocab.get)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_dimension_count(config.hidden_size // config.num_attention_heads)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if vocab[t] in special else gguf.TokenType.NORMAL
                            for t in tokens])
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]])
    writer.add_bos_token_id(vocab["<|im_start|>"])
    writer.add_eos_token_id(vocab["<|im_end|>"])
    writer.add_pad_token_id(vocab["<pad>"])
    writer.add_unk_token_id(vocab["<unk>"])
    writer.add_chat_template(CHAT_TEMPLATE)
    names = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    for name, tensor in load_file(str(model_dir / "model.safetensors")).items():
        if name == "model.embed_tokens.weight":
            target = "token_embd.weight"
        elif name == "model.norm.weight":
            target = "output_norm.weight"
        elif name == "lm_head.weight":
            target = "output.weight"
        else:
            _, _, layer, *part, _ = name.split(".")
            target = f"blk.{layer}.{names['.'.join(part)]}.weight"
        if target.endswith(("attn_q.weight", "attn_k.weight")):
            heads = config.num_attention_heads if "attn_q" in target else config.num_key_value_heads
            tensor = _permute_rows(tensor, heads)
        writer.add_tensor(target, tensor.float().contiguous().numpy())
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else "the server exited"
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up in {seconds}s")


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.mark.slow  # 10-30 s on 2 cores: three processes start, and the CLI runs three times
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("sse_starlette") is
                    None, reason="needs llama-cpp-python and its server's extras (pip install -e '.[llamacpp]')")
def test_generate_and_serve_in_front_of_llama_cpps_server(tiny_model, tmp_path):
    """llama.cpp's OpenAI-compatible server answers; kubedistill reads, verifies and repairs. The untrained
    2-layer model fails the verdict: the test asserts a verdict and the right exit code, not a crash."""
    gguf_path = tmp_path / "tiny.gguf"
    _write_gguf(tiny_model, gguf_path)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1"
    server = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path), "--host",
                               "127.0.0.1", "--port", str(port), "--model_alias", "tiny", "--n_ctx", "1024",
                               "--n_threads", "2", "--verbose", "False"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    front = None
    try:
        _wait_for(url, server)
        run = _cli("generate", "--backend", "openai", "--openai-base-url", url, "--model", "tiny", "--repair", "1",
                   "--max-new-tokens", "24", "a ConfigMap named x")
        assert run.returncode in (0, 1) and "Traceback" not in run.stderr, run.stderr
        verdicts = [line for line in run.stderr.splitlines() if line.startswith("verdict: ")]
        assert len(verdicts) == 1 and verdicts[0].startswith(("verdict: FAIL", "verdict: PASS")[run.returncode == 0])
        run = _cli("generate", "--backend", "openai", "--openai-base-url", url, "--model", "nope", "x")
        assert run.returncode == 2 and f"the model server at {url} does not serve 'nope'; it serves tiny" in run.stderr
        front = subprocess.Popen([sys.executable, "-m", "kubedistill", "serve", "--backend", "openai",
                                  "--openai-base-url", url, "--model", "tiny", "--port", "0", "--repair", "1",
                                  "--max-new-tokens", "24"], stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, "KUBEDISTILL_API_KEY": ""})
        announced = None
        for line in front.stderr:
            if line.startswith("serving "):
                announced = line.split(" on ")[1].strip()
                break
        assert announced, "kubedistill serve never announced its address"
        reply = openai.OpenAI(base_url=announced, api_key="x", max_retries=0).chat.completions.create(
            model="tiny", messages=[{"role": "user", "content": "a ConfigMap named x"}])
        meta = reply.model_extra["kubedistill"]
        assert meta["verdict"]["passed"] is False and meta["attempts"] == 2
        assert reply.usage.completion_tokens > 0 and reply.usage.prompt_tokens > 0
    finally:
        if front is not None:
            assert _stop(front) == 0
        _stop(server)
