"""The sources job: determinism, crash and Ctrl-C resume without loss or duplicates, reverse pairs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO
from kubedistill.context.spec import TaskSpec
from kubedistill.sources.reverse import ReverseConfig
from kubedistill.sources.run import SourcesConfig, SyntheticConfig, run_sources
from kubedistill.sources.store import PairStore, read_pairs
from kubedistill.verify import Verifier, VerifyConfig

VOLATILE = ("created_at", "seconds")


def _stable(path) -> list[dict]:
    return [{k: v for k, v in p.items() if k not in VOLATILE} for p in read_pairs(path)]


def test_same_seed_same_pairs(tmp_path):
    config = SourcesConfig(seed=11, synthetic=SyntheticConfig(n=50))
    run_sources(config, tmp_path / "a", progress=False)
    run_sources(config, tmp_path / "b", progress=False)
    assert _stable(tmp_path / "a" / "pairs.jsonl") == _stable(tmp_path / "b" / "pairs.jsonl")


def test_offline_pairs_pass_every_level_and_their_spec(tmp_path):
    run_sources(SourcesConfig(seed=5, synthetic=SyntheticConfig(n=300)), tmp_path, progress=False)
    verifier = Verifier(VerifyConfig(policy="restricted", context="bundle"))
    for pair in read_pairs(tmp_path / "pairs.jsonl"):
        results = verifier.verify_text(pair["manifest"], spec=TaskSpec.from_dict(pair["spec"]))
        assert all(r.passed for r in results), pair["id"]


def test_partial_last_line_is_repaired(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "instr')
    store = PairStore(path)
    store.close()
    assert store.done == {"a", "b"} and path.read_text() == '{"id": "a"}\n{"id": "b"}\n'


def _sources_cli(out, n: int) -> subprocess.Popen:
    # A test run started in the background by a non-interactive shell inherits SIGINT as ignored, and so would
    # the child: give it the default disposition, so that the SIGINT the test sends is the one a user's Ctrl-C is.
    return subprocess.Popen([sys.executable, "-m", "kubedistill", "sources", "--out", str(out), f"synthetic.n={n}",
                             "seed=2", "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_lines(path, minimum: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and path.read_bytes().count(b"\n") >= minimum:
            return
        time.sleep(0.02)
    pytest.fail("the sources run finished or stalled before it could be interrupted")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_run_resumes_without_loss_or_duplicates(tmp_path, sig):
    n = 6000  # large enough that the signal lands mid-run even on a loaded machine
    out = tmp_path / "run"
    proc = _sources_cli(out, n)
    _wait_for_lines(out / "pairs.jsonl", 100, proc)
    os.kill(proc.pid, sig)
    _, first_stderr = proc.communicate(timeout=30)
    written = (out / "pairs.jsonl").read_bytes().count(b"\n")
    # on failure, say whether the run ignored the signal or finished before it landed
    assert 0 < written < n, (proc.returncode, first_stderr.decode()[-2000:])
    if sig == signal.SIGINT:
        assert proc.returncode == 130
    resumed = _sources_cli(out, n)
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    ids = [p["id"] for p in read_pairs(out / "pairs.jsonl")]
    assert ids == [f"syn-2-{i:07d}" for i in range(n)]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["resumed"] >= written and stats["written"] == n - stats["resumed"]
    reference = tmp_path / "ref"
    run_sources(SourcesConfig(seed=2, synthetic=SyntheticConfig(n=n)), reference, progress=False)
    assert _stable(out / "pairs.jsonl") == _stable(reference / "pairs.jsonl")


@pytest.fixture()
def manifest_dir(tmp_path):
    (tmp_path / "app.yaml").write_text((REPO / "examples" / "web-app.yaml").read_text())
    (tmp_path / "db.yaml").write_text((REPO / "examples" / "postgres.yaml").read_text())
    (tmp_path / "crd.yaml").write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n")
    (tmp_path / "broken.yaml").write_text("kind: [\n")
    return tmp_path


def test_reverse_pairs_from_a_directory(manifest_dir, tmp_path):
    config = SourcesConfig(synthetic=SyntheticConfig(n=0), reverse=ReverseConfig(dir=str(manifest_dir)))
    stats = run_sources(config, tmp_path / "out", progress=False)
    pairs = list(read_pairs(tmp_path / "out" / "pairs.jsonl"))
    assert len(pairs) == 2 and stats["skipped_files"] == {"not-builtin": 1, "yaml-error": 1}
    db = next(p for p in pairs if p["origin"]["file"] == "db.yaml")
    assert "change-me" not in db["manifest"] and db["origin"]["redactions"] == 1
    assert "postgres" in db["instruction"] and db["source"] == "reverse_instruction"
    verifier = Verifier(VerifyConfig(policy="restricted"))
    for pair in pairs:
        assert all(r.passed for r in verifier.verify_text(pair["manifest"], spec=TaskSpec.from_dict(pair["spec"])))


def test_reverse_over_the_shared_corpus_yields_specs(real_dir, tmp_path):
    config = SourcesConfig(synthetic=SyntheticConfig(n=0), reverse=ReverseConfig(dir=str(real_dir)))
    stats = run_sources(config, tmp_path, progress=False)
    assert stats["written"] > 900
    assert stats["skipped_files"]["invalid-example"] == 90


def test_damage_in_the_middle_of_the_store_is_refused(tmp_path):
    from kubedistill.errors import UserError

    path = tmp_path / "pairs.jsonl"
    path.write_text('{"id": "a"}\nGARBAGE\n{"id": "c"}\n')
    with pytest.raises(UserError, match=r"pairs.jsonl:2: damaged record"):
        PairStore(path)
    assert path.read_text() == '{"id": "a"}\nGARBAGE\n{"id": "c"}\n'
