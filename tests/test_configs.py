"""Every shipped config loads into its dataclass, states its command in the first line, and fails well."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from kubedistill.config import load_config
from kubedistill.corpus.build import CorpusConfig
from kubedistill.errors import UserError
from kubedistill.evaluation.ablate import AblateConfig
from kubedistill.pipeline.run import PipelineConfig
from kubedistill.sources.run import SourcesConfig
from kubedistill.train.lora import TrainConfig

CONFIG_TYPES = {"sources": SourcesConfig, "corpus": CorpusConfig, "train": TrainConfig, "eval": AblateConfig,
                "pipeline": PipelineConfig}
CONFIGS = sorted((REPO / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_config_loads(path: Path):
    config = load_config(CONFIG_TYPES[path.parent.name], str(path))
    assert path.read_text().startswith("# "), "the first line names the command that runs the config"
    assert f"kubedistill {path.parent.name}" in path.read_text().splitlines()[0] + path.read_text().splitlines()[1]
    if hasattr(config, "problems"):
        assert [p for p in config.problems() if "reverse.dir" not in p] == []


def test_every_problem_is_reported_at_once(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("seed: x\nsynthetic:\n  n: many\n  famlies: {}\nteacher: [1]\n")
    with pytest.raises(UserError) as info:
        load_config(SourcesConfig, str(path))
    message = str(info.value)
    for key in ("seed: expected int", "synthetic.n: expected int", "synthetic.famlies: unknown key",
                "teacher: expected a mapping"):
        assert key in message


def test_overrides_win_over_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seed: 1\nsynthetic:\n  n: 10\n")
    config = load_config(SourcesConfig, str(path), ["synthetic.n=25", "teacher.openai.temperature=0"])
    assert (config.seed, config.synthetic.n, config.teacher.openai.temperature) == (1, 25, 0.0)
    with pytest.raises(UserError, match="not key=value"):
        load_config(SourcesConfig, None, ["synthetic.n"])
