"""The CLI as a black box: the installed console script, its exact lines and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import pytest

from conftest import FIXTURES, REPO

RULES = FIXTURES / "rules"


def kubedistill(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("kubedistill")
    cmd = [exe] if exe else [sys.executable, "-m", "kubedistill"]
    return subprocess.run([*cmd, *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_valid_examples_exit_zero_with_summary():
    run = kubedistill("validate", str(REPO / "examples"), "--policy", "restricted", "--context", "strict", "--summary")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0].startswith("Summary: 12 documents - valid 12, invalid 0")
    one = kubedistill("validate", "--summary", "-", stdin="apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n")
    assert one.returncode == 0 and one.stdout.startswith("Summary: 1 document - valid 1,")


def test_finding_line_is_exact():
    path = RULES / "L2-SELECTOR.invalid.yaml"
    run = kubedistill("validate", str(path))
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        f"{path}:6:3: error L2 L2-SELECTOR doc 0 Deployment/web /spec/selector: selector does not match template "
        "labels (hint: make /spec/template/metadata/labels include every matchLabels pair)"]


def test_stdin_input():
    run = kubedistill("validate", "-", stdin=(RULES / "L2-NAME.invalid.yaml").read_text())
    assert run.returncode == 1 and run.stdout.startswith("stdin:4:")
    ok = kubedistill("validate", "-", stdin=(RULES / "L2-NAME.valid.yaml").read_text())
    assert ok.returncode == 0 and ok.stdout == ""


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n# todo\n---\n"])
def test_nothing_to_check_fails_unless_allowed(tmp_path, text):
    """kubectl apply refuses an input without objects; so do we, except in scans that expect such files."""
    run = kubedistill("validate", "-", stdin=text)
    assert run.returncode == 1
    assert run.stdout.startswith("stdin:1: error L1 L1-EMPTY doc 0: no Kubernetes object"), run.stdout
    (tmp_path / "empty.yaml").write_text(text)
    (tmp_path / "cm.yaml").write_text((RULES / "L1-EMPTY.valid.yaml").read_text())
    scan = kubedistill("validate", "--allow-empty", str(tmp_path))
    assert scan.returncode == 0 and scan.stdout == "", scan.stdout
    strict = kubedistill("validate", "-o", "json", str(tmp_path))
    assert strict.returncode == 1
    failed = [r for r in json.loads(strict.stdout)["resources"] if r["status"] == "invalid"]
    assert [(r["file"].rsplit("/", 1)[-1], r["findings"][0]["rule"]) for r in failed] == [("empty.yaml", "L1-EMPTY")]


EDIT_INPUT = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n"
              "    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n"
              "      containers:\n        - {name: web, image: nginx:1.27}\n---\n"
              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata: {a: b}\n")


def test_an_edited_manifest_is_checked_against_its_original(tmp_path):
    original = tmp_path / "original.yaml"
    original.write_text(EDIT_INPUT)
    scaled = EDIT_INPUT.replace("replicas: 2", "replicas: 3")
    allowed = ["--input", str(original), "--allow-change", "Deployment/web /spec/replicas"]
    assert kubedistill("validate", *allowed, "-", stdin=scaled).returncode == 0
    both = kubedistill("validate", *allowed, "-", stdin=scaled.replace("nginx:1.27", "nginx:1.28"))
    assert both.returncode == 1 and "L4-EDIT-UNASKED" in both.stdout and "/containers/web/image" in both.stdout
    dropped = kubedistill("validate", "--input", str(original), "-", stdin=scaled.split("---")[0])
    assert dropped.returncode == 1 and "L4-EDIT-DROPPED" in dropped.stdout and "ConfigMap 'cfg'" in dropped.stdout
    for args, message in ((["--allow-change", "Deployment/web"], "--allow-change needs --input"),
                          (["--input", "/no/such.yaml"], "--input: cannot read /no/such.yaml")):
        run = kubedistill("validate", *args, "-", stdin=scaled)
        assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr


def test_missing_file_exits_two_without_traceback():
    run = kubedistill("validate", "/no/such/file.yaml")
    assert run.returncode == 2
    assert "cannot read /no/such/file.yaml" in run.stdout and "Traceback" not in run.stderr


@pytest.mark.parametrize("args", [
    ["validate", "x.yaml", "--policy", "paranoid"],
    ["validate", "x.yaml", "--levels", "L5"],
    ["validate", "x.yaml", "--k8s-version", "1.10"],
    ["validate", "x.yaml", "--schema-location", "/no/such/dir"],
    ["validate", "x.yaml", "-j", "-1"],
    ["frobnicate"],
])
def test_usage_errors_exit_two(args):
    run = kubedistill(*args)
    assert run.returncode == 2 and "Traceback" not in run.stderr and run.stderr.strip()


def test_json_output_is_structured():
    run = kubedistill("validate", str(RULES / "L3-PRIVILEGED.invalid.yaml"), "-o", "json", "--summary")
    payload = json.loads(run.stdout)
    finding = payload["resources"][0]["findings"][0]
    assert finding["rule"] == "L3-PRIVILEGED" and finding["checkov"] == "CKV_K8S_16"
    assert finding["path"] == "/spec/containers/0/securityContext/privileged"
    assert payload["summary"]["failedAtLevel"] == {"L3": 1}


def test_junit_output_parses():
    run = kubedistill("validate", str(RULES), "-o", "junit")
    root = ET.fromstring(run.stdout)
    assert root.tag == "testsuites" and int(root.get("failures")) > 50
    assert run.returncode == 1


def test_sarif_output_has_rules_and_locations():
    run = kubedistill("validate", str(RULES / "L1-DUPLICATE-KEY.invalid.yaml"), "-o", "sarif")
    sarif = json.loads(run.stdout)
    result = sarif["runs"][0]["results"][0]
    assert sarif["version"] == "2.1.0" and result["ruleId"] == "L1-DUPLICATE-KEY"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 5


def test_parallel_jobs_give_the_same_output():
    one = kubedistill("validate", str(RULES), "-o", "json", "-j", "1")
    two = kubedistill("validate", str(RULES), "-o", "json", "-j", "2")
    assert one.stdout == two.stdout and one.returncode == two.returncode == 1


def test_levels_flag_limits_checks():
    path = str(RULES / "L3-PRIVILEGED.invalid.yaml")
    assert kubedistill("validate", path, "--levels", "L1,L2").returncode == 0


def test_rules_verb_lists_rules():
    run = kubedistill("rules", "--level", "L3")
    assert run.returncode == 0
    assert any(line.split()[1] == "L3-PRIVILEGED" and "CKV_K8S_16" in line for line in run.stdout.splitlines())


def test_help_lists_every_flag():
    run = kubedistill("validate", "--help")
    for flag in ("--k8s-version", "--levels", "--policy", "--context", "--schema-location",
                 "--ignore-missing-schemas", "--output", "--summary", "--jobs"):
        assert flag in run.stdout


def test_a_directory_without_manifests_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    run = kubedistill("validate", str(tmp_path))
    assert run.returncode == 2 and "no *.yaml" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("progress,expect_enabled", [(False, False), (True, True)])
def test_library_progress_bars_follow_the_progress_choice(monkeypatch, progress, expect_enabled):
    """Off a terminal (or with --no-progress) the transformers loading bars would fill a log with carriage
    returns; with --progress they stay."""
    from transformers.utils import logging as hf_logging

    from kubedistill.__main__ import quiet_libraries
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    hf_logging.enable_progress_bar()
    try:
        with warnings.catch_warnings():
            quiet_libraries(progress)
            assert hf_logging.is_progress_bar_enabled() is expect_enabled
            assert ("HF_HUB_DISABLE_PROGRESS_BARS" in os.environ) is not expect_enabled
            with warnings.catch_warnings(record=True) as seen:
                warnings.warn("`is_gradient_checkpointing` is deprecated and will be removed in v6.", FutureWarning,
                              stacklevel=1)
                warnings.warn("another deprecation", FutureWarning, stacklevel=1)
            assert [str(w.message) for w in seen] == ["another deprecation"]
    finally:
        hf_logging.enable_progress_bar()


class OutOfMemoryError(RuntimeError):
    """Stands in for torch.OutOfMemoryError (a RuntimeError of that name), so this test needs no GPU."""


def _verb_raising(monkeypatch, exc):
    """Every verb's module replaced by one whose run raises ``exc``: main's handling is what is under test."""
    import types

    import kubedistill.__main__ as cli

    def run(args):
        raise exc

    monkeypatch.setattr(cli, "_verb_module", lambda verb: types.SimpleNamespace(add_arguments=lambda p: None, run=run))
    return cli


@pytest.mark.parametrize("exc, said", [
    (OutOfMemoryError("CUDA out of memory. Tried to allocate 3.22 GiB.\nmore"),
     "CUDA out of memory. Tried to allocate 3.22 GiB."),
    (RuntimeError("CUDA error: out of memory"), "CUDA error: out of memory"),
    (MemoryError(), "MemoryError"),
])
def test_out_of_memory_is_a_message_with_a_hint_not_a_traceback(monkeypatch, capsys, exc, said):
    cli = _verb_raising(monkeypatch, exc)
    assert cli.main(["eval"]) == 3
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"kubedistill eval: error: out of memory: {said}"
    assert "lower --batch-size" in err and "Traceback" not in err


def test_other_runtime_errors_still_raise(monkeypatch):
    cli = _verb_raising(monkeypatch, RuntimeError("shape mismatch"))
    with pytest.raises(RuntimeError, match="shape mismatch"):
        cli.main(["eval"])


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""


def test_validate_checks_a_manifest_against_the_requirements_of_a_request(tmp_path):
    answer = tmp_path / "web.yaml"
    answer.write_text(DEPLOYMENT)
    wrong = kubedistill("validate", str(answer), "--request", "a Deployment named web running nginx:1.27, 3 replicas")
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    lines = wrong.stdout.splitlines()
    assert lines[0] == 'requirements read from the request: Deployment web: image="nginx:1.27", replicas=3'
    assert "L4-SPEC-MISMATCH" in lines[1] and "/spec/replicas" in lines[1]
    request = tmp_path / "request.txt"
    request.write_text("pls a deployment named web with two replicas, image nginx:1.27\n")
    right = kubedistill("validate", "-", "--request", f"@{request}", "-o", "json", stdin=DEPLOYMENT)
    assert right.returncode == 0, right.stdout + right.stderr
    report = json.loads(right.stdout)
    assert report["resources"][0]["status"] == "valid"
    assert report["request"]["requirements"]["objects"][0] == {"kind": "Deployment", "name": "web",
                                                               "image": "nginx:1.27", "replicas": 2}


@pytest.mark.parametrize(("request_arg", "message"), [
    ("   ", "--request: the request is empty"),
    ("@/no/such/request.txt", "--request: cannot read /no/such/request.txt"),
])
def test_validate_request_bad_input_exits_2_with_a_message(tmp_path, request_arg, message):
    answer = tmp_path / "web.yaml"
    answer.write_text(DEPLOYMENT)
    run = kubedistill("validate", str(answer), "--request", request_arg)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith(f"kubedistill validate: error: {message}") and "Traceback" not in run.stderr


def test_validate_request_takes_one_answer(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(DEPLOYMENT)
    run = kubedistill("validate", str(tmp_path), "--request", "a Deployment")
    assert run.returncode == 2 and "--request checks one answer, got 2 files" in run.stderr
