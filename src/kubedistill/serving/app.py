"""The OpenAI-compatible HTTP server: ``/v1/models``, ``/v1/chat/completions`` (plain and streaming),
``/v1/validate`` and ``/healthz``, on FastAPI.

Every answer is verified (L1-L4) and repaired before it is returned, and the verdict travels in the response
under ``kubedistill``. Because the answer that is returned is the verified one, a streaming request receives
that final answer as a stream of chunks once it is known, not the raw tokens of a first draft that the repair
loop might replace. The model is loaded once; generation runs in worker threads, at most ``concurrency`` at a
time, with at most ``queue_size`` requests waiting; beyond that a request gets 429 at once. Bodies above
``max_body_bytes`` get 413, malformed requests 400 in the OpenAI error shape, and nothing ever answers with a
traceback. Inputs are only ever read as text: nothing is executed or applied to a cluster.
"""


import asyncio
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from kubedistill.context.edit import edit_spec, split_edit
from kubedistill.context.request import read_request
from kubedistill.context.spec import TaskSpec
from kubedistill.errors import out_of_memory
from kubedistill.inference.backend import Backend
from kubedistill.inference.repair import DEFAULT_REPAIR_STYLE, Outcome, solve
from kubedistill.prompts import hinted, system_prompt
from kubedistill.verify import Verifier

ROLES = ("system", "user", "assistant")


@dataclass
class ServerSettings:
    model_name: str = "kubedistill"
    """The id clients send as ``model`` and see in /v1/models."""
    api_key: str = ""
    prompt: str = "strict"
    """strict | plain | a prompt file: our system prompt replaces the client's (the specialist was trained with
    it)."""
    repair: int = 2
    repair_style: str = DEFAULT_REPAIR_STYLE
    """restate | chat: how a repair round asks again (see ``inference/repair.py``)."""
    check_request: bool = True
    """Hold each answer to the requirements the last user message states outright (``context/request.py``)."""
    hints: str = "none"
    """none | request: the last user message reaches the model with its checklist (``prompts.hinted``)."""
    max_new_tokens: int = 768
    """Default and cap for max_tokens / max_completion_tokens."""
    max_body_bytes: int = 256 * 1024
    concurrency: int = 1
    queue_size: int = 16
    stream_chunk_chars: int = 24


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


@dataclass
class Gate:
    """Admission control: ``concurrency`` running, ``queue_size`` waiting, the rest refused (429)."""

    concurrency: int
    queue_size: int
    waiting: int = 0
    running: int = 0
    served: int = 0
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.concurrency)

    def admit(self) -> None:
        with self.lock:
            if self.waiting + self.running >= self.concurrency + self.queue_size:
                self.refused += 1
                raise ApiError(429, "the server is busy: too many requests are queued; retry later",
                               "rate_limit_error", code="queue_full", headers={"Retry-After": "1"})
            self.waiting += 1


def parse_chat_request(body: Any, settings: ServerSettings) -> tuple[list[dict[str, str]], int, float, bool]:
    """The conversation, max tokens, temperature and stream flag of a chat request, or a 400 naming the field."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list", param="messages")
    conversation = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ApiError(400, f"messages[{i}] must be an object", param=f"messages[{i}]")
        role, content = message.get("role"), message.get("content")
        if role not in (*ROLES, "developer"):
            raise ApiError(400, f"messages[{i}].role must be one of system, developer, user, assistant",
                           param=f"messages[{i}].role")
        if isinstance(content, list):  # content parts: keep the text ones
            parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
            if len(parts) != len(content):
                raise ApiError(400, f"messages[{i}].content: only text parts are supported",
                               param=f"messages[{i}].content")
            content = "".join(parts)
        if not isinstance(content, str):
            raise ApiError(400, f"messages[{i}].content must be a string", param=f"messages[{i}].content")
        if role in ("system", "developer"):
            continue  # replaced by the server's own system prompt
        conversation.append({"role": role, "content": content})
    if not conversation or conversation[-1]["role"] != "user":
        raise ApiError(400, "the last message must come from the user", param="messages")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is None:
        limit = settings.max_new_tokens
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ApiError(400, "max_tokens must be a positive integer", param="max_tokens")
    temperature = body.get("temperature", 0.0)
    if temperature is None:
        temperature = 0.0
    if not isinstance(temperature, int | float) or isinstance(temperature, bool) or not 0 <= temperature <= 2:
        raise ApiError(400, "temperature must be a number from 0 to 2", param="temperature")
    if body.get("n", 1) not in (1, None):
        raise ApiError(400, "only n=1 is supported", param="n")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "stream must be true or false", param="stream")
    messages_out = [{"role": "system", "content": system_prompt(settings.prompt)}, *conversation]
    return messages_out, min(limit, settings.max_new_tokens), float(temperature), stream


def _requirements(spec: TaskSpec | None) -> list[dict]:
    """The requirements read from a request, as the response shows them."""
    return [o.to_dict() for o in spec.objects] if spec else []


def verdict_metadata(outcome: Outcome, spec: TaskSpec | None = None) -> dict:
    verdict = outcome.best.verdict
    return {"verdict": {"passed": verdict.passed, "failed_level": verdict.failed_level, "rules": verdict.rules,
                        "findings": [f for f in verdict.findings if f.get("severity") == "error"][:20]},
            "attempts": len(outcome.attempts), "repaired": len(outcome.attempts) > 1 and verdict.passed,
            "first_attempt_passed": outcome.first.verdict.passed,
            "requirements": _requirements(spec)}


def create_app(backend: Backend, verifier: Verifier, settings: ServerSettings) -> Any:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, StreamingResponse

    app = FastAPI(title="kubedistill", docs_url=None, redoc_url=None, openapi_url=None)
    system_prompt(settings.prompt)  # a prompt file is read now, once: a bad one fails here, not on a request
    gate = Gate(settings.concurrency, settings.queue_size)
    app.state.gate = gate

    def error_response(exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # never a traceback to a client
        if out_of_memory(exc):  # the model could not hold this request now: a client can retry, or ask less
            return error_response(ApiError(
                503, "the server ran out of memory generating this answer; retry later or with a smaller max_tokens",
                "server_error", code="out_of_memory", headers={"Retry-After": "1"}))
        return error_response(ApiError(500, "internal error while serving the request", "server_error"))

    @app.exception_handler(404)
    async def _not_found(request: Request, exc: Exception) -> JSONResponse:
        return error_response(ApiError(404, f"no route {request.url.path}", code="not_found"))

    @app.exception_handler(405)
    async def _bad_method(request: Request, exc: Exception) -> JSONResponse:
        return error_response(ApiError(405, f"{request.method} is not allowed on {request.url.path}"))

    @app.middleware("http")
    async def _auth(request: Request, call_next: Any) -> Any:
        if settings.api_key and request.url.path.startswith("/v1/"):
            header = request.headers.get("authorization", "")
            token = header[7:] if header.lower().startswith("bearer ") else ""
            if not hmac.compare_digest(token.encode(), settings.api_key.encode()):
                return error_response(ApiError(401, "invalid or missing API key", "authentication_error",
                                               code="invalid_api_key"))
        return await call_next(request)

    async def read_json(request: Request) -> Any:
        too_large = ApiError(413, f"the request body is larger than {settings.max_body_bytes} bytes",
                             code="request_too_large")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise too_large
        body = bytearray()
        async for chunk in request.stream():  # a missing or false length header is caught here
            body += chunk
            if len(body) > settings.max_body_bytes:
                raise too_large
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"the request body is not valid JSON: {exc}") from None

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok", "model": settings.model_name, "running": gate.running, "waiting": gate.waiting,
                "served": gate.served, "refused": gate.refused}

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": settings.model_name, "object": "model", "created": 0,
                                            "owned_by": "kubedistill"}]}

    async def run_generation(messages: list[dict[str, str]], limit: int, temperature: float,
                             spec: TaskSpec | None) -> Outcome:
        gate.admit()
        acquired = False
        try:
            await gate.slots.acquire()
            acquired = True
        finally:  # a client that disconnects while queued leaves the queue
            with gate.lock:
                gate.waiting -= 1
                gate.running += int(acquired)
        try:
            return await asyncio.to_thread(solve, backend, verifier, messages, spec, settings.repair, limit,
                                           temperature, repair_style=settings.repair_style)
        finally:
            gate.slots.release()
            with gate.lock:
                gate.running -= 1
                gate.served += 1

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        body = await read_json(request)
        messages, limit, temperature, stream = parse_chat_request(body, settings)
        requested = body.get("model") or settings.model_name
        if requested != settings.model_name:
            raise ApiError(404, f"model {requested!r} is not served here; use {settings.model_name!r}",
                           param="model", code="model_not_found")
        request_text = messages[-1]["content"]
        if pasted := split_edit(request_text):  # a message holding YAML is an edit: keep the input's objects
            spec = edit_spec(*pasted, read=settings.check_request)
        else:
            spec = read_request(request_text) if settings.check_request else None
        if settings.hints != "none":  # the spec above is read from the request alone, not from its checklist
            messages = [*messages[:-1], {"role": "user", "content": hinted(request_text, settings.hints)}]
        outcome = await run_generation(messages, limit, temperature, spec)
        final = outcome.best
        content = final.verdict.manifest or final.text
        finish = "length" if final.truncated else "stop"
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        usage = {"prompt_tokens": sum(a.prompt_tokens for a in outcome.attempts),
                 "completion_tokens": sum(a.tokens for a in outcome.attempts)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        meta = verdict_metadata(outcome, spec)
        if not stream:
            return {"id": ident, "object": "chat.completion", "created": created, "model": settings.model_name,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": finish}], "usage": usage, "kubedistill": meta}

        def events():
            base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": settings.model_name}
            first = {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                          "finish_reason": None}]}
            yield f"data: {json.dumps(first)}\n\n"
            size = settings.stream_chunk_chars
            for start in range(0, len(content), size):
                piece = {**base, "choices": [{"index": 0, "delta": {"content": content[start:start + size]},
                                              "finish_reason": None}]}
                yield f"data: {json.dumps(piece)}\n\n"
            last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}], "usage": usage,
                    "kubedistill": meta}
            yield f"data: {json.dumps(last)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.post("/v1/validate")
    async def validate(request: Request) -> dict:
        body = await read_json(request)
        manifest = body.get("manifest") if isinstance(body, dict) else None
        if not isinstance(manifest, str):
            raise ApiError(400, "'manifest' must be a string holding YAML", param="manifest")
        wanted = body.get("request", "")
        if not isinstance(wanted, str):
            raise ApiError(400, "'request' must be a string: the request the manifest should meet", param="request")
        original = body.get("input", "")
        if not isinstance(original, str):
            raise ApiError(400, "'input' must be a string: the manifests the edited 'manifest' started from",
                           param="input")
        spec = edit_spec(wanted, original) if original.strip() else (read_request(wanted) if wanted else None)
        results = await asyncio.to_thread(verifier.verify_text, manifest, "request.yaml", spec)
        documents = [r.to_dict() for r in results]
        return {"passed": all(r.passed for r in results) and any(r.status == "valid" for r in results),
                "documents": documents, "requirements": _requirements(spec)}

    return app
