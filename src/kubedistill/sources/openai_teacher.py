"""A teacher behind any OpenAI-compatible chat-completions endpoint, through the official ``openai`` client.

Retries are ours, not the client's: exponential backoff with jitter on 429 (honouring Retry-After), 5xx,
timeouts, dropped connections and malformed responses; no retry on other 4xx. Authentication and
unknown-model errors stop the run (``TeacherError``): every request would fail the same way. Answers are
cached on disk by prompt hash before they are parsed, so a rerun never pays twice.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import openai

from kubedistill.prompts import prompt_hash
from kubedistill.sources.cache import AnswerCache
from kubedistill.sources.teacher import TeacherAnswer, TeacherError, TeacherRequest, cached_answer

log = logging.getLogger(__name__)


@dataclass
class OpenAIConfig:
    """Connection and request settings; base URL, model and key fall back to environment variables."""

    model: str = ""
    """Model name; default from $KUBEDISTILL_TEACHER_MODEL or $OPENAI_MODEL."""
    base_url: str = ""
    """Endpoint, e.g. http://127.0.0.1:8080/v1; default from $OPENAI_BASE_URL (else api.openai.com)."""
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the environment variable that holds the key (the key itself never goes into a config file)."""
    timeout: float = 120.0
    max_retries: int = 5
    backoff: float = 1.0
    """First retry delay in seconds; doubles each attempt (with jitter), capped at max_backoff."""
    max_backoff: float = 60.0
    temperature: float = 0.7
    max_tokens: int = 2048
    cache_dir: str = ""


class OpenAITeacher:
    name = "openai"

    def __init__(self, config: OpenAIConfig, sleep: Callable[[float], None] = time.sleep, seed: int = 0) -> None:
        self.config = config
        self.model = config.model or os.environ.get("KUBEDISTILL_TEACHER_MODEL") or os.environ.get("OPENAI_MODEL", "")
        if not self.model:
            raise TeacherError("no teacher model: set teacher.openai.model in the config or $KUBEDISTILL_TEACHER_MODEL")
        base_url = config.base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = os.environ.get(config.api_key_env) or ("not-needed" if base_url else "")
        if not key:
            raise TeacherError(f"no API key: set ${config.api_key_env} (or point base_url at a local server)")
        self.client = openai.OpenAI(base_url=base_url, api_key=key, timeout=config.timeout, max_retries=0)
        self.cache = AnswerCache(config.cache_dir) if config.cache_dir else None
        self.sleep = sleep
        self.jitter = random.Random(seed)

    def answer(self, request: TeacherRequest) -> TeacherAnswer:
        params = {"model": self.model, "temperature": self.config.temperature, "max_tokens": self.config.max_tokens}
        key = prompt_hash(request.messages, **params)
        return cached_answer(request, self.cache, key, self.model, lambda: self._complete(request.messages, params))

    def _complete(self, messages: list[dict], params: dict) -> tuple[str, int, str]:
        """(text, attempts, error): the first successful completion, or why there is none."""
        last = ""
        for attempt in range(self.config.max_retries + 1):
            try:
                response = self.client.chat.completions.create(messages=messages, **params)
                choice = response.choices[0] if response.choices else None
                content = choice.message.content if choice and choice.message else None
                return content or "", attempt + 1, "" if content else "empty answer"
            except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
                raise TeacherError(f"the teacher endpoint refused the key ({exc.status_code}): check "
                                   f"${self.config.api_key_env}") from None
            except openai.NotFoundError as exc:
                raise TeacherError(f"the teacher endpoint has no model {self.model!r} ({exc.status_code})") from None
            except openai.RateLimitError as exc:
                last, delay = f"429 rate limited: {exc.message}", _retry_after(exc)
            except openai.APIStatusError as exc:
                if exc.status_code < 500:
                    return "", attempt + 1, f"rejected by the endpoint ({exc.status_code}): {exc.message}"
                last, delay = f"{exc.status_code} server error", None
            except openai.APITimeoutError:
                last, delay = f"timed out after {self.config.timeout}s", None
            except (openai.APIConnectionError, openai.APIResponseValidationError, ValueError, KeyError,
                    IndexError, TypeError) as exc:
                last, delay = f"malformed or dropped response: {type(exc).__name__}", None
            if attempt < self.config.max_retries:
                wait = delay if delay is not None else self._backoff(attempt)
                log.info("teacher request failed (%s); retry %d in %.1fs", last, attempt + 1, wait)
                self.sleep(wait)
        return "", self.config.max_retries + 1, f"gave up after {self.config.max_retries + 1} attempts: {last}"

    def _backoff(self, attempt: int) -> float:
        base = min(self.config.max_backoff, self.config.backoff * 2**attempt)
        return base * (0.5 + self.jitter.random() / 2)


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after") if exc.response is not None else None
    try:
        return max(0.0, min(float(value), 300.0)) if value is not None else None
    except ValueError:
        return None
