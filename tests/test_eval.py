"""Evaluation: verdicts on answers, metrics, the repair loop, resumable runs with a generation cache, reports,
compare, the CloudEval-YAML scores and the CLI. A scripted backend is the unit-test seam for exact answers;
the tiny real model runs the same path through transformers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import FIXTURES
from kubedistill.context.spec import ObjectSpec, TaskSpec
from kubedistill.errors import UserError
from kubedistill.evaluation import cloudeval
from kubedistill.evaluation.metrics import level_pass_rates, wilson
from kubedistill.evaluation.report import adapter_label, compare
from kubedistill.evaluation.run import EvalConfig, evaluate
from kubedistill.inference.backend import Generation
from kubedistill.inference.repair import solve
from kubedistill.inference.verdict import judge
from kubedistill.verify import Verifier, VerifyConfig

GOOD = """apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  LOG_LEVEL: debug
"""
WRONG_NAME = GOOD.replace("app-config", "other")
BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n"
SPEC = TaskSpec("configmap", [ObjectSpec(kind="ConfigMap", name="app-config")])


@pytest.fixture(scope="module")
def strict_verifier():
    return Verifier(VerifyConfig(policy="restricted"))


class Scripted:
    """Answers by repair round (answers[k] once the conversation holds k earlier answers); records every call."""

    name = "scripted"

    def __init__(self, answers: list[str], fail_after: int | None = None) -> None:
        self.answers, self.calls, self.fail_after = list(answers), [], fail_after

    def generate(self, messages, max_new_tokens, temperature=0.0, seed=0, on_text=None):
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise KeyboardInterrupt  # a crash in the middle of a run
        self.calls.append(messages)
        rounds = sum(1 for m in messages if m["role"] == "assistant")
        rounds += messages[-1]["content"].count("A first answer to this request failed")  # a restated repair
        text = self.answers[min(rounds, len(self.answers) - 1)]
        return Generation(text, len(text.split()), 10, 0.01, truncated=False)


def _tasks(tmp_path, n=3):
    path = tmp_path / "tasks.jsonl"
    rows = [{"id": f"t{i}", "instruction": f"Create a ConfigMap named app-config (task {i}).",
             "family": "configmap", "spec": SPEC.to_dict()} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# --- verdicts -------------------------------------------------------------------------------------------

def test_a_correct_answer_passes_and_fences_and_prose_are_counted_not_fatal(strict_verifier):
    verdict = judge(GOOD, strict_verifier, SPEC)
    assert verdict.passed and verdict.failed_level is None and verdict.format_violations == []
    fenced = judge(f"Here you go:\n```yaml\n{GOOD}```\nEnjoy.", strict_verifier, SPEC)
    assert fenced.passed and set(fenced.format_violations) == {"code_fence", "prose"}


def test_each_failure_lands_at_its_level(strict_verifier):
    assert judge("Sorry, I cannot help.", strict_verifier, SPEC).failed_level == "format"
    assert judge(BROKEN, strict_verifier, SPEC).failed_level == "L1"
    assert judge(GOOD.replace("v1", "v9"), strict_verifier, SPEC).failed_level == "L2"
    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n"
           "    image: nginx:1.27\n    securityContext:\n      privileged: true\n")
    assert judge(pod, strict_verifier).failed_level == "L3"
    wrong = judge(WRONG_NAME, strict_verifier, SPEC)
    assert wrong.failed_level == "L4" and any(r.startswith("L4-SPEC") for r in wrong.rules)
    truncated = judge(GOOD, strict_verifier, SPEC, truncated=True)
    assert "truncated" in truncated.format_violations


# --- metrics ---------------------------------------------------------------------------------------------

def test_wilson_interval_matches_known_values():
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    assert wilson(0, 0) == (0.0, 0.0)


def test_level_pass_rates_are_cumulative():
    rates = level_pass_rates([None, None, "L3", "L1", "format"])
    assert rates == {"format": 0.8, "L1": 0.6, "L2": 0.6, "L3": 0.4, "L4": 0.4}


# --- repair -----------------------------------------------------------------------------------------------

def test_repair_feeds_findings_back_and_keeps_every_attempt(strict_verifier):
    backend = Scripted([WRONG_NAME, GOOD])
    messages = [{"role": "user", "content": "Create a ConfigMap named app-config."}]
    outcome = solve(backend, strict_verifier, messages, SPEC, repair=2, repair_style="chat")
    assert [a.verdict.passed for a in outcome.attempts] == [False, True]
    second = backend.calls[1]
    assert second[1] == {"role": "assistant", "content": WRONG_NAME}
    assert "L4-SPEC" in second[2]["content"] and "fails validation" in second[2]["content"]
    assert len(solve(Scripted([WRONG_NAME]), strict_verifier, messages, SPEC, repair=2).attempts) == 3
    assert len(solve(Scripted([GOOD]), strict_verifier, messages, SPEC, repair=2).attempts) == 1


def test_a_restated_repair_asks_the_request_again_with_the_findings_and_no_earlier_answer(strict_verifier,
                                                                                           tmp_path):
    backend = Scripted([WRONG_NAME, GOOD])
    messages = [{"role": "system", "content": "Answer with YAML."},
                {"role": "user", "content": "Create a ConfigMap named app-config."}]
    outcome = solve(backend, strict_verifier, messages, SPEC, repair=2)  # restate is the default
    assert [a.verdict.passed for a in outcome.attempts] == [False, True]
    second = backend.calls[1]
    assert [m["role"] for m in second] == ["system", "user"] and second[0] == messages[0]
    assert second[1]["content"].startswith("Create a ConfigMap named app-config.\n\nA first answer")
    assert "L4-SPEC" in second[1]["content"] and WRONG_NAME not in second[1]["content"]
    # the batched evaluation asks for the same restated conversations, so every repair is found in its cache
    batched = ScriptedBatch([WRONG_NAME, GOOD])
    summary = evaluate(EvalConfig(split=str(_tasks(tmp_path, n=5)), repair=1, batch_size=3), tmp_path / "b",
                       backend=batched)
    assert batched.batches == [3, 3, 2, 2] and len(batched.calls) == 10 and summary["after_repair"]["passed"] == 5
    assert "repair_style must be one of chat, restate" in EvalConfig(repair_style="again").problems()


def test_a_repair_that_does_worse_does_not_replace_the_better_answer(strict_verifier, tmp_path):
    messages = [{"role": "user", "content": "Create a ConfigMap named app-config."}]
    outcome = solve(Scripted([WRONG_NAME, BROKEN]), strict_verifier, messages, SPEC, repair=1)
    assert [a.verdict.failed_level for a in outcome.attempts] == ["L4", "L1"]
    assert outcome.best is outcome.attempts[0] and outcome.final is outcome.attempts[1]
    outcome = solve(Scripted([WRONG_NAME, WRONG_NAME.replace("other", "another"), GOOD]), strict_verifier,
                    messages, SPEC, repair=1)
    assert outcome.best is outcome.attempts[1]  # equally deep: the later, repaired one
    config = EvalConfig(split=str(_tasks(tmp_path, n=1)), repair=1, max_new_tokens=64)
    summary = evaluate(config, tmp_path / "run", backend=Scripted([WRONG_NAME, BROKEN]))
    assert summary["failures_by_level_after_repair"]["L4"] == 1 and summary["failures_by_level_after_repair"]["L1"] == 0
    [record] = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert record["best_attempt"] == 0 and record["failed_level"] == "L4"


# --- runs ---------------------------------------------------------------------------------------------------

def test_a_run_reports_pass_at_1_before_and_after_repair(tmp_path):
    config = EvalConfig(split=str(_tasks(tmp_path)), repair=1, max_new_tokens=64)
    summary = evaluate(config, tmp_path / "run", backend=Scripted([WRONG_NAME, GOOD]))
    assert summary["cases"] == 3
    assert summary["full_pass_at_1"]["passed"] == 0 and summary["after_repair"]["passed"] == 3
    assert summary["failures_by_level"]["L4"] == 3 and summary["failures_by_level_after_repair"]["L4"] == 0
    records = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["t0", "t1", "t2"] and len(records[0]["attempts"]) == 2
    report = (tmp_path / "run" / "report.md").read_text()
    assert "full-pass@1: 0.0% (0/3" in report and "After up to 1 repair rounds: 100.0%" in report
    assert (tmp_path / "run" / "plots" / "failures_by_level.png").stat().st_size > 1000


def test_a_repair_held_to_the_request_is_scored_by_the_task_spec(tmp_path):
    # the task's spec asks for LOG_LEVEL=debug in the data; the request reader does not read ConfigMap data
    spec = TaskSpec("configmap", [ObjectSpec(kind="ConfigMap", name="app-config", fields={"/data/LOG_LEVEL": "debug"})])
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"id": "t0", "family": "configmap", "spec": spec.to_dict(),
                                 "instruction": "Create a ConfigMap named app-config with LOG_LEVEL set to debug."}))
    info = GOOD.replace("debug", "info")
    runs = {}
    for mode, answers in [("task", [info, GOOD]), ("request", [info, GOOD]), ("request-name", [WRONG_NAME, GOOD])]:
        config = EvalConfig(split=str(tasks), repair=1, repair_spec=mode.split("-")[0],
                            cache_dir=str(tmp_path / f"cache-{mode}"))
        runs[mode] = evaluate(config, tmp_path / mode, backend=Scripted(answers))
    record = lambda mode: json.loads((tmp_path / mode / "results.jsonl").read_text())  # noqa: E731
    # held to the task's spec, the wrong level is repaired; held to the request, nothing the loop can read is
    # missed, so the first answer is handed out, and it fails the task's spec
    assert runs["task"]["after_repair"]["passed"] == 1 and runs["request"]["after_repair"]["passed"] == 0
    assert len(record("request")["attempts"]) == 1 and record("request")["failed_level"] == "L4"
    # what the request does state (the name) is repaired, and the repaired answer is scored by the task's spec
    assert runs["request-name"]["after_repair"]["passed"] == 1 and record("request-name")["best_attempt"] == 1
    assert not record("request-name")["first"]["passed"]
    assert "repair_spec must be one of" in EvalConfig(repair_spec="gold").problems()[0]


class ScriptedBatch(Scripted):
    """Scripted, with a batch call as the transformers backend has; records the size of every batch."""

    def __init__(self, answers: list[str]) -> None:
        super().__init__(answers)
        self.batches: list[int] = []

    def generate_batch(self, conversations, max_new_tokens, temperature=0.0, seed=0):
        self.batches.append(len(conversations))
        return [self.generate(m, max_new_tokens, temperature, seed) for m in conversations]


def test_batched_runs_generate_each_repair_round_as_one_batch(tmp_path):
    tasks = _tasks(tmp_path, n=5)
    batched = ScriptedBatch([WRONG_NAME, GOOD])
    summary = evaluate(EvalConfig(split=str(tasks), repair=1, batch_size=3), tmp_path / "b", backend=batched)
    # slices of 3 and 2: first answers together, then the failed ones' repairs together; nothing one by one
    assert batched.batches == [3, 3, 2, 2] and len(batched.calls) == 10
    single = Scripted([WRONG_NAME, GOOD])
    alone = evaluate(EvalConfig(split=str(tasks), repair=1), tmp_path / "s", backend=single)
    assert summary["after_repair"] == alone["after_repair"] and summary["after_repair"]["passed"] == 5
    # a slice whose answers pass at once asks for no repairs
    passing = ScriptedBatch([GOOD])
    evaluate(EvalConfig(split=str(tasks), repair=2, batch_size=5), tmp_path / "p", backend=passing)
    assert passing.batches == [5]


def test_an_interrupted_run_resumes_and_the_cache_saves_regeneration(tmp_path):
    tasks = _tasks(tmp_path, n=4)
    config = EvalConfig(split=str(tasks), cache_dir=str(tmp_path / "cache"))
    with pytest.raises(KeyboardInterrupt):
        evaluate(config, tmp_path / "run", backend=Scripted([GOOD], fail_after=2))
    assert len((tmp_path / "run" / "results.jsonl").read_text().splitlines()) == 2
    backend = Scripted([GOOD])
    summary = evaluate(config, tmp_path / "run", backend=backend)
    assert summary["cases"] == 4 and summary["resumed_cases"] == 2 and len(backend.calls) == 2
    again = Scripted([GOOD])
    assert evaluate(config, tmp_path / "other", backend=again)["full_pass_at_1"]["passed"] == 4
    assert again.calls == []  # every generation came from the cache


def test_a_prompt_file_is_the_system_message_and_a_bad_one_is_a_clear_error(tmp_path):
    prompt = tmp_path / "mine.txt"
    prompt.write_text("You write Kubernetes YAML.\nMemory limits go in resources.limits.\n", encoding="utf-8")
    backend = ScriptedBatch([GOOD])
    summary = evaluate(EvalConfig(split=str(_tasks(tmp_path, n=2)), prompt=str(prompt), batch_size=2), tmp_path / "r",
                       backend=backend)
    assert summary["full_pass_at_1"]["passed"] == 2
    assert {c[0]["content"] for c in backend.calls} == {prompt.read_text(encoding="utf-8").strip()}
    assert [c[0]["role"] for c in backend.calls] == ["system", "system"]
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("r\xe9sum\xe9".encode("latin-1"))
    assert "is empty" in EvalConfig(prompt=str(tmp_path / "empty.txt")).problems()[0]
    assert "cannot be read as UTF-8" in EvalConfig(prompt=str(tmp_path / "latin1.txt")).problems()[0]


def test_resuming_with_other_settings_is_refused(tmp_path):
    tasks = _tasks(tmp_path, n=1)
    evaluate(EvalConfig(split=str(tasks)), tmp_path / "run", backend=Scripted([GOOD]))
    with pytest.raises(UserError, match="prompt differ"):
        evaluate(EvalConfig(split=str(tasks), prompt="plain"), tmp_path / "run", backend=Scripted([GOOD]))
    # a folder written before repair_style existed made its repairs in the chat form, not today's default
    evaluate(EvalConfig(split=str(tasks), repair=1, repair_style="chat"), tmp_path / "old", backend=Scripted([GOOD]))
    marker = tmp_path / "old" / "run.json"
    marker.write_text(json.dumps({k: v for k, v in json.loads(marker.read_text()).items() if k != "repair_style"}))
    with pytest.raises(UserError, match="repair_style differ"):
        evaluate(EvalConfig(split=str(tasks), repair=1), tmp_path / "old", backend=Scripted([GOOD]))
    evaluate(EvalConfig(split=str(tasks), repair=1, repair_style="chat"), tmp_path / "old", backend=Scripted([GOOD]))
    # a prompt file is the same prompt only while its text is the same
    prompt = tmp_path / "mine.txt"
    prompt.write_text("Answer with YAML.", encoding="utf-8")
    evaluate(EvalConfig(split=str(tasks), prompt=str(prompt)), tmp_path / "file", backend=Scripted([GOOD]))
    evaluate(EvalConfig(split=str(tasks), prompt=str(prompt)), tmp_path / "file", backend=Scripted([GOOD]))
    from kubedistill.prompts import _prompt_file

    prompt.write_text("Answer with YAML only.", encoding="utf-8")
    _prompt_file.cache_clear()  # a new process would read the edited file
    with pytest.raises(UserError, match="prompt differ"):
        evaluate(EvalConfig(split=str(tasks), prompt=str(prompt)), tmp_path / "file", backend=Scripted([GOOD]))
    for broken in ("{not json", "[1, 2]"):
        (tmp_path / "file" / "run.json").write_text(broken, encoding="utf-8")
        with pytest.raises(UserError, match=r"run\.json"):
            evaluate(EvalConfig(split=str(tasks), prompt=str(prompt)), tmp_path / "file", backend=Scripted([GOOD]))


def test_bad_task_files_name_the_line(tmp_path):
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps({"id": "a", "instruction": "x"}) + "\n" + json.dumps({"id": "b"}) + "\n")
    with pytest.raises(UserError, match=r"tasks.jsonl:2: field 'instruction'"):
        evaluate(EvalConfig(split=str(path)), tmp_path / "run", backend=Scripted([GOOD]))
    with pytest.raises(UserError, match="needs --corpus"):
        evaluate(EvalConfig(split="test"), tmp_path / "run2", backend=Scripted([GOOD]))


def test_compare_tabulates_runs_and_draws_the_trajectory(tmp_path):
    tasks = _tasks(tmp_path, n=2)
    evaluate(EvalConfig(split=str(tasks), prompt="plain"), tmp_path / "a", backend=Scripted([WRONG_NAME]))
    evaluate(EvalConfig(split=str(tasks), prompt="strict"), tmp_path / "b", backend=Scripted([GOOD]))
    table = compare([str(tmp_path / "a"), str(tmp_path / "b")], tmp_path / "cmp")
    rows = table.splitlines()
    assert "| plain |" in rows[2] and "| 0.0% |" in rows[2] and "| strict |" in rows[3] and "| 100.0% |" in rows[3]
    assert (tmp_path / "cmp" / "trajectory.png").exists()


def test_compare_names_an_adapter_by_its_training_run():
    assert adapter_label("runs/train-r16/adapter") == "train-r16/adapter"
    assert adapter_label("runs/train-r16") == "train-r16"
    assert adapter_label("adapter") == "adapter"
    assert adapter_label("") == "-"


def test_the_tiny_real_model_runs_end_to_end_through_transformers(tiny_model, tmp_path):
    config = EvalConfig(model=str(tiny_model), split=str(_tasks(tmp_path, n=2)), max_new_tokens=6)
    summary = evaluate(config, tmp_path / "run")
    assert summary["cases"] == 2 and summary["tokens"]["generated"] > 0
    assert summary["full_pass_at_1"]["passed"] == 0  # an untrained 2-layer model writes no valid manifest
    records = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert all(r["attempts"][0]["prompt_tokens"] > 20 for r in records)


def test_the_transformers_backend_loads_the_dtype_asked_for(tiny_model):
    from kubedistill.inference.backend import ModelRef, load_backend

    torch = pytest.importorskip("torch")
    from kubedistill.hardware import auto_dtype

    auto = getattr(torch, auto_dtype())  # bfloat16 on a GPU or a CPU with native bf16 (tests/test_hardware.py)
    assert load_backend(ModelRef(str(tiny_model))).model.dtype == auto
    assert load_backend(ModelRef(str(tiny_model), dtype="float32")).model.dtype == torch.float32
    half = load_backend(ModelRef(str(tiny_model), dtype="bfloat16"))
    assert half.model.dtype == torch.bfloat16
    assert half.generate([{"role": "user", "content": "a ConfigMap"}], max_new_tokens=3).tokens > 0
    assert "unknown dtype" in ModelRef(str(tiny_model), dtype="fp8").problems()[0]


# --- CloudEval-YAML -------------------------------------------------------------------------------------------

CLOUDEVAL = FIXTURES / "cloudeval"


def test_cloudeval_problems_load_in_order():
    tasks = cloudeval.load_problems(CLOUDEVAL)
    assert [t.id for t in tasks] == ["Kubernetes_pod_q1", "Kubernetes_pod_q2", "Kubernetes_service_q1"]
    assert "nginx" in tasks[0].instruction and "# *" in tasks[0].reference


def test_cloudeval_scores_follow_the_benchmark_definitions():
    labeled = (CLOUDEVAL / "Kubernetes" / "pod" / "q1" / "labeled_code.yaml").read_text()
    plain = cloudeval.unlabeled(labeled)
    assert cloudeval.exact_match(plain, labeled) and cloudeval.kv_wildcard(plain, labeled) == 1.0
    renamed = plain.replace("name: web-pod", "name: anything-else")  # the labeled (wildcard) value
    assert cloudeval.kv_wildcard(renamed, labeled) == 1.0 and not cloudeval.exact_match(renamed, labeled)
    other_image = plain.replace("nginx:1.25", "httpd:2.4")
    assert 0.5 < cloudeval.kv_wildcard(other_image, labeled) < 1.0
    assert cloudeval.kv_wildcard("key: [unclosed", labeled) == 0.0


def test_cloudeval_benchmark_run_reports_its_scores(tmp_path):
    labeled = (CLOUDEVAL / "Kubernetes" / "pod" / "q1" / "labeled_code.yaml").read_text()
    config = EvalConfig(benchmark="cloudeval", data=str(CLOUDEVAL), policy="baseline", limit=2)
    summary = evaluate(config, tmp_path / "run", backend=Scripted([cloudeval.unlabeled(labeled)]))
    assert summary["cases"] == 2 and summary["benchmark"]["exact_match"] == 0.5
    assert 0.5 <= summary["benchmark"]["kv_wildcard"] < 1.0


def test_a_missing_benchmark_folder_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="no CloudEval-YAML Kubernetes problems"):
        cloudeval.load_problems(tmp_path)


# --- CLI ----------------------------------------------------------------------------------------------------------

def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "kubedistill", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_errors_are_messages_with_exit_code_2(tmp_path):
    run = _cli("eval", "--split", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o"))
    assert run.returncode == 2 and "no task file" in run.stderr and "Traceback" not in run.stderr
    run = _cli("eval", "compare", str(tmp_path))
    assert run.returncode == 2 and "holds no summary.json" in run.stderr
    run = _cli("eval", "--split", str(_tasks(tmp_path)), "--out", str(tmp_path / "o"), "--prompt", "fancy")
    assert run.returncode == 2 and "is neither a prompt mode (plain, strict) nor a file" in run.stderr
    run = _cli("eval", "--split", str(_tasks(tmp_path)), "--out", str(tmp_path / "o"), "--dtype", "int3")
    assert run.returncode == 2 and "dtype must be one of" in run.stderr
    # a run.json left damaged (a crash mid-write, a hand edit) is named, before any model is loaded
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / "run.json").write_text('{"model": "qwen', encoding="utf-8")
    run = _cli("eval", "--split", str(_tasks(tmp_path)), "--out", str(tmp_path / "damaged"))
    assert run.returncode == 2 and "damaged/run.json cannot be read" in run.stderr and "Traceback" not in run.stderr


def test_cli_compare_prints_the_table(tmp_path):
    evaluate(EvalConfig(split=str(_tasks(tmp_path, n=1))), tmp_path / "a", backend=Scripted([GOOD]))
    run = _cli("eval", "compare", str(tmp_path / "a"))
    assert run.returncode == 0 and "| 100.0% |" in run.stdout


def test_hints_put_the_request_checklist_in_every_round_of_the_loop(tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"id": "t0", "family": "configmap", "spec": SPEC.to_dict(),
                                 "instruction": "Create a ConfigMap named app-config."}))
    backends = {}
    for hints in ("none", "request"):
        backends[hints] = Scripted([WRONG_NAME, GOOD])
        config = EvalConfig(split=str(tasks), repair=1, hints=hints, cache_dir=str(tmp_path / f"cache-{hints}"))
        evaluate(config, tmp_path / hints, backend=backends[hints])
    users = {h: [c[-1]["content"] for c in b.calls] for h, b in backends.items()}
    assert len(users["none"]) == len(users["request"]) == 2
    assert all("Values this request states" not in u for u in users["none"])
    # the first answer and the restated repair both carry the checklist after the request
    assert all("Values this request states" in u and "- ConfigMap app-config" in u for u in users["request"])
    assert users["request"][0].startswith("Create a ConfigMap named app-config.\n\n")
    assert json.loads((tmp_path / "request" / "run.json").read_text())["hints"] == "request"
    table = compare([str(tmp_path / "none"), str(tmp_path / "request")]).splitlines()
    assert "| strict |" in table[2] and "| strict + checklist |" in table[3]
    assert "prompt `strict + checklist`" in (tmp_path / "request" / "report.md").read_text()
    assert "hints must be one of none, request" in EvalConfig(hints="gold").problems()[0]


def test_an_adapter_trained_with_checklists_is_asked_with_them_by_default(tmp_path):
    from kubedistill.inference.backend import adapter_hints

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    assert adapter_hints("") == "none" and adapter_hints(str(adapter)) == "none"  # trained before it was recorded
    (adapter / "kubedistill.json").write_text(json.dumps({"prompt": "strict", "hints": "request"}))
    assert adapter_hints(str(adapter)) == "request"
    tasks = _tasks(tmp_path, n=1)
    backend = Scripted([GOOD])
    summary = evaluate(EvalConfig(split=str(tasks), adapter=str(adapter)), tmp_path / "run", backend=backend)
    assert summary["config"]["hints"] == "request" and "Values this request states" in backend.calls[0][-1]["content"]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["hints"] == "request"
    for bad, needle in (("{not json", "kubedistill.json cannot be read"), ("[]", "holds list, not a JSON object"),
                        ('{"hints": "gold"}', "is not one of none, request")):
        (adapter / "kubedistill.json").write_text(bad)
        with pytest.raises(UserError, match=needle):
            adapter_hints(str(adapter))


def test_write_and_edit_tasks_are_reported_apart():
    from kubedistill.evaluation.metrics import summarize

    def case(family: str, first: bool, final: bool) -> dict:
        level = None if final else "L4"
        return {"family": family, "passed": final, "failed_level": level, "rules": [],
                "first": {"passed": first, "failed_level": None if first else "L4", "format_violations": []},
                "attempts": [{"tokens": 1, "seconds": 1.0, "truncated": False}]}

    summary = summarize([case("edit-field", False, True), case("edit-fix", True, True),
                         case("deployment", False, False)])
    assert {task: (r["first"]["passed"], r["after_repair"]["passed"], r["first"]["total"])
            for task, r in summary["by_task"].items()} == {"write": (0, 0, 1), "edit": (1, 2, 2)}
