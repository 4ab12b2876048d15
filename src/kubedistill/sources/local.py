"""A teacher running a local model (a Hugging Face directory or a GGUF file) through transformers.

For users with no API: the same prompts, the same parsing, the same cache as the OpenAI teacher. Weights are
loaded once, on the first request; generation is seeded per request so reruns are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubedistill.prompts import prompt_hash
from kubedistill.sources.cache import AnswerCache
from kubedistill.sources.teacher import TeacherAnswer, TeacherError, TeacherRequest, cached_answer


@dataclass
class LocalConfig:
    path: str = ""
    """A model directory (config.json, weights, tokenizer) or a .gguf file."""
    max_new_tokens: int = 1024
    temperature: float = 0.0
    """0 means greedy decoding."""
    cache_dir: str = ""


class LocalTeacher:
    name = "local"

    def __init__(self, config: LocalConfig) -> None:
        if not config.path or not Path(config.path).exists():
            raise TeacherError(f"local teacher model not found: {config.path!r}; set teacher.local.path to a model "
                               "directory (config.json, weights, tokenizer) or a .gguf file")
        self.config = config
        self.model = Path(config.path).name
        self.cache = AnswerCache(config.cache_dir) if config.cache_dir else None
        self._loaded: tuple[Any, Any] | None = None

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            try:
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError:
                raise TeacherError("the local teacher needs transformers and torch: "
                                   "pip install -e '.[train]'") from None
            path = Path(self.config.path)
            kwargs = {"gguf_file": path.name} if path.suffix == ".gguf" else {}
            where = str(path.parent if path.suffix == ".gguf" else path)
            tokenizer = AutoTokenizer.from_pretrained(where, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(where, **kwargs)
            model.eval()
            self._loaded = (tokenizer, model)
        return self._loaded

    def generate(self, messages: list[dict[str, str]], seed: int) -> str:
        import torch

        tokenizer, model = self._load()
        inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)
        torch.manual_seed(seed)
        sample = self.config.temperature > 0
        with torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=self.config.max_new_tokens, do_sample=sample,
                                    temperature=self.config.temperature if sample else None, top_p=None, top_k=None,
                                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
        return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)

    def answer(self, request: TeacherRequest) -> TeacherAnswer:
        key = prompt_hash(request.messages, model=str(self.config.path), temperature=self.config.temperature,
                          max_new_tokens=self.config.max_new_tokens, seed=request.seed)
        return cached_answer(request, self.cache, key, self.model,
                             lambda: (self.generate(request.messages, request.seed), 1, ""))
