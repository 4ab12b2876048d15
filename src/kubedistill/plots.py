"""Plot helpers shared by the reports: a headless matplotlib and one way to save a figure (90 dpi, no software
stamp, so the same data gives the same PNG bytes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path, tight: bool = True) -> None:
    """``tight=False`` keeps a layout the caller set itself (``subplots_adjust``)."""
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=90, metadata={"Software": None})
    pyplot().close(fig)
