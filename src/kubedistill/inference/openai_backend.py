"""The ``openai`` backend: the answers come from an OpenAI-compatible model server (vLLM serving the base model
with our LoRA adapter, llama.cpp's server, Ollama); kubedistill keeps the request reading, the verifying and the
repair loop, so ``kubedistill serve --backend openai`` is the verify-and-repair front of a GPU fleet.

    vllm serve Qwen/Qwen2.5-Coder-0.5B-Instruct --enable-lora --lora-modules kubedistill=runs/train/adapter
    kubedistill serve --backend openai --openai-base-url http://gpu:8000/v1 --model kubedistill

The server applies its own chat template to the messages. The key comes from $KUBEDISTILL_OPENAI_API_KEY, else
$OPENAI_API_KEY (a server without keys takes any). Retries are ours: backoff with jitter on 429 (honouring
Retry-After), 5xx, timeouts and dropped connections; a refused key, an unknown model or another 4xx stops at
once with a ``UserError`` naming the server, as does a server that cannot be reached when the backend loads.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubedistill.errors import UserError
from kubedistill.inference.backend import Generation, ModelRef, OnText

log = logging.getLogger(__name__)

API_KEY_ENVS = ("KUBEDISTILL_OPENAI_API_KEY", "OPENAI_API_KEY")
RETRIES = 4
"""Retries of one request after a 429, a 5xx, a timeout or a dropped connection (so 5 attempts)."""
BACKOFF = 1.0
"""First retry delay in seconds; doubles each retry (with jitter), capped at MAX_BACKOFF."""
MAX_BACKOFF = 30.0
CHARS_PER_TOKEN = 4
"""The estimate of token counts when a server reports no usage (English and YAML run 3-4 characters a token)."""
ADAPTER_HINT = ("load it into the model server and name it there, e.g. vllm serve Qwen/Qwen2.5-Coder-0.5B-Instruct "
                "--enable-lora --lora-modules kubedistill=runs/train/adapter, then pass --model kubedistill (and "
                "--hints as the adapter was trained: its kubedistill.json says)")
SERVER_HINT = ("start the model server (vllm serve MODEL, python -m llama_cpp.server --model X.gguf, ollama serve) "
               "or fix --openai-base-url (it usually ends in /v1)")


def openai_problems(ref: ModelRef) -> list[str]:
    """What keeps ``ref`` from running on the openai backend, found before any request is sent."""
    found = []
    if not ref.base_url:
        found.append("--backend openai needs --openai-base-url (the model server's endpoint, e.g. "
                     "http://127.0.0.1:8000/v1)")
    if ref.adapter:
        found.append(f"--adapter {ref.adapter} cannot be applied by --backend openai: the model server loads the "
                     "adapter, not kubedistill")
    if ref.timeout <= 0:
        found.append("--openai-timeout must be a positive number of seconds")
    return found


def api_key() -> str:
    return next((os.environ[name] for name in API_KEY_ENVS if os.environ.get(name)), "unused")


class OpenAIBackend:
    """Chat completions from a model server. Thread-safe: ``serve --concurrency N`` and ``eval -j N`` send N
    requests at once, and ``generate_batch`` sends a batch's requests together, for the server to batch."""

    name = "openai"

    def __init__(self, ref: ModelRef, sleep: Callable[[float], None] = time.sleep, retries: int = RETRIES) -> None:
        import openai

        if problems := openai_problems(ref):
            raise UserError("; ".join(problems), ADAPTER_HINT if ref.adapter else "")
        self.ref, self.url, self.sleep, self.retries = ref, ref.base_url.rstrip("/"), sleep, retries
        self.client = openai.OpenAI(base_url=self.url, api_key=api_key(), timeout=ref.timeout, max_retries=0)
        self.jitter = random.Random(0)
        self.lock = threading.Lock()
        self.estimated = False
        self.check_model()

    def check_model(self) -> None:
        """Fail now, not at the first request, when the server cannot be reached or does not serve the model. A
        server that does not list its models (404 on /models) is taken at its word until it answers."""
        import openai

        try:
            served = [m.id for m in self.client.with_options(timeout=min(self.ref.timeout, 30.0)).models.list()]
        except openai.APIConnectionError as exc:
            raise UserError(f"cannot reach the model server at {self.url}: {_cause(exc)}", SERVER_HINT) from None
        except openai.APIStatusError as exc:
            if exc.status_code in (404, 405, 501):
                return
            raise self._refusal(exc) from None
        if served and self.ref.model not in served and f"{self.ref.model}:latest" not in served:
            raise UserError(f"the model server at {self.url} does not serve {self.ref.model!r}; it serves "
                            f"{', '.join(served[:10])}", "pass one of those as --model (vLLM serves an adapter "
                            "under the NAME of --lora-modules NAME=PATH)")

    def generate(self, messages: list[dict[str, str]], max_new_tokens: int, temperature: float = 0.0,
                 seed: int = 0, on_text: OnText | None = None) -> Generation:
        params = {"model": self.ref.model, "messages": messages, "max_tokens": max_new_tokens,
                  "temperature": temperature, "top_p": 1.0, "seed": seed}
        if on_text is None:
            return self._retrying(lambda: self._complete(params))
        return self._retrying(lambda: self._stream(params, on_text))

    def generate_batch(self, conversations: list[list[dict[str, str]]], max_new_tokens: int,
                       temperature: float = 0.0, seed: int = 0) -> list[Generation]:
        """The batch's requests at once: the server batches them (vLLM's continuous batching). ``seconds`` of
        each result is its share of the batch's time, as with the transformers backend."""
        start = time.perf_counter()
        with ThreadPoolExecutor(len(conversations)) as pool:
            done = list(pool.map(lambda m: self.generate(m, max_new_tokens, temperature, seed), conversations))
        share = (time.perf_counter() - start) / len(done)
        return [Generation(g.text, g.tokens, g.prompt_tokens, share, g.truncated) for g in done]

    def _complete(self, params: dict[str, Any]) -> Generation:
        start = time.perf_counter()
        response = self.client.chat.completions.create(**params)
        seconds = time.perf_counter() - start
        choice = response.choices[0] if response.choices else None
        text = (choice.message.content if choice and choice.message else None) or ""
        tokens, prompt_tokens = self._usage(response.usage, params["messages"], text, None)
        return Generation(text, tokens, prompt_tokens, seconds, truncated=bool(choice) and
                          choice.finish_reason == "length")

    def _stream(self, params: dict[str, Any], on_text: OnText) -> Generation:
        """Streamed, each piece to ``on_text`` as it arrives. A stream that breaks after text was shown is not
        retried (the text would be shown twice): it is an error."""
        import openai

        pieces: list[str] = []
        finish, usage = None, None
        start = time.perf_counter()
        try:
            stream = self.client.chat.completions.create(**params, stream=True,
                                                         stream_options={"include_usage": True})
            for chunk in stream:
                usage = chunk.usage or usage
                for choice in chunk.choices:
                    if piece := choice.delta.content if choice.delta else None:
                        pieces.append(piece)
                        on_text(piece)
                    finish = choice.finish_reason or finish
        except (openai.APIError, ValueError) as exc:
            if not pieces:
                raise
            raise UserError(f"the model server at {self.url} broke off its answer after {len(pieces)} pieces: "
                            f"{_cause(exc)}", "retry; if it repeats, look at the model server's log") from None
        text = "".join(pieces)
        tokens, prompt_tokens = self._usage(usage, params["messages"], text, len(pieces))
        return Generation(text, tokens, prompt_tokens, time.perf_counter() - start, truncated=finish == "length")

    def _usage(self, usage: Any, messages: list[dict[str, str]], text: str, pieces: int | None) -> tuple[int, int]:
        """(answer tokens, prompt tokens) as the server counted them, else estimated: streamed pieces (servers
        send about one token each) or characters / CHARS_PER_TOKEN. An estimate is said once per backend as a
        warning where the counts are shown (serve's usage, eval's metrics: answers not streamed); a streamed one
        (``generate``, which shows no counts) only at debug level, so it does not cut into the streamed text."""
        if usage is not None and usage.completion_tokens is not None:
            return usage.completion_tokens, usage.prompt_tokens or 0
        with self.lock:
            said, self.estimated = self.estimated, self.estimated or pieces is None
        if pieces is not None or said:
            log.debug("the model server at %s reports no token usage; token counts are estimated", self.url)
        else:
            log.warning("the model server at %s reports no token usage; token counts are estimated (%d characters "
                        "a token)", self.url, CHARS_PER_TOKEN)
        prompt = sum(len(m.get("content", "")) for m in messages) // CHARS_PER_TOKEN
        return (pieces if pieces is not None else -(-len(text) // CHARS_PER_TOKEN)), prompt

    def _retrying(self, call: Callable[[], Generation]) -> Generation:
        import openai

        last = ""
        for attempt in range(self.retries + 1):
            delay = None
            try:
                return call()
            except openai.RateLimitError as exc:
                last, delay = f"429 {_said(exc)}", _retry_after(exc)
            except openai.APIStatusError as exc:
                if exc.status_code < 500:
                    raise self._refusal(exc) from None
                last = f"{exc.status_code} {_said(exc)}"
            except openai.APITimeoutError:
                last = f"no answer within {self.ref.timeout:g}s (--openai-timeout)"
            except (openai.APIConnectionError, openai.APIResponseValidationError, ValueError) as exc:
                last = f"{type(exc).__name__}: {_cause(exc)}"
            if attempt < self.retries:
                wait = delay if delay is not None else self._backoff(attempt)
                log.warning("the model server at %s failed (%s); retry %d of %d in %.1fs", self.url, last,
                            attempt + 1, self.retries, wait)
                self.sleep(wait)
        raise UserError(f"the model server at {self.url} failed {self.retries + 1} times; last: {last}", SERVER_HINT)

    def _refusal(self, exc: Any) -> UserError:
        """The error for a 4xx that retrying cannot fix."""
        status = exc.status_code
        if status in (401, 403):
            return UserError(f"the model server at {self.url} refused the API key ({status})",
                             f"set ${API_KEY_ENVS[0]} (or ${API_KEY_ENVS[1]}) to the key it expects")
        if status == 404:
            return UserError(f"the model server at {self.url} has no model {self.ref.model!r} or no such route "
                             f"(404: {_said(exc)})", "check --model against the server's models and that "
                             "--openai-base-url ends where its /models and /chat/completions are (usually /v1)")
        return UserError(f"the model server at {self.url} rejected the request ({status}): {_said(exc)}",
                         "a prompt plus --max-new-tokens beyond the server's context length is a common cause")

    def _backoff(self, attempt: int) -> float:
        with self.lock:
            return min(MAX_BACKOFF, BACKOFF * 2**attempt) * (0.5 + self.jitter.random() / 2)


def _retry_after(exc: Any) -> float | None:
    value = exc.response.headers.get("retry-after") if exc.response is not None else None
    try:
        return max(0.0, min(float(value), MAX_BACKOFF)) if value is not None else None
    except ValueError:
        return None


def _said(exc: Any) -> str:
    """What the server said in its error body: OpenAI's {"error": {"message"}} or vLLM's {"message"}."""
    body = exc.body.get("error", exc.body) if isinstance(exc.body, dict) else None
    said = body.get("message") if isinstance(body, dict) else body if isinstance(body, str) else None
    return str(said) if said else exc.message


def _cause(exc: BaseException) -> str:
    """The innermost reason of a client error ('Connection refused' rather than 'Connection error.')."""
    for _ in range(8):
        inner = exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
