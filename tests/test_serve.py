"""The OpenAI-compatible server on a real loopback port, driven by the official openai client (plain and
streaming) and by raw HTTP for bad requests, keys, oversize bodies and load; and ``kubedistill generate`` and
``serve`` as black boxes. A scripted backend is the seam for exact answers; the tiny real model runs the
command-line paths."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from kubedistill.context.checklist import checklist
from kubedistill.context.request import read_request
from kubedistill.errors import UserError
from kubedistill.inference.backend import Generation
from kubedistill.verify import Verifier, VerifyConfig

fastapi = pytest.importorskip("fastapi", reason="pip install -e '.[serve]'")
uvicorn = pytest.importorskip("uvicorn", reason="pip install -e '.[serve]'")
httpx = pytest.importorskip("httpx")
openai = pytest.importorskip("openai")

from kubedistill.serving.app import ServerSettings, create_app  # noqa: E402
from kubedistill.serving.command import settings_from  # noqa: E402

GOOD = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  LOG_LEVEL: debug\n"
UNSAFE = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n"
          "    securityContext:\n      privileged: true\n")


class Scripted:
    name = "scripted"

    def __init__(self, answers, delay=0.0):
        self.answers, self.delay, self.calls = answers, delay, []
        self.lock = threading.Lock()

    def generate(self, messages, max_new_tokens, temperature=0.0, seed=0, on_text=None):
        with self.lock:
            self.calls.append((messages, max_new_tokens))
        time.sleep(self.delay)
        rounds = sum(1 for m in messages if m["role"] == "assistant")
        rounds += messages[-1]["content"].count("A first answer to this request failed")  # a restated repair
        text = self.answers[min(rounds, len(self.answers) - 1)]
        if on_text:
            on_text(text)
        return Generation(text, 7, 11, 0.01, truncated=False)


@contextlib.contextmanager
def serving(backend, **settings):
    app = create_app(backend, Verifier(VerifyConfig(policy="restricted")), ServerSettings(model_name="kd", **settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(10)


def _client(url, key="unused"):
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=30)


def test_openai_client_gets_a_verified_manifest_with_its_verdict():
    backend = Scripted([GOOD])
    with serving(backend) as (url, _):
        client = _client(url)
        assert [m.id for m in client.models.list().data] == ["kd"]
        reply = client.chat.completions.create(model="kd", messages=[
            {"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "a ConfigMap"}])
    assert reply.choices[0].message.content == GOOD and reply.choices[0].finish_reason == "stop"
    meta = reply.model_extra["kubedistill"]
    assert meta["verdict"]["passed"] and meta["attempts"] == 1
    sent = backend.calls[0][0]
    assert sent[0]["role"] == "system" and "pirate" not in sent[0]["content"]  # the strict prompt replaces it
    assert reply.usage.completion_tokens == 7


def test_a_prompt_file_is_read_once_and_replaces_the_clients_system_message(tmp_path):
    prompt = tmp_path / "house.txt"
    prompt.write_text("House rules: YAML only.\n", encoding="utf-8")
    backend = Scripted([GOOD])
    with serving(backend, prompt=str(prompt)) as (url, _):
        prompt.unlink()  # read at start: the server keeps the prompt it started with
        client = _client(url)
        client.chat.completions.create(model="kd", messages=[{"role": "system", "content": "You are a pirate."},
                                                             {"role": "user", "content": "a ConfigMap"}])
        client.chat.completions.create(model="kd", messages=[{"role": "user", "content": "a ConfigMap"}])
    assert [call[0][0] for call in backend.calls] == [{"role": "system", "content": "House rules: YAML only."}] * 2


def test_a_failing_answer_is_repaired_before_it_is_returned():
    backend = Scripted([UNSAFE, GOOD])
    with serving(backend, repair=2) as (url, _):
        reply = _client(url).chat.completions.create(model="kd", messages=[{"role": "user", "content": "x"}])
    meta = reply.model_extra["kubedistill"]
    assert reply.choices[0].message.content == GOOD
    assert meta["attempts"] == 2 and meta["repaired"] and not meta["first_attempt_passed"]
    # the default repair restates the request with the findings; the failed answer is not shown
    repaired = backend.calls[1][0]
    assert [m["role"] for m in repaired] == ["system", "user"] and repaired[-1]["content"].startswith("x\n\n")
    assert "L3" in repaired[-1]["content"] and UNSAFE not in repaired[-1]["content"]
    backend = Scripted([UNSAFE, GOOD])
    with serving(backend, repair=1, repair_style="chat") as (url, _):
        _client(url).chat.completions.create(model="kd", messages=[{"role": "user", "content": "x"}])
    assert backend.calls[1][0][-2] == {"role": "assistant", "content": UNSAFE}


WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: web
          image: nginx:1.27
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
"""
WEB_REQUEST = "a Deployment named web with 2 replicas running nginx:1.27"


def test_an_answer_that_misses_a_requested_value_is_repaired():
    backend = Scripted([WEB, WEB.replace("replicas: 3", "replicas: 2")])
    with serving(backend, repair=1) as (url, _):
        reply = _client(url).chat.completions.create(model="kd", messages=[{"role": "user", "content": WEB_REQUEST}])
    meta = reply.model_extra["kubedistill"]
    assert "replicas: 2" in reply.choices[0].message.content and meta["attempts"] == 2 and meta["repaired"]
    assert meta["requirements"] == [{"kind": "Deployment", "name": "web", "image": "nginx:1.27", "replicas": 2}]
    assert "/spec/replicas" in backend.calls[1][0][-1]["content"]  # the repair names the missed requirement
    backend = Scripted([WEB])
    with serving(backend, repair=1, check_request=False) as (url, _):
        reply = _client(url).chat.completions.create(model="kd", messages=[{"role": "user", "content": WEB_REQUEST}])
    assert reply.model_extra["kubedistill"]["attempts"] == 1 and "replicas: 3" in reply.choices[0].message.content


def test_a_message_holding_yaml_is_an_edit_whose_answer_keeps_the_input_objects():
    pasted = f"bump web to 2 replicas please\n\n```yaml\n{WEB}---\n{GOOD}```"
    edited = WEB.replace("replicas: 3", "replicas: 2")
    backend = Scripted([edited, edited + "---\n" + GOOD])  # first drops the ConfigMap, the repair returns it
    with serving(backend, repair=1) as (url, _):
        reply = _client(url).chat.completions.create(model="kd", messages=[{"role": "user", "content": pasted}])
        meta = reply.model_extra["kubedistill"]
        assert meta["attempts"] == 2 and meta["repaired"] and "app-config" in reply.choices[0].message.content
        assert "L4-EDIT-DROPPED" in backend.calls[1][0][-1]["content"] and WEB in backend.calls[1][0][-1]["content"]
        checked = httpx.post(url + "/v1/validate", json={"manifest": edited, "input": WEB + "---\n" + GOOD}).json()
        assert not checked["passed"] and "L4-EDIT-DROPPED" in json.dumps(checked["documents"])
        bad = httpx.post(url + "/v1/validate", json={"manifest": edited, "input": 5})
        assert bad.status_code == 400 and "'input' must be a string" in bad.text


def test_hints_send_the_request_with_its_checklist_and_read_requirements_from_the_request_alone():
    backend = Scripted([WEB, WEB.replace("replicas: 3", "replicas: 2")])
    with serving(backend, repair=1, hints="request") as (url, _):
        reply = _client(url).chat.completions.create(model="kd", messages=[{"role": "user", "content": WEB_REQUEST}])
    meta = reply.model_extra["kubedistill"]
    # the checklist's own lines ("- Deployment web: ...") are not read back as a second request
    assert meta["requirements"] == [{"kind": "Deployment", "name": "web", "image": "nginx:1.27", "replicas": 2}]
    first, repair = (call[0][-1]["content"] for call in backend.calls)
    assert first == f"{WEB_REQUEST}\n\nValues this request states, each to appear in the manifest exactly as " \
                    "given:\n- Deployment web: spec.replicas: 2; image: nginx:1.27"
    assert repair.startswith(first) and "/spec/replicas" in repair and meta["repaired"]


def test_streaming_delivers_the_verified_answer_and_the_verdict_last():
    with serving(Scripted([GOOD]), stream_chunk_chars=10) as (url, _):
        chunks = list(_client(url).chat.completions.create(
            model="kd", messages=[{"role": "user", "content": "x"}], stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == GOOD and len(chunks) > 3
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["kubedistill"]["verdict"]["passed"]


def test_max_tokens_is_capped_by_the_server():
    backend = Scripted([GOOD])
    with serving(backend, max_new_tokens=50) as (url, _):
        _client(url).chat.completions.create(model="kd", messages=[{"role": "user", "content": "x"}],
                                             max_tokens=100000)
    assert backend.calls[0][1] == 50


def test_a_wrong_key_is_refused_and_health_stays_open():
    with serving(Scripted([GOOD]), api_key="s3cret") as (url, _):
        with pytest.raises(openai.AuthenticationError):
            _client(url, key="wrong").models.list()
        assert _client(url, key="s3cret").models.list().data[0].id == "kd"
        assert httpx.get(url + "/healthz").json()["status"] == "ok"


@pytest.mark.parametrize(("body", "status", "needle"), [
    (b"{not json", 400, "not valid JSON"),
    (b"[]", 400, "JSON object"),
    (json.dumps({"messages": []}).encode(), 400, "non-empty list"),
    (json.dumps({"messages": [{"role": "robot", "content": "x"}]}).encode(), 400, "role must be"),
    (json.dumps({"messages": [{"role": "user", "content": "x"}], "max_tokens": -1}).encode(), 400, "max_tokens"),
    (json.dumps({"messages": [{"role": "user", "content": "x"}], "model": "gpt-9"}).encode(), 404, "not served"),
    (json.dumps({"messages": [{"role": "user", "content": "x" * 5000}]}).encode(), 413, "larger than"),
])
def test_bad_requests_get_the_openai_error_shape(body, status, needle):
    with serving(Scripted([GOOD]), max_body_bytes=4096) as (url, _):
        reply = httpx.post(url + "/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == status
    error = reply.json()["error"]
    assert needle in error["message"] and set(error) == {"message", "type", "param", "code"}


def test_unknown_routes_and_methods_are_errors_not_tracebacks():
    with serving(Scripted([GOOD])) as (url, _):
        assert httpx.get(url + "/v1/nothing").status_code == 404
        reply = httpx.get(url + "/v1/chat/completions")
        assert reply.status_code == 405 and "error" in reply.json()


class Failing(Scripted):
    def __init__(self, error):
        super().__init__([GOOD])
        self.error = error

    def generate(self, messages, max_new_tokens, temperature=0.0, seed=0, on_text=None):
        raise self.error


@pytest.mark.parametrize("stream", [False, True])
def test_out_of_memory_is_a_503_to_retry_and_other_failures_a_500(stream):
    body = {"messages": [{"role": "user", "content": "a ConfigMap"}], "stream": stream}
    oom = RuntimeError("CUDA error: out of memory")  # what torch raises when a kernel cannot allocate
    with serving(Failing(oom)) as (url, _):
        reply = httpx.post(url + "/v1/chat/completions", json=body)
    assert reply.status_code == 503 and reply.headers["retry-after"] == "1"
    assert reply.json()["error"]["code"] == "out_of_memory" and "max_tokens" in reply.json()["error"]["message"]
    with serving(Failing(RuntimeError("shape mismatch"))) as (url, _):
        reply = httpx.post(url + "/v1/chat/completions", json=body)
    assert reply.status_code == 500 and reply.json()["error"]["message"] == "internal error while serving the request"


def test_validate_endpoint_returns_findings():
    with serving(Scripted([GOOD])) as (url, _):
        good = httpx.post(url + "/v1/validate", json={"manifest": GOOD}).json()
        bad = httpx.post(url + "/v1/validate", json={"manifest": UNSAFE}).json()
        missing = httpx.post(url + "/v1/validate", json={"yaml": GOOD})
    assert good["passed"] and not bad["passed"]
    assert bad["documents"][0]["failedLevel"] == "L3" and bad["documents"][0]["findings"]
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "manifest"
    with serving(Scripted([GOOD])) as (url, _):
        held = httpx.post(url + "/v1/validate", json={"manifest": WEB, "request": WEB_REQUEST}).json()
        plain = httpx.post(url + "/v1/validate", json={"manifest": WEB}).json()
        wrong = httpx.post(url + "/v1/validate", json={"manifest": WEB, "request": ["x"]})
    assert plain["passed"] and plain["requirements"] == []
    assert not held["passed"] and held["requirements"][0]["replicas"] == 2
    assert [f["rule"] for f in held["documents"][0]["findings"]] == ["L4-SPEC-MISMATCH"]
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "request"


def test_concurrent_clients_are_all_served_within_the_queue():
    backend = Scripted([GOOD], delay=0.05)
    with serving(backend, concurrency=1, queue_size=8) as (url, _):
        client = _client(url)
        with ThreadPoolExecutor(6) as pool:
            replies = list(pool.map(lambda i: client.chat.completions.create(
                model="kd", messages=[{"role": "user", "content": f"task {i}"}]), range(6)))
    assert [r.choices[0].message.content for r in replies] == [GOOD] * 6 and len(backend.calls) == 6


def test_a_full_queue_answers_429_at_once_and_drops_nothing_it_accepted():
    backend = Scripted([GOOD], delay=0.3)
    body = {"messages": [{"role": "user", "content": "x"}]}
    with serving(backend, concurrency=1, queue_size=1) as (url, _):
        with ThreadPoolExecutor(6) as pool:
            replies = list(pool.map(lambda i: httpx.post(url + "/v1/chat/completions", json=body, timeout=30),
                                    range(6)))
        health = httpx.get(url + "/healthz").json()
    codes = sorted(r.status_code for r in replies)
    assert set(codes) == {200, 429} and codes.count(200) >= 2
    refused = [r for r in replies if r.status_code == 429]
    assert all(r.headers["retry-after"] == "1" and r.json()["error"]["code"] == "queue_full" for r in refused)
    assert health["served"] == codes.count(200) == len(backend.calls) and health["refused"] == len(refused)


def test_binding_beyond_loopback_requires_a_key():
    args = argparse.Namespace(host="0.0.0.0", api_key="", concurrency=1, max_body_bytes=1024, queue_size=1, port=0,
                              served_model_name="", model="m", prompt="strict", repair=0, repair_style="restate",
                              max_new_tokens=10, check_request=True, hints=None, adapter="")
    with pytest.raises(UserError, match="API key is required"):
        settings_from(args)
    args.api_key = "k"
    assert settings_from(args).api_key == "k"
    args.host, args.api_key = "::1", ""
    assert settings_from(args).model_name == "m" and settings_from(args).hints == "none"


def test_a_student_trained_with_checklists_is_served_with_them_unless_told_otherwise(tmp_path):
    (tmp_path / "kubedistill.json").write_text(json.dumps({"prompt": "strict", "hints": "request"}))
    args = argparse.Namespace(host="127.0.0.1", api_key="", concurrency=1, max_body_bytes=1024, queue_size=1, port=0,
                              served_model_name="", model="m", prompt="strict", repair=0, repair_style="restate",
                              max_new_tokens=10, check_request=True, hints=None, adapter=str(tmp_path))
    assert settings_from(args).hints == "request"
    args.hints = "none"
    assert settings_from(args).hints == "none"


# --- generate -------------------------------------------------------------------------------------------

def test_generate_asks_with_the_checklist_the_adapter_was_trained_with(monkeypatch, capsys, tmp_path):
    import kubedistill.inference.backend as backend_module
    from kubedistill.__main__ import main

    (tmp_path / "kubedistill.json").write_text(json.dumps({"prompt": "strict", "hints": "request"}))
    backends = []
    monkeypatch.setattr(backend_module, "load_backend", lambda ref: backends.append(Scripted([GOOD])) or backends[-1])
    request = "a ConfigMap named app-config"
    for extra in ([], ["--hints", "none"]):
        assert main(["generate", request, "--adapter", str(tmp_path), "--repair", "0", "--no-stream", *extra]) == 0
    trained, told = (b.calls[0][0][-1]["content"] for b in backends)
    assert trained == f"{request}\n\n{checklist(read_request(request))}" and told == request


def test_generate_prints_only_the_manifest_and_the_verdict_to_stderr(monkeypatch, capsys, tmp_path):
    import kubedistill.inference.backend as backend_module
    from kubedistill.__main__ import main

    monkeypatch.setattr(backend_module, "load_backend", lambda ref: Scripted([f"Sure!\n```yaml\n{UNSAFE}```",
                                                                               GOOD]))
    out = tmp_path / "cm.yaml"
    code = main(["generate", "a ConfigMap named app-config", "--repair", "1", "-o", str(out), "--no-stream"])
    captured = capsys.readouterr()
    assert code == 0 and captured.out == GOOD and out.read_text() == GOOD
    assert "verdict: PASS (L1-L4) after 1 repair round" in captured.err
    monkeypatch.setattr(backend_module, "load_backend", lambda ref: Scripted([UNSAFE]))
    code = main(["generate", "a pod", "--repair", "0", "--no-stream"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == UNSAFE and "FAIL at L3" in captured.err
    # the requirements read from the request are shown, and an answer that misses one fails (exit 1)
    monkeypatch.setattr(backend_module, "load_backend", lambda ref: Scripted([WEB]))
    code = main(["generate", WEB_REQUEST, "--repair", "0", "--no-stream"])
    captured = capsys.readouterr()
    assert code == 1 and "requirements read from the request: Deployment web: " in captured.err
    assert "L4-SPEC-MISMATCH" in captured.err and "replicas" in captured.err
    code = main(["generate", WEB_REQUEST, "--repair", "0", "--no-stream", "--no-check-request"])
    captured = capsys.readouterr()
    assert code == 0 and "requirements read" not in captured.err


def test_generate_edits_the_input_and_holds_the_answer_to_keeping_its_objects(monkeypatch, capsys, tmp_path):
    import kubedistill.inference.backend as backend_module
    from kubedistill.__main__ import main

    given = tmp_path / "app.yaml"
    given.write_text(WEB + "---\n" + GOOD)
    edited = WEB.replace("replicas: 3", "replicas: 2")
    backends = []
    for answer in ([edited + "---\n" + GOOD], [edited]):  # the whole result; one that drops the ConfigMap
        monkeypatch.setattr(backend_module, "load_backend",
                            lambda ref, a=answer: backends.append(Scripted(a)) or backends[-1])
        code = main(["generate", "--input", str(given), "set replicas to 2", "--repair", "0", "--no-stream"])
        captured = capsys.readouterr()
        if len(answer[0]) > len(edited):
            assert code == 0 and "verdict: PASS" in captured.err, captured.err
        else:
            assert code == 1 and "L4-EDIT-DROPPED" in captured.err and "'app-config'" in captured.err
    asked = backends[0].calls[0][0][-1]["content"]
    assert asked == "set replicas to 2\n\n```yaml\n" + (WEB + "---\n" + GOOD).rstrip() + "\n```"
    # YAML pasted into the instruction is an edit too
    monkeypatch.setattr(backend_module, "load_backend", lambda ref: Scripted([edited]))
    code = main(["generate", f"set replicas to 2\n```yaml\n{WEB}---\n{GOOD}```", "--repair", "0", "--no-stream"])
    assert code == 1 and "L4-EDIT-DROPPED" in capsys.readouterr().err


def test_generate_input_errors_exit_2_before_a_model_loads(tmp_path):
    prose = tmp_path / "notes.txt"
    prose.write_text("just some notes, no manifest here\n")
    binary = tmp_path / "blob.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    for extra, message in ((["--input", "/no/such/file.yaml", "x"], "--input: cannot read /no/such/file.yaml"),
                           (["--input", str(prose), "x"], "holds no Kubernetes object"),
                           (["--input", str(binary), "x"], "is not UTF-8 text"),
                           (["--input", "-"], "the instruction must be an argument")):
        run = _cli("generate", "--model", "/no/such/model", *extra)
        assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr, run.stderr


def _cli(*args, stdin=""):
    return subprocess.run([sys.executable, "-m", "kubedistill", *args], input=stdin, capture_output=True, text=True,
                          timeout=300)


def test_generate_cli_reads_stdin_and_fails_with_exit_1_on_a_bad_answer(tiny_model):
    run = _cli("generate", "--model", str(tiny_model), "--backend", "transformers", "--repair", "1",
               "--max-new-tokens", "8", stdin="a ConfigMap named app-config\n")
    assert run.returncode == 1 and "verdict: FAIL at format" in run.stderr and "Traceback" not in run.stderr


def test_generate_cli_usage_errors_exit_2(tiny_model):
    run = _cli("generate", "--model", str(tiny_model), stdin="   \n")
    assert run.returncode == 2 and "instruction is empty" in run.stderr
    run = _cli("generate", "x", "--model", str(tiny_model), "--policy", "paranoid")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    run = _cli("generate", "x", "--model", "/no/such/model", "--backend", "transformers")
    assert run.returncode == 2 and "cannot load model" in run.stderr
    run = _cli("generate", "x", "--model", str(tiny_model), "-o", "/no/such/folder/out.yaml")
    assert run.returncode == 2 and "folder does not exist" in run.stderr and "Traceback" not in run.stderr
    run = _cli("generate", "x", "--model", str(tiny_model), "--prompt", "/no/such/prompt.txt")
    assert run.returncode == 2 and "--prompt: prompt '/no/such/prompt.txt' is neither" in run.stderr


def test_serve_cli_serves_the_tiny_model_and_shuts_down_gracefully(tiny_model):
    process = subprocess.Popen([sys.executable, "-m", "kubedistill", "serve", "--model", str(tiny_model),
                                "--backend", "transformers", "--port", "0", "--repair", "0", "--max-new-tokens", "8"],
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "KUBEDISTILL_API_KEY": ""})
    try:
        url = None
        for line in process.stderr:
            if line.startswith("serving "):
                url = line.split(" on ")[1].strip()
                break
        assert url, "the server never announced its address"
        reply = openai.OpenAI(base_url=url, api_key="x", max_retries=0).chat.completions.create(
            model=tiny_model.name, messages=[{"role": "user", "content": "a ConfigMap"}])
        assert reply.model_extra["kubedistill"]["verdict"]["passed"] is False  # an untrained 2-layer model
        assert reply.usage.completion_tokens > 0
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0
