"""``kubedistill serve``: the specialist behind an OpenAI-compatible API (see ``serving/app.py``).

    kubedistill serve --model qwen2.5-coder-0.5b-instruct --adapter runs/train --port 8000
    OPENAI_BASE_URL=http://127.0.0.1:8000/v1 OPENAI_API_KEY=unused your-openai-tool ...
    kubedistill serve --backend openai --openai-base-url http://gpu:8000/v1 --model kubedistill --concurrency 16

Binds loopback by default; binding any other address requires an API key (``--api-key`` or
``KUBEDISTILL_API_KEY``). The model loads once before the port opens; SIGINT/SIGTERM stop accepting
connections and let running requests finish (up to ``--graceful-timeout`` seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import signal
import sys

from kubedistill.errors import EXIT_OK, UserError
from kubedistill.inference.backend import adapter_hints
from kubedistill.inference.command import add_model_arguments, model_ref, verifier_for
from kubedistill.serving.app import ServerSettings

LOOPBACK_NAMES = ("localhost",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port, printed at start)")
    parser.add_argument("--api-key", default=os.environ.get("KUBEDISTILL_API_KEY", ""),
                        help="require 'Authorization: Bearer KEY' (default $KUBEDISTILL_API_KEY)")
    parser.add_argument("--served-model-name", default="", help="model id clients use (default: --model's name)")
    parser.add_argument("--concurrency", type=int, default=1, help="requests generating at once")
    parser.add_argument("--queue-size", type=int, default=16, help="requests waiting before 429")
    parser.add_argument("--max-body-bytes", type=int, default=256 * 1024)
    parser.add_argument("--graceful-timeout", type=int, default=30)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_from(args: argparse.Namespace) -> ServerSettings:
    problems = []
    if not is_loopback(args.host) and not args.api_key:
        problems.append(f"binding {args.host} exposes the server beyond this machine: an API key is required "
                        "(--api-key or KUBEDISTILL_API_KEY)")
    for name in ("concurrency", "max_body_bytes"):
        if getattr(args, name) < 1:
            problems.append(f"--{name.replace('_', '-')} must be at least 1")
    if args.queue_size < 0 or not 0 <= args.port <= 65535:
        problems.append("--queue-size must be >= 0 and --port in 0-65535")
    if problems:
        raise UserError("; ".join(problems))
    name = args.served_model_name or os.path.basename(os.path.normpath(args.model))
    return ServerSettings(model_name=name, api_key=args.api_key, prompt=args.prompt, repair=args.repair,
                          repair_style=args.repair_style, check_request=args.check_request,
                          hints=args.hints or adapter_hints(args.adapter),
                          max_new_tokens=args.max_new_tokens, max_body_bytes=args.max_body_bytes,
                          concurrency=args.concurrency, queue_size=args.queue_size)


def _server_class() -> type:
    import uvicorn

    class GracefulServer(uvicorn.Server):
        """uvicorn re-raises SIGTERM after its graceful shutdown, so the process dies 'killed by signal'; a finished
        shutdown is a normal exit here (code 0). First signal: stop accepting, finish running requests; second:
        stop now."""

        @contextlib.contextmanager
        def capture_signals(self):
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.handle_exit, sig, None)
            try:
                yield
            finally:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)

    return GracefulServer


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        raise UserError("kubedistill serve needs FastAPI and uvicorn", "pip install -e '.[serve]'") from None
    from kubedistill.inference.backend import load_backend
    from kubedistill.serving.app import create_app

    settings = settings_from(args)
    verifier = verifier_for(args)
    where = f" at {args.openai_base_url}" if args.backend == "openai" else ""  # a model server answers
    print(f"loading {args.model}{' + ' + args.adapter if args.adapter else ''}{where} ...", file=sys.stderr,
          flush=True)
    backend = load_backend(model_ref(args))
    app = create_app(backend, verifier, settings)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=args.graceful_timeout, limit_concurrency=None)
    server = _server_class()(config)

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        print(f"serving {settings.model_name} ({backend.name}) on http://{args.host}:{port}/v1", file=sys.stderr,
              flush=True)

    async def main() -> None:
        waiter = asyncio.create_task(announce())
        await server.serve()
        waiter.cancel()

    asyncio.run(main())
    return EXIT_OK
