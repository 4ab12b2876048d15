"""Bounded load test of ``kubedistill serve``: requests per second and p50/p95 latency with a small real model,
against the same generate-verify calls made directly in-process (the anchor: what HTTP, queueing and the
OpenAI protocol add), in one run.

    python bench/serve_load.py [--model smollm2-135m-instruct] [--backend llamacpp] [--requests 24] [--clients 4]

Phase 1: REQUESTS requests from CLIENTS concurrent openai clients, queue large enough: every request must get a
verified answer (nothing dropped). Phase 2 (overload): 3 x CLIENTS simultaneous requests against a queue of 1:
every request must get either an answer or an immediate 429, never a connection error or a timeout.
Writes bench/results/serve_load.{json,md}.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import machine, write_result

INSTRUCTIONS = [
    "a ConfigMap named app-config with LOG_LEVEL=debug",
    "a Namespace called shop",
    "a ClusterIP Service named web on port 80 selecting app=web",
    "a ServiceAccount named deployer in namespace ci",
    "a Secret named db-credentials with a username key",
    "a PersistentVolumeClaim named data asking for 5Gi ReadWriteOnce",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_server(backend, settings):
    import uvicorn

    from kubedistill.serving.app import create_app
    from kubedistill.verify import Verifier, VerifyConfig

    app = create_app(backend, Verifier(VerifyConfig(policy="restricted")), settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--note", default="", help="what else ran on the machine (recorded with the result)")
    args = parser.parse_args()

    import httpx
    import openai

    from kubedistill.inference.backend import ModelRef, load_backend
    from kubedistill.inference.repair import solve
    from kubedistill.prompts import chat
    from kubedistill.serving.app import ServerSettings
    from kubedistill.verify import Verifier, VerifyConfig

    backend = load_backend(ModelRef(args.model, backend=args.backend))
    verifier = Verifier(VerifyConfig(policy="restricted"))
    prompts = [INSTRUCTIONS[i % len(INSTRUCTIONS)] + f" (request {i})" for i in range(args.requests)]

    def run_direct() -> tuple[float, list[float]]:
        """The anchor: the same work without HTTP, one after another (the model serves one request at a time
        either way). Run before and after the server phase, so drifting background load hits both sides."""
        start, times = time.perf_counter(), []
        for text in prompts:
            began = time.perf_counter()
            solve(backend, verifier, chat("strict", text), None, 0, args.max_tokens)
            times.append(time.perf_counter() - began)
        return time.perf_counter() - start, times

    solve(backend, verifier, chat("strict", prompts[0]), None, 0, args.max_tokens)  # warm-up, not measured
    before_wall, direct = run_direct()

    settings = ServerSettings(model_name="kd", repair=0, max_new_tokens=args.max_tokens, concurrency=1,
                              queue_size=args.requests)
    server, thread, url = start_server(backend, settings)
    client = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0, timeout=600)
    latencies: list[float] = []
    failures: list[str] = []

    def one(text: str) -> None:
        began = time.perf_counter()
        try:
            reply = client.chat.completions.create(model="kd", messages=[{"role": "user", "content": text}])
            assert "kubedistill" in reply.model_extra
            latencies.append(time.perf_counter() - began)
        except Exception as exc:
            failures.append(type(exc).__name__)

    start = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(one, prompts))
    served_wall = time.perf_counter() - start
    server.should_exit = True
    thread.join(30)
    after_wall, after = run_direct()
    direct_wall = (before_wall + after_wall) / 2
    direct += after

    # overload: a queue of one, three times as many simultaneous requests as clients
    server, thread, url = start_server(backend, ServerSettings(model_name="kd", repair=0, concurrency=1, queue_size=1,
                                                               max_new_tokens=args.max_tokens))
    burst = 3 * args.clients
    codes: list[int | str] = []

    def raw(i: int) -> None:
        try:
            codes.append(httpx.post(url + "/v1/chat/completions", timeout=600,
                                    json={"messages": [{"role": "user", "content": prompts[i % len(prompts)]}]}
                                    ).status_code)
        except Exception as exc:
            codes.append(type(exc).__name__)

    with ThreadPoolExecutor(burst) as pool:
        list(pool.map(raw, range(burst)))
    server.should_exit = True
    thread.join(30)

    result = {
        "machine": machine(), "model": args.model, "backend": backend.name, "requests": args.requests,
        "clients": args.clients, "max_tokens": args.max_tokens,
        "served": {"ok": len(latencies), "failed": failures, "wall_s": round(served_wall, 2),
                   "requests_per_s": round(len(latencies) / served_wall, 3),
                   "p50_s": round(percentile(latencies, 0.5), 3), "p95_s": round(percentile(latencies, 0.95), 3)},
        "note": args.note,
        "direct": {"wall_s_before": round(before_wall, 2), "wall_s_after": round(after_wall, 2),
                   "requests_per_s": round(args.requests / direct_wall, 3),
                   "p50_s": round(statistics.median(direct), 3)},
        "overload": {"simultaneous": burst, "queue_size": 1, "ok": codes.count(200), "refused_429": codes.count(429),
                     "other": [c for c in codes if c not in (200, 429)]},
    }
    result["throughput_ratio_served_vs_direct"] = round(result["served"]["requests_per_s"] /
                                                        result["direct"]["requests_per_s"], 3)
    s, d, o = result["served"], result["direct"], result["overload"]
    text = (f"# Serve load test: {args.model} ({backend.name}), {args.requests} requests, {args.clients} clients\n\n"
            f"Machine: {result['machine']}{'; ' + args.note if args.note else ''}\n\n"
            f"| | requests/s | p50 s | p95 s | ok | failed |\n|---|---|---|---|---|---|\n"
            f"| HTTP server (openai client, {args.clients} concurrent) | {s['requests_per_s']} | {s['p50_s']} | "
            f"{s['p95_s']} | {s['ok']} | {len(s['failed'])} |\n"
            f"| direct in-process (anchor, sequential, mean of before and after) | {d['requests_per_s']} | "
            f"{d['p50_s']} | - | {args.requests} | 0 |\n\n"
            f"Server throughput / direct: {result['throughput_ratio_served_vs_direct']}x "
            f"(max_tokens {args.max_tokens}, one request generating at a time; latency includes queueing).\n\n"
            f"Overload: {o['simultaneous']} simultaneous requests, queue of 1: {o['ok']} answered, "
            f"{o['refused_429']} refused at once with 429, other outcomes: {o['other'] or 'none'}.\n")
    write_result("serve_load", result, text)
    print(text)


if __name__ == "__main__":
    main()
