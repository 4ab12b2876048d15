"""What this machine computes natively, and so what ``dtype: auto`` means for training and evaluation.

bfloat16 halves the memory traffic of a small model's weights; on a CPU with bfloat16 instructions (AVX512-BF16,
AMX) a LoRA step and a decoding step run about twice as fast as in float32 (measured on this project's 2-core
EPYC; see ``train/lora.py``). A CPU without them emulates bfloat16 arithmetic through float32 conversions, which
is slow, so there ``auto`` means float32.

    python -m kubedistill.hardware      # prints what auto picks here and why
"""

from __future__ import annotations

import functools
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
"""x86 flags (as /proc/cpuinfo spells them) of native bfloat16 arithmetic."""


def cpu_flags(cpuinfo: Path | None = None) -> frozenset[str]:
    """The CPU's feature flags from the first ``flags`` line of ``cpuinfo`` (default ``CPUINFO``); empty where
    the file is missing (macOS, Windows) or holds no such line."""
    return _flags(cpuinfo or CPUINFO)


@functools.cache
def _flags(cpuinfo: Path) -> frozenset[str]:
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    line = next((line for line in text.splitlines() if line.split(":")[0].strip() == "flags"), "")
    return frozenset(line.partition(":")[2].split())


def native_bf16(cpuinfo: Path | None = None) -> bool:
    """Whether the CPU computes bfloat16 natively. torch has no report of its own for this: its oneDNN check
    (``torch.ops.mkldnn._is_mkldnn_bf16_supported``) also accepts plain AVX-512, where bfloat16 is emulated."""
    return any(flag in cpu_flags(cpuinfo) for flag in BF16_FLAGS)


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def auto_dtype(device: str | None = None, cpuinfo: Path | None = None) -> str:
    """What ``dtype: auto`` is on ``device`` (default: cuda when there is one, else cpu): bfloat16 on a GPU and
    on a CPU with native bfloat16, float32 on other CPUs."""
    device = device or ("cuda" if cuda_available() else "cpu")
    return "bfloat16" if device.startswith("cuda") or native_bf16(cpuinfo) else "float32"


def resolve_dtype(dtype: str, device: str | None = None, cpuinfo: Path | None = None) -> str:
    return auto_dtype(device, cpuinfo) if dtype == "auto" else dtype


def emulated_bf16(dtype: str, device: str, cpuinfo: Path | None = None) -> str:
    """A warning when ``dtype`` asks for bfloat16 on a CPU that emulates it; "" otherwise."""
    if dtype != "bfloat16" or not device.startswith("cpu") or native_bf16(cpuinfo):
        return ""
    return ("bfloat16 on this CPU is emulated (no avx512_bf16 or amx_bf16 flag) and slow; use dtype auto or "
            "float32 here")


def describe(cpuinfo: Path | None = None) -> dict:
    """The machine facts a benchmark records beside its figures."""
    import os

    try:
        text = (cpuinfo or CPUINFO).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    model = next((line.partition(":")[2].strip() for line in text.splitlines() if line.startswith("model name")),
                 "")
    flags = cpu_flags(cpuinfo)
    return {"cpu": model, "cores": os.cpu_count(), "cuda": cuda_available(),
            **{flag: flag in flags for flag in ("avx2", "avx512f", *BF16_FLAGS)},
            "auto_dtype": auto_dtype(cpuinfo=cpuinfo)}


if __name__ == "__main__":
    import json

    print(json.dumps(describe(), indent=2))
