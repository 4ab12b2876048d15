"""Teachers: answer parsing, and the OpenAI-compatible teacher against a real loopback server with faults."""

from __future__ import annotations

import json

import pytest

from chat_server import ANSWER, ChatServer
from kubedistill.errors import UserError
from kubedistill.sources.openai_teacher import OpenAIConfig, OpenAITeacher
from kubedistill.sources.run import SourcesConfig, SyntheticConfig, TeacherConfig, run_sources
from kubedistill.sources.store import read_pairs
from kubedistill.sources.teacher import TeacherError, TeacherRequest, extract_yaml, parse_reverse, parse_synthetic

REQUEST = TeacherRequest("synthetic_direct", [{"role": "user", "content": "write a ConfigMap"}])


def teacher(server: ChatServer, waits: list, **kw) -> OpenAITeacher:
    config = OpenAIConfig(model="teacher-m", base_url=server.base_url, timeout=0.5, max_retries=3, **kw)
    return OpenAITeacher(config, sleep=waits.append)


@pytest.mark.parametrize(("script", "attempts"), [
    (["429", "500"], 3), (["slow"], 2), (["truncated"], 2), (["500", "500", "truncated"], 4),
])
def test_transient_faults_are_retried(script, attempts):
    with ChatServer(script) as server:
        waits: list = []
        answer = teacher(server, waits).answer(REQUEST)
    assert answer.error == "" and answer.attempts == attempts
    assert answer.instruction.startswith("Create a ConfigMap") and "kind: ConfigMap" in answer.manifest
    assert len(waits) == attempts - 1
    if script[0] == "429":
        assert waits[0] == 0.0  # the server's Retry-After, not our backoff


def test_backoff_grows_and_gives_up_with_a_recorded_rejection():
    with ChatServer(default="500") as server:
        waits: list = []
        answer = teacher(server, waits, backoff=1.0).answer(REQUEST)
        assert len(server.requests) == 4
    assert answer.error.startswith("gave up after 4 attempts") and not answer.manifest
    assert waits[0] < waits[1] < waits[2]


@pytest.mark.parametrize(("script", "error"), [(["empty"], "empty answer"), (["400"], "rejected by the endpoint")])
def test_unusable_answers_are_recorded_not_retried(script, error):
    with ChatServer(script) as server:
        answer = teacher(server, []).answer(REQUEST)
        assert len(server.requests) == 1
    assert answer.error.startswith(error)


def test_prose_around_the_yaml_is_extracted_and_counted():
    with ChatServer(["prose"]) as server:
        answer = teacher(server, []).answer(REQUEST)
    assert answer.error == "" and "prose" in answer.format_violations
    assert answer.manifest.startswith("apiVersion: v1")


@pytest.mark.parametrize("status", ["401", "404"])
def test_auth_and_model_errors_stop_with_a_clear_error(status):
    with ChatServer([status]) as server, pytest.raises(TeacherError):
        teacher(server, []).answer(REQUEST)


def test_cache_means_a_rerun_never_pays_twice(tmp_path):
    with ChatServer() as server:
        first = teacher(server, [], cache_dir=str(tmp_path)).answer(REQUEST)
        second = teacher(server, [], cache_dir=str(tmp_path)).answer(REQUEST)
        assert len(server.requests) == 1
    assert not first.cached and second.cached and second.instruction == first.instruction


def _api_config(server: ChatServer, n: int, concurrency: int = 4) -> SourcesConfig:
    openai = OpenAIConfig(model="teacher-m", base_url=server.base_url, timeout=0.5, max_retries=2, backoff=0.01)
    return SourcesConfig(seed=3, synthetic=SyntheticConfig(n=n),
                         teacher=TeacherConfig(kind="openai", concurrency=concurrency, openai=openai))


def test_faulty_endpoint_loses_and_duplicates_nothing(tmp_path):
    faults = ["429", "500", "truncated", "empty", "prose", "500", "ok", "400"] * 4
    with ChatServer(faults) as server:
        stats = run_sources(_api_config(server, 30), tmp_path, progress=False)
    pairs = list(read_pairs(tmp_path / "pairs.jsonl"))
    assert [p["id"] for p in pairs] == [f"syn-3-{i:07d}" for i in range(30)]
    assert stats["answered"] + stats["rejected"] == 30
    rejected = [p for p in pairs if p["error"]]
    assert rejected and all(not p["manifest"] for p in rejected)
    assert all(p["teacher"] == "openai" and p["model"] == "teacher-m" and p["spec"] for p in pairs)


def test_a_bad_key_stops_the_run_but_keeps_finished_pairs(tmp_path):
    with ChatServer(["ok", "ok", "401"], default="401") as server, pytest.raises(UserError, match="refused the key"):
        run_sources(_api_config(server, 10, concurrency=1), tmp_path, progress=False)
    assert len(list(read_pairs(tmp_path / "pairs.jsonl"))) == 2


def test_extract_yaml_variants():
    assert extract_yaml("```yaml\nkind: A\n```") == ("kind: A\n", ["code_fence"])
    assert extract_yaml("Here:\n```\napiVersion: v1\n") == ("apiVersion: v1\n", ["code_fence", "unterminated_fence",
                                                                                 "prose"])
    assert extract_yaml("no yaml at all") == ("", ["no_yaml"])
    assert extract_yaml("") == ("", ["empty"])


def test_parse_answers():
    parsed = parse_synthetic(ANSWER)
    assert parsed.instruction == "Create a ConfigMap named app-config with LOG_LEVEL=debug." and not parsed.error
    assert parse_synthetic("just prose").error
    assert parse_reverse('Instruction: "Create a web app."').instruction == "Create a web app."
    assert parse_reverse("   ").error == "empty answer"


def test_records_carry_provenance(tmp_path):
    with ChatServer() as server:
        run_sources(_api_config(server, 2), tmp_path, progress=False)
        sent = server.requests[0]
    record = next(read_pairs(tmp_path / "pairs.jsonl"))
    for key in ("source", "teacher", "model", "prompt_hash", "seed", "spec", "created_at", "family"):
        assert record[key] not in (None, "")
    assert "Resource family:" in sent["messages"][0]["content"]
    assert json.loads((tmp_path / "stats.json").read_text())["written"] == 2
