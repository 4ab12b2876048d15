"""Generation backends: one small interface over transformers (reference) and llama.cpp (fast CPU inference).

Both backends render the prompt with the model's own chat template through the Hugging Face tokenizer, so the
same messages give the same prompt text on either side; llama.cpp then only sees a plain completion request.
Decoding is greedy unless a temperature is given. ``on_text`` receives the answer as it is produced, for
streaming to a terminal or an HTTP client.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kubedistill.errors import UserError
from kubedistill.hardware import emulated_bf16, resolve_dtype
from kubedistill.inference.loops import CHECK_EVERY, LoopWatch, looped
from kubedistill.prompts import HINTS
from kubedistill.sources.store import read_json_object

log = logging.getLogger(__name__)

BACKENDS = ("auto", "transformers", "llamacpp", "openai")
DTYPES = ("auto", "float32", "bfloat16")
"""Weights and activations of the transformers backend. auto: bfloat16 on a GPU and on a CPU with native support
(avx512_bf16, AMX), where it halves memory traffic and runs about twice as fast; float32 on other CPUs, where
bfloat16 is emulated and slow (``kubedistill.hardware``)."""
OnText = Callable[[str], None]


@dataclass
class Generation:
    text: str
    tokens: int
    """Tokens generated (the answer only)."""
    prompt_tokens: int
    seconds: float
    truncated: bool
    """True when generation stopped at max_new_tokens instead of at end-of-turn."""
    looped: bool = False
    """True when generation was stopped because the answer kept repeating itself (``inference/loops.py``)."""

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ModelRef:
    """What to load: a model (registry name, hub id, directory or .gguf) and an optional LoRA adapter."""

    model: str
    adapter: str = ""
    backend: str = "transformers"
    cache_dir: str = ""
    threads: int = 0
    dtype: str = "auto"
    stop_loops: bool = True
    """Stop decoding once the answer repeats a block of lines (``inference/loops.py``); off only to measure."""
    base_url: str = ""
    """openai backend: the model server's OpenAI-compatible endpoint, e.g. http://gpu:8000/v1."""
    timeout: float = 600.0
    """openai backend: seconds to wait for one answer."""

    def problems(self) -> list[str]:
        found = []
        if self.backend not in BACKENDS:
            found.append(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.dtype not in DTYPES:
            found.append(f"unknown dtype {self.dtype!r}; choose one of {', '.join(DTYPES)}")
        if self.adapter and not Path(self.adapter).exists():
            found.append(f"adapter {self.adapter!r} does not exist")
        return found

    @property
    def ident(self) -> str:
        return self.model + (f"+{adapter_dir(self.adapter)}" if self.adapter else "")


class Backend(Protocol):
    name: str
    ref: ModelRef

    def generate(self, messages: list[dict[str, str]], max_new_tokens: int, temperature: float = 0.0,
                 seed: int = 0, on_text: OnText | None = None) -> Generation: ...


def adapter_dir(path: str) -> Path:
    """The PEFT adapter folder: the path itself, or the ``adapter/`` folder of a ``kubedistill train`` output."""
    root = Path(path)
    return root / "adapter" if (root / "adapter" / "adapter_config.json").exists() else root


ASKED_FILE = "kubedistill.json"
"""Written by ``kubedistill train`` beside the adapter: how its student was asked in training (prompt, hints)."""


def adapter_hints(path: str) -> str:
    """The hints an adapter was trained with, so that it is asked the same way by default: a student trained on
    requests with their checklist does worse without one, and one trained without does worse with one. "none" for
    no adapter, or an adapter trained before this was recorded."""
    if not path:
        return "none"
    marker = adapter_dir(path) / ASKED_FILE
    if not marker.is_file():
        return "none"
    hints = read_json_object(marker, "adapter", "delete it (the adapter is then asked without hints) or pass "
                             "--hints").get("hints", "none")
    if hints not in HINTS:
        raise UserError(f"adapter {marker}: hints {hints!r} is not one of {', '.join(HINTS)}", "pass --hints")
    return hints


def non_finite(tensors: Any) -> list[str]:
    """The names of the floating-point tensors among (name, tensor) pairs that hold NaN or infinity."""
    import torch

    return [name for name, tensor in tensors
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]


def read_adapter(folder: Path) -> dict[str, Any]:
    """The tensors of the adapter in ``folder``, refused when the file is damaged or any of them holds NaN or
    infinity.

    A run that diverged leaves such an adapter (every LoRA weight NaN after one non-finite update); loaded, it
    turns every answer into garbage with no error anywhere, and a second training stage started from it trains
    NaN too (both seen on a GPU run here before ``fit`` learned to skip non-finite steps)."""
    from safetensors.torch import load_file

    weights = folder / "adapter_model.safetensors"
    try:
        tensors = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error type for a damaged or truncated file
        raise UserError(f"adapter {weights}: cannot read it ({str(exc).splitlines()[0]})",
                        "the file is damaged or incomplete; copy or train it again") from None
    if bad := non_finite(tensors.items()):
        raise UserError(f"adapter {folder}: {len(bad)} tensors hold NaN or infinity, e.g. {sorted(bad)[0]}",
                        "the training run that wrote it diverged; train it again (kubedistill train skips "
                        "non-finite steps and stops when they repeat)")
    return tensors


def check_adapter_finite(path: str | Path) -> Path:
    """The adapter folder of ``path`` once ``read_adapter`` accepts it (a backend then loads it its own way)."""
    folder = adapter_dir(str(path))
    if (folder / "adapter_model.safetensors").is_file():  # not peft's older .bin: peft reports what is missing
        read_adapter(folder)
    return folder


def model_dir(ref: ModelRef) -> str:
    """A local directory (or hub id) with config, weights and tokenizer for ``ref.model``."""
    from kubedistill.models.registry import MODELS

    if ref.model in MODELS:
        from kubedistill.models.pull import pull

        return str(pull(ref.model, ref.cache_dir or None))
    return ref.model


LLAMACPP_INSTALL = ('CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" '
                    'pip install -e ".[llamacpp]"')
"""How to install the llama.cpp backend (as .ci/run does; it compiles llama.cpp, about 8 minutes on 2 cores)."""


def llamacpp_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


@functools.cache
def advise_llamacpp() -> None:
    """Say once per process, on a machine without a GPU, that ``auto`` fell back to the slower backend and how
    to install the fast one."""
    from kubedistill.hardware import cuda_available

    if not cuda_available():
        log.warning("--backend auto: llama.cpp is not installed, so transformers runs (several times slower on a "
                    "CPU); install it with: %s", LLAMACPP_INSTALL)


def resolve_backend(ref: ModelRef) -> str:
    """``auto``: llama.cpp when llama-cpp-python is installed and the model has GGUF weights, else transformers
    (saying once how to install llama.cpp where it is missing)."""
    if ref.backend != "auto":
        return ref.backend
    if not llamacpp_installed():
        advise_llamacpp()
        return "transformers"
    try:
        gguf_paths(ref)
    except UserError:
        return "transformers"
    return "llamacpp"


def load_backend(ref: ModelRef) -> Backend:
    problems = ref.problems()
    if problems:
        raise UserError("; ".join(problems))
    if ref.backend == "openai":  # answers from a model server (inference/openai_backend.py)
        from kubedistill.inference.openai_backend import OpenAIBackend

        return OpenAIBackend(ref)
    if resolve_backend(ref) == "llamacpp":
        return LlamaCppBackend(ref)
    return TransformersBackend(ref)


def _threads(ref: ModelRef) -> int:
    return ref.threads or os.cpu_count() or 1


class TransformersBackend:
    """The reference backend: a transformers model (GPU when there is one), with the PEFT adapter applied."""

    name = "transformers"

    def __init__(self, ref: ModelRef) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise UserError("the transformers backend needs torch and transformers", "pip install -e '.[train]'") \
                from None
        torch.set_num_threads(_threads(ref))
        self.ref = ref
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.dtype = resolve_dtype(ref.dtype, self.device)
        if warning := emulated_bf16(self.dtype, self.device):
            log.warning("%s", warning)
        path = model_dir(ref)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, self.dtype))
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot load model {ref.model!r}: {str(exc).splitlines()[0]}",
                            "give a registry name (kubedistill models list), a model directory or a hub id") from None
        if ref.adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(check_adapter_finite(ref.adapter)))
        self.model = model.to(self.device).eval()
        self.lock = threading.Lock()  # one generate at a time: torch already uses every core

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        return list(ids["input_ids"] if hasattr(ids, "keys") else ids)

    def generate(self, messages: list[dict[str, str]], max_new_tokens: int, temperature: float = 0.0,
                 seed: int = 0, on_text: OnText | None = None) -> Generation:
        import torch

        ids = self.prompt_ids(messages)
        streamer = callback_streamer(self.tokenizer, on_text) if on_text is not None else None
        stopper = self._loop_stopper(len(ids))
        with self.lock, torch.no_grad():
            torch.manual_seed(seed)
            start = time.perf_counter()
            output = self.model.generate(
                input_ids=torch.tensor([ids], device=self.device),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=self.device),
                streamer=streamer, **self._decoding(max_new_tokens, temperature, stopper))
            seconds = time.perf_counter() - start
        return self._finish(output[0, len(ids):].tolist(), len(ids), seconds, max_new_tokens,
                            stopper.fired.get(0) if stopper else None)

    def generate_batch(self, conversations: list[list[dict[str, str]]], max_new_tokens: int,
                       temperature: float = 0.0, seed: int = 0) -> list[Generation]:
        """Several prompts in one left-padded batch: a small model on a CPU spends most of each decoding step in
        per-step overhead, so a batch of 8 costs little more per step than one prompt. ``seconds`` of each
        result is its share of the batch's time."""
        import torch

        prompts = [self.prompt_ids(m) for m in conversations]
        width = max(len(p) for p in prompts)
        pad = self._pad_id()
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=self.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        stopper = self._loop_stopper(width)
        with self.lock, torch.no_grad():
            torch.manual_seed(seed)
            start = time.perf_counter()
            output = self.model.generate(input_ids=ids, attention_mask=mask,
                                         **self._decoding(max_new_tokens, temperature, stopper))
            seconds = (time.perf_counter() - start) / len(prompts)
        return [self._finish(row, len(prompt), seconds, max_new_tokens, stopper.fired.get(n) if stopper else None)
                for n, (row, prompt) in enumerate(zip(output[:, width:].tolist(), prompts, strict=True))]

    def _pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return pad if pad is not None else self.tokenizer.eos_token_id

    def _decoding(self, max_new_tokens: int, temperature: float, stopper: Any = None) -> dict:
        """generate() settings: greedy unless a temperature is given, and no sampling filters of the model's own
        generation config (top_p/top_k) slipping in."""
        from transformers import StoppingCriteriaList

        sample = temperature > 0
        return {"max_new_tokens": max_new_tokens, "do_sample": sample, "temperature": temperature if sample else None,
                "top_p": None, "top_k": None, "pad_token_id": self._pad_id(),
                **({"stopping_criteria": StoppingCriteriaList([stopper])} if stopper else {})}

    def _loop_stopper(self, start: int) -> Any:
        if not self.ref.stop_loops:
            return None
        return loop_stopper(self.tokenizer, start, _stop_ids(self.model.generation_config, self.tokenizer))

    def _finish(self, new: list[int], prompt_tokens: int, seconds: float, max_new_tokens: int,
                looped_at: int | None = None) -> Generation:
        """The answer up to and including its first end-of-turn token (a batch row is padded after it), or up to
        where the loop stopper ended it."""
        if looped_at is not None:
            new = new[:looped_at]
        stops = _stop_ids(self.model.generation_config, self.tokenizer)
        end = next((i + 1 for i, token in enumerate(new) if token in stops), None)
        new = new[:end] if end else new
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        return Generation(text, len(new), prompt_tokens, seconds, looped=looped_at is not None,
                          truncated=end is None and looped_at is None and len(new) >= max_new_tokens)


def _stop_ids(generation_config: Any, tokenizer: Any) -> set[int]:
    eos = generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def loop_stopper(tokenizer: Any, start: int, stops: set[int]) -> Any:
    """A stopping criterion that ends each row of a generate() batch once its answer (the tokens after ``start``)
    falls into a loop, checked every ``CHECK_EVERY`` tokens; ``fired`` maps each row it ended to the answer's
    length then. Rows that already ended their turn are left alone."""
    import torch
    from transformers import StoppingCriteria

    class LoopStopper(StoppingCriteria):
        def __init__(self) -> None:
            self.fired: dict[int, int] = {}

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            length = input_ids.shape[1] - start
            if length == 0 or length % CHECK_EVERY:
                return done
            for row, ids in enumerate(input_ids[:, start:].tolist()):
                if row in self.fired or stops.intersection(ids):
                    continue
                if looped(tokenizer.decode(ids, skip_special_tokens=True)):
                    self.fired[row] = length
                    done[row] = True
            return done

    return LoopStopper()


def callback_streamer(tokenizer: Any, callback: OnText) -> Any:
    """transformers' own incremental decoder (it holds back partial words), printing into a callback."""
    from transformers import TextStreamer

    class CallbackStreamer(TextStreamer):
        def __init__(self, tokenizer: Any, callback: OnText) -> None:
            super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
            self.callback = callback

        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text:
                self.callback(text)

    return CallbackStreamer(tokenizer, callback)


class LlamaCppBackend:
    """llama.cpp through llama-cpp-python: the quantized GGUF plus a GGUF LoRA adapter, several times faster on
    CPU than fp32 transformers. The prompt is rendered with the Hugging Face chat template (same text as the
    reference backend) and sent as a raw completion."""

    name = "llamacpp"

    def __init__(self, ref: ModelRef) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise UserError("the llamacpp backend needs llama-cpp-python",
                            "pip install -e '.[llamacpp]' (compiles llama.cpp, about 8 minutes on 2 cores)") from None
        from transformers import AutoConfig, AutoTokenizer

        self.ref = ref
        gguf, hf_dir = gguf_paths(ref)
        self.tokenizer = AutoTokenizer.from_pretrained(hf_dir)
        lora = ""
        if ref.adapter:
            from kubedistill.train.gguf_lora import ensure_gguf_adapter

            lora = str(ensure_gguf_adapter(check_adapter_finite(ref.adapter), AutoConfig.from_pretrained(hf_dir)))
        with _quiet_native_stderr():  # llama.cpp logs LoRA buffer choices to fd 2 even with verbose=False
            self.llm = Llama(model_path=str(gguf), lora_path=lora or None, n_ctx=4096, n_threads=_threads(ref),
                             n_batch=512, verbose=False, seed=0)
        self.lock = threading.Lock()
        atexit.register(self.llm.close)  # free the model before interpreter teardown (its __del__ fails there)

    def generate(self, messages: list[dict[str, str]], max_new_tokens: int, temperature: float = 0.0,
                 seed: int = 0, on_text: OnText | None = None) -> Generation:
        prompt = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        pieces: list[str] = []
        finish = None
        watch = LoopWatch() if self.ref.stop_loops else None
        with self.lock:
            self.llm.reset()
            self.llm.set_seed(seed)
            start = time.perf_counter()
            stream = self.llm.create_completion(ids, max_tokens=max_new_tokens, temperature=temperature,
                                                top_k=1 if temperature <= 0 else 40, top_p=1.0, min_p=0.0,
                                                repeat_penalty=1.0, seed=seed, stream=True)
            tokens = 0
            for chunk in stream:
                choice = chunk["choices"][0]
                text = choice.get("text") or ""
                tokens += 1
                if text:
                    pieces.append(text)
                    if on_text is not None:
                        on_text(text)
                finish = choice.get("finish_reason") or finish
                if watch is not None and watch.feed(text):
                    stream.close()  # ends llama.cpp's decoding loop here
                    finish = "loop"
                    break
            seconds = time.perf_counter() - start
        text = "".join(pieces)
        counted = len(self.tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0
        return Generation(text, counted or tokens, len(ids), seconds, truncated=finish == "length",
                          looped=finish == "loop")


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence what native code writes to file descriptor 2 while loading (Python's sys.stderr is unaffected)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def gguf_paths(ref: ModelRef) -> tuple[Path, str]:
    """(GGUF weights, a directory with the Hugging Face tokenizer and config) for the llama.cpp backend."""
    from kubedistill.models.registry import MODELS

    if ref.model in MODELS:
        from kubedistill.models.pull import assemble, cache_root

        hf_dir = model_dir(ref)  # pulls (and converts) once, for the tokenizer and chat template
        return assemble(MODELS[ref.model], cache_root(ref.cache_dir or None)), hf_dir
    path = Path(ref.model)
    if path.suffix == ".gguf" and path.is_file():
        return path, str(path.parent)
    if path.is_dir():
        meta = path / "kubedistill-model.json"
        if meta.exists():
            from kubedistill.models.pull import cache_root

            source = json.loads(meta.read_text())["source"]
            for candidate in (path.parent.parent / "gguf" / source, cache_root() / "gguf" / source):
                if candidate.exists():
                    return candidate, str(path)
        found = sorted(path.glob("*.gguf"))
        if found:
            return found[0], str(path)
    raise UserError(f"no GGUF weights for {ref.model!r}", "the llamacpp backend needs a registry name, a .gguf file "
                    "or a directory holding one beside its tokenizer")
