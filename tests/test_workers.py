"""Parallel verification: the same results, in input order, whatever the process count; nothing lost when a
worker dies; no process left behind when the consumer stops early."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import time

import pytest

from conftest import FIXTURES
from kubedistill.verify import VerifyConfig, verify_paths, workers
from kubedistill.verify.engine import Verifier

RULES = sorted(str(p) for p in (FIXTURES / "rules").glob("*.yaml"))
CONFIG = VerifyConfig(policy="best-practice")

pytestmark = pytest.mark.skipif(not workers.CAN_FORK, reason="parallel verification needs the fork start method")


def test_parallel_results_equal_the_single_process_ones_in_order(monkeypatch):
    monkeypatch.setattr(workers, "chunk_size", lambda files, jobs: 3)  # many chunks for 134 files
    one = list(verify_paths(RULES, CONFIG, 1))
    assert len(one) == len(RULES) > 100 and any(r.findings for batch in one for r in batch)
    for jobs in (2, 3):
        assert list(verify_paths(RULES, CONFIG, jobs)) == one


def test_a_worker_that_dies_loses_no_file(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(workers, "chunk_size", lambda files, jobs: 2)
    parent = os.getpid()
    poison = RULES[4]  # in the third chunk: the worker reaches it while the caller sleeps on its first file
    died = tmp_path / "died"

    def make_verify():
        verify = Verifier(CONFIG).verify_file
        slept = []

        def checked(path):
            if os.getpid() != parent and path == poison:
                died.write_text("x")
                os._exit(3)  # a worker killed mid-chunk (out of memory, a signal)
            if os.getpid() == parent and not slept:
                slept.append(path)
                time.sleep(0.5)
            return verify(path)
        return checked

    got = list(workers.run_parallel(RULES, make_verify, 2))
    assert died.exists() and "exit code 3" in caplog.text
    assert got == list(verify_paths(RULES, CONFIG, 1))


def test_stopping_early_leaves_no_worker_running():
    results = verify_paths(RULES, CONFIG, 3)
    first = next(results)
    assert first == Verifier(CONFIG).verify_file(RULES[0])
    results.close()
    assert not multiprocessing.active_children()


def test_results_pickle_to_equal_objects():
    batch = [r for path in RULES[:20] for r in Verifier(CONFIG).verify_file(path)]
    assert any(r.findings for r in batch)
    assert pickle.loads(pickle.dumps(batch)) == batch
