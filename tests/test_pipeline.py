"""The pipeline: every stage runs once, a rerun skips what is up to date, a changed setting reruns only the stages
it affects, an interrupted stage resumes; and the corpus map stage gives the same bytes on Ray as locally."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import asdict, replace

import pytest

from kubedistill.config import load_config
from kubedistill.corpus.build import CorpusConfig, build_corpus
from kubedistill.corpus.engine import LocalEngine, make_engine
from kubedistill.errors import UserError
from kubedistill.pipeline.command import default_config_path
from kubedistill.pipeline.run import Pipeline, PipelineConfig, _key
from kubedistill.sources.run import SourcesConfig, run_sources

pytest.importorskip("torch", reason="pip install -e '.[train]'")


def _config(tiny_model, tmp_path, **changes) -> PipelineConfig:
    overrides = ["sources.synthetic.n=40", "sources.reverse.dir=", "corpus.split.train=12",
                 "corpus.split.validation=2", "corpus.split.test=3", f"train.model={tiny_model}", "train.max_steps=2",
                 "train.grad_accum=1", "train.eval_every=2", "train.save_every=1", "train.eval_pairs=2",
                 "train.threads=1", "eval.max_new_tokens=4", "eval.backend=transformers", "eval.batch_size=2",
                 f"out={tmp_path / 'run'}"]
    overrides += [f"{k}={v}" for k, v in changes.items()]
    return load_config(PipelineConfig, default_config_path(), overrides)


def _run(config, tmp_path):
    lines: list[str] = []
    summary = Pipeline(config, tmp_path / "run", progress=False, log=lines.append).run()
    ran = [line.split("] ")[1].split(":")[0] for line in lines if line.endswith(")") and "running" in line]
    return summary, ran


def test_stages_run_once_then_only_what_a_change_affects(tiny_model, tmp_path):
    summary, ran = _run(_config(tiny_model, tmp_path), tmp_path)
    assert ran == ["sources", "corpus", "train", "baseline", "student", "report"]
    report = (tmp_path / "run" / "report" / "README.md").read_text()
    assert "Student full-pass@1" in report and "Base model zero-shot" in report and "## Corpus" in report
    assert (tmp_path / "run" / "report" / "levels.png").exists() and (tmp_path / "run" / "report" / "loss.png").exists()
    assert summary["stages"]["student"]["full_pass_at_1"]["total"] == 3
    _, ran = _run(_config(tiny_model, tmp_path), tmp_path)
    assert ran == []
    _, ran = _run(_config(tiny_model, tmp_path, **{"eval.max_new_tokens": 5}), tmp_path)
    assert ran == ["baseline", "student", "report"]
    _, ran = _run(_config(tiny_model, tmp_path, **{"eval.max_new_tokens": 5, "train.lr": 0.01}), tmp_path)
    assert ran == ["train", "student", "report"]


def test_a_setting_added_later_keeps_the_stage_keys_at_its_default(tiny_model, tmp_path):
    keys = lambda config: {s.name: s.key for s in Pipeline(config, tmp_path / "run").stages()}  # noqa: E731
    before = keys(_config(tiny_model, tmp_path))
    with_hints = keys(_config(tiny_model, tmp_path, **{"train.hints": "request"}))
    # what a folder written before ``hints`` existed holds is still up to date; choosing checklists retrains
    assert before["train"] == _key("train", {k: v for k, v in asdict(_config(tiny_model, tmp_path).train).items()
                                             if k not in ("threads", "cache_dir", "hints")}, before["corpus"])
    assert with_hints["train"] != before["train"] and with_hints["corpus"] == before["corpus"]


def test_an_interrupted_stage_resumes_and_keeps_finished_work(tiny_model, tmp_path, monkeypatch):
    config = _config(tiny_model, tmp_path)
    import kubedistill.evaluation.run as eval_run

    real = eval_run.case_record
    calls = {"n": 0}

    def crash_on_second_student_case(*args):
        calls["n"] += 1
        if calls["n"] == 5:  # 3 baseline cases, then the student's second one
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(eval_run, "case_record", crash_on_second_student_case)
    with pytest.raises(KeyboardInterrupt):
        _run(config, tmp_path)
    assert not (tmp_path / "run" / "student" / "stage.json").exists()
    assert len((tmp_path / "run" / "student" / "results.jsonl").read_text().splitlines()) == 1
    monkeypatch.setattr(eval_run, "case_record", real)
    summary, ran = _run(config, tmp_path)
    assert ran == ["student", "report"]
    assert summary["stages"]["student"]["full_pass_at_1"]["total"] == 3
    student = json.loads((tmp_path / "run" / "student" / "summary.json").read_text())
    assert student["resumed_cases"] == 1


def test_invalid_settings_are_reported_together(tiny_model, tmp_path):
    config = _config(tiny_model, tmp_path, **{"eval.prompt": "fancy", "train.batch_size": 0, "engine": "spark"})
    with pytest.raises(UserError) as caught:
        _run(config, tmp_path)
    message = str(caught.value)
    assert "neither a prompt mode" in message and "batch_size" in message and "engine must be" in message


def test_shipped_quickstart_is_the_embedded_default():
    from pathlib import Path

    shipped = Path(__file__).parents[1] / "configs" / "pipeline" / "quickstart.yaml"
    assert shipped.read_text() == Path(default_config_path()).read_text()


@pytest.fixture(scope="module")
def raw_pairs(tmp_path_factory):
    out = tmp_path_factory.mktemp("sources")
    run_sources(load_config(SourcesConfig, None, ["synthetic.n=300", "seed=5"]), out, progress=False)
    return out / "pairs.jsonl"


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install -e '.[ray]')")
def test_ray_and_local_engines_write_the_same_bytes(raw_pairs, tmp_path):
    config = replace(load_config(CorpusConfig, None, ["split.train=150", "split.validation=20", "split.test=30"]),
                     chunk_size=40)
    build_corpus(config, [str(raw_pairs)], tmp_path / "local", engine=LocalEngine(1), progress=False)
    engine = make_engine("ray", jobs=2)
    build_corpus(config, [str(raw_pairs)], tmp_path / "ray", engine=engine, progress=False)
    names = ["data/train.jsonl", "data/validation.jsonl", "data/test.jsonl", "pairs.jsonl", "stats.json", "README.md"]
    for name in names:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert json.loads((tmp_path / "ray" / "build_log.json").read_text())["engine"] == "ray"


def test_engine_choice_errors_are_clear():
    with pytest.raises(UserError, match="unknown engine"):
        make_engine("spark")
    with pytest.raises(UserError, match="needs --engine ray"):
        make_engine("local", address="auto")
