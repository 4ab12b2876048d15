"""Shared test helpers: the fixture folder, the shared real-manifest corpus, and a verifier factory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubedistill.verify import Verifier, VerifyConfig

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


def real_manifests_dir() -> Path | None:
    env = os.environ.get("KUBEDISTILL_REAL_MANIFESTS")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared" / "data" / "real-manifests"]
    return next((p for p in candidates if (p / "index.jsonl").exists()), None)


@pytest.fixture(scope="session")
def real_dir() -> Path:
    found = real_manifests_dir()
    if found is None:
        pytest.skip("shared real-manifest corpus not found (../shared/data/real-manifests or "
                    "$KUBEDISTILL_REAL_MANIFESTS)")
    return found


@pytest.fixture(scope="session")
def verifier() -> Verifier:
    return Verifier(VerifyConfig())


def rules_of(results) -> set[str]:
    return {f.rule for r in results for f in r.findings}


def errors_of(results) -> list:
    return [f for r in results for f in r.findings if f.is_error]
