"""A real OpenAI-compatible chat-completions server on loopback, with scripted faults, for teacher tests.

Each request takes the next behaviour from a script (or the default): ok, prose, empty, 429 (with
Retry-After), 500, slow (sleeps past the client timeout), truncated (half a JSON body), 401, length (the answer
cut at max_tokens), nousage (no token counts). A request with ``stream: true`` gets the answer as server-sent
events. ``GET /v1/models`` lists ``models`` when given, else answers 404 (a server that does not list them).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = """INSTRUCTION: Create a ConfigMap named app-config with LOG_LEVEL=debug.
```yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  LOG_LEVEL: debug
```"""


class ChatServer:
    def __init__(self, script: list[str] | None = None, default: str = "ok", answer: str = ANSWER,
                 models: list[str] | None = None) -> None:
        self.script, self.default, self.answer, self.models = list(script or []), default, answer, models
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server.lock:
                    server.requests.append(body)
                    behaviour = server.script.pop(0) if server.script else server.default
                server.respond(self, behaviour, body)

            def do_GET(self) -> None:
                found = self.path.rstrip("/").endswith("/models") and server.models is not None
                data = json.dumps({"object": "list", "data": [{"id": m, "object": "model"} for m in server.models]}
                                  if found else {"error": {"message": "no route", "type": "test"}}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def respond(self, handler: BaseHTTPRequestHandler, behaviour: str, body: dict) -> None:
        if behaviour == "slow":
            time.sleep(1.5)
            behaviour = "ok"
        status, headers, payload = 200, {}, None
        if behaviour in ("ok", "prose", "empty", "length", "nousage"):
            content = {"prose": f"Sure! Here you go.\n{self.answer}\nHope this helps!", "empty": ""}.get(behaviour,
                                                                                                      self.answer)
            finish = "length" if behaviour == "length" else "stop"
            usage = None if behaviour == "nousage" else {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
            if body.get("stream"):
                self.stream(handler, content, finish, usage if (body.get("stream_options") or {}).get(
                    "include_usage") else None)
                return
            payload = json.dumps({"id": "c1", "object": "chat.completion", "created": 0, "model": body.get("model"),
                                  "choices": [{"index": 0, "finish_reason": finish,
                                               "message": {"role": "assistant", "content": content}}],
                                  **({"usage": usage} if usage else {})})
        elif behaviour == "truncated":
            payload = '{"id": "c1", "object": "chat.completion", "choices": [{"index": 0, "message": {"rol'
        else:
            status = {"429": 429, "500": 500, "401": 401, "404": 404, "400": 400}[behaviour]
            headers = {"Retry-After": "0"} if status == 429 else {}
            payload = json.dumps({"error": {"message": f"scripted {behaviour}", "type": "test"}})
        data = payload.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            handler.send_header(key, value)
        try:
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test): nothing to answer

    def stream(self, handler: BaseHTTPRequestHandler, content: str, finish: str, usage: dict | None) -> None:
        """The answer as server-sent events, a word at a time, then the finish reason and, if asked, the usage."""
        base = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m"}
        words = [w for w in content.split(" ")]
        chunks = [{"choices": [{"index": 0, "delta": {"content": w + (" " if i < len(words) - 1 else "")},
                                "finish_reason": None}]} for i, w in enumerate(words)]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if usage:
            chunks.append({"choices": [], "usage": usage})
        data = "".join(f"data: {json.dumps(base | c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Content-Length", str(len(data.encode())))
        handler.end_headers()
        handler.wfile.write(data.encode())
