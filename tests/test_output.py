"""Output: a report rendered file by file (in worker processes, with ``-j``) holds every result and the summary,
the same as one rendered in one process."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest

from conftest import FIXTURES
from kubedistill.verify import VerifyConfig, output, workers
from kubedistill.verify.engine import map_paths, verify_paths
from kubedistill.verify.finding import DocumentResult, Finding, Severity, Status
from kubedistill.verify.output import FORMATS, Report, Summary, json_part

RULES = sorted(str(p) for p in (FIXTURES / "rules").glob("*.yaml"))
CONFIG = VerifyConfig(policy="best-practice")


def test_json_report_holds_every_result_and_the_summary():
    batches = list(verify_paths(RULES, CONFIG, 1))
    out = io.StringIO()
    report = Report("json", out, with_summary=True)
    for batch in batches:
        report.add(report.render(batch))
    report.close()
    written = json.loads(out.getvalue())
    assert written["resources"] == [r.to_dict() for batch in batches for r in batch]
    counted = Summary()
    for batch in batches:
        counted.add(batch)
    assert written["summary"] == counted.to_dict() and written["summary"]["documents"] > 100


def test_finding_to_dict_leaves_out_only_empty_values():
    finding = Finding(3, "L3-X", "m", path="", hint="", severity=Severity.WARNING, file="f", doc=0, line=None, column=0)
    assert finding.to_dict() == {"level": "L3", "rule": "L3-X", "message": "m", "severity": "warning", "file": "f",
                                 "doc": 0, "column": 0}
    assert json_part([DocumentResult("f", 0, status=Status.EMPTY, findings=[finding])]) == json.dumps(
        DocumentResult("f", 0, status=Status.EMPTY, findings=[finding]).to_dict())


def test_finding_to_dict_has_every_field_in_order():
    values = {f.name: (f"v{i}" if f.type == "str" else i + 1) for i, f in enumerate(dataclasses.fields(Finding))}
    finding = Finding(**{**values, "level": 2, "severity": Severity.ERROR})
    assert list(finding.to_dict()) == [f.name for f in dataclasses.fields(Finding)]


@pytest.mark.skipif(not workers.CAN_FORK, reason="parallel verification needs the fork start method")
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_report_rendered_in_workers_equals_one_rendered_here(monkeypatch, fmt):
    """The same report whether files are rendered where they were verified or here, and whether a file's output
    is one string or written result by result (files of more than ``RENDERED_MAX`` documents)."""
    monkeypatch.setattr(workers, "chunk_size", lambda files, jobs: 3)
    written = []
    for jobs, most in ((1, output.RENDERED_MAX), (2, output.RENDERED_MAX), (1, 0), (2, 0)):
        monkeypatch.setattr(output, "RENDERED_MAX", most)
        out = io.StringIO()
        report = Report(fmt, out, with_summary=True, verbose=True)
        for part in map_paths(RULES, CONFIG, report.render, jobs):
            report.add(part)
        report.close()
        written.append((out.getvalue(), report.failed, report.errored))
    assert all(w == written[0] for w in written) and written[0][1]
