"""How often the base model loops on hand-written requests, and the decoding time the loop stop saves.

    python bench/loop_detect.py [--count 16] [--backend llamacpp|transformers] [--replay RUN_DIR] [--name NAME]

The first COUNT requests of ``bench/data/requests/dev.jsonl`` by id, each answered twice by the base model
(Qwen2.5-Coder-0.5B-Instruct, strict prompt, greedy, 768 new tokens, no repair): once with the loop stop of
``inference/loops.py`` and once without, in alternating order. llama.cpp when the model's GGUF is there (float32
transformers otherwise). Greedy decoding is deterministic, so a stopped answer must be the start of its unstopped
twin and an answer that did not loop must come out the same both times: the time those identical answers took
in each mode shows how noisy the clock of a shared machine is. The detector's own cost is measured by replaying
the unstopped answers token by token through ``LoopWatch``. ``--replay`` does the same replay over the first
answers of an earlier ``kubedistill eval`` run: where the stop would have fired, and the tokens it would have
saved. Results go to bench/results/NAME.{json,md} with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import REPO, machine, write_result
from kubedistill.context.spec import TaskSpec
from kubedistill.hardware import describe
from kubedistill.inference.backend import ModelRef, gguf_paths, load_backend, model_dir
from kubedistill.inference.loops import CHECK_EVERY, MAX_BLOCK, MIN_CHARS, MIN_REPEATS, MIN_SPAN, LoopWatch, looped
from kubedistill.inference.verdict import judge
from kubedistill.prompts import chat
from kubedistill.verify import Verifier, VerifyConfig

MODEL = "qwen2.5-coder-0.5b-instruct"
MAX_NEW_TOKENS = 768


def requests(count: int) -> list[dict]:
    rows = [json.loads(line) for line in (REPO / "bench/data/requests/dev.jsonl").read_text().splitlines() if line]
    return sorted(rows, key=lambda r: r["id"])[:count]


def pick_backend(asked: str) -> str:
    if asked:
        return asked
    try:
        gguf_paths(ModelRef(MODEL))
        import llama_cpp  # noqa: F401
    except Exception:  # no GGUF, or llama-cpp-python missing: the reference backend
        return "transformers"
    return "llamacpp"


def answer(backend, messages: list[dict], stop: bool) -> dict:
    backend.ref = replace(backend.ref, stop_loops=stop)
    gen = backend.generate(messages, MAX_NEW_TOKENS)
    return {**{k: v for k, v in asdict(gen).items() if k != "text"}, "text": gen.text}


def replay(tokenizer, text: str) -> tuple[int | None, float]:
    """(the token at which the loop stop would fire on ``text`` decoded token by token, or None; seconds the
    checks took)."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    pieces = [tokenizer.decode(ids[:n + 1]) for n in range(len(ids))]  # each token's text, as a stream gives it
    pieces = [piece[len(before):] for before, piece in zip(["", *pieces], pieces, strict=False)]
    watch, start = LoopWatch(), time.perf_counter()
    fired = next((n + 1 for n, piece in enumerate(pieces) if watch.feed(piece)), None)
    return fired, time.perf_counter() - start


def measure(backend, count: int) -> list[dict]:
    verifier = Verifier(VerifyConfig(policy="restricted"))
    backend.generate(chat("strict", "a ConfigMap", "none"), 8)  # warm up: the first call pays for loading
    rows = []
    for n, task in enumerate(requests(count)):
        messages = chat("strict", task["instruction"], "none")
        if n % 2:  # alternate the order, so that neither mode always runs second
            off, on = answer(backend, messages, False), answer(backend, messages, True)
        else:
            on, off = answer(backend, messages, True), answer(backend, messages, False)
        spec = TaskSpec.from_dict(task["spec"])
        rows.append({"id": task["id"], "on": on, "off": off, "off_ends_in_a_loop": looped(off["text"]),
                     "on_is_start_of_off": off["text"].startswith(on["text"]),
                     "passed": {mode: judge(a["text"], verifier, spec, a["truncated"], a["looped"]).passed
                                for mode, a in (("on", on), ("off", off))}})
        print(f"{task['id']}: on {on['tokens']} tokens {on['seconds']:.1f} s looped={on['looped']}; off "
              f"{off['tokens']} tokens {off['seconds']:.1f} s truncated={off['truncated']}", file=sys.stderr)
    return rows


def replay_run(tokenizer, run: Path) -> dict:
    """The loop stop replayed over the first answers of an earlier evaluation run."""
    config = json.loads((run / "run.json").read_text())
    cases = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines() if line.strip()]
    found = []
    for case in cases:
        first = case["attempts"][0]
        fired, _ = replay(tokenizer, first["text"])
        if fired is not None or first["truncated"]:
            found.append({"id": case["id"], "tokens": first["tokens"], "truncated": first["truncated"],
                          "stop_fires_at_token": fired})
    return {"run": str(run), "backend": config["backend"], "split": config["split"], "answers": len(cases),
            "truncated": sum(c["attempts"][0]["truncated"] for c in cases), "answers_it_stops": found}


def summarize(rows: list[dict], kind: str, cost_s: float) -> dict:
    stopped = [r for r in rows if r["on"]["looped"]]
    same = [r for r in rows if not r["on"]["looped"] and r["on"]["text"] == r["off"]["text"]]
    return {"model": MODEL, "backend": kind, "dtype": "float32" if kind == "transformers" else "gguf",
            "max_new_tokens": MAX_NEW_TOKENS, "prompt": "strict", "requests": len(rows),
            "rule": {"max_block": MAX_BLOCK, "min_repeats": MIN_REPEATS, "min_span": MIN_SPAN,
                     "min_chars": MIN_CHARS, "check_every": CHECK_EVERY},
            "stopped_in_a_loop": len(stopped),
            "unstopped_ending_in_a_loop": sum(r["off_ends_in_a_loop"] for r in rows),
            "unstopped_truncated": sum(r["off"]["truncated"] for r in rows),
            "stopped_answers_that_are_the_start_of_the_unstopped": sum(r["on_is_start_of_off"] for r in rows),
            "seconds": {m: round(sum(r[m]["seconds"] for r in rows), 1) for m in ("on", "off")},
            "tokens": {m: sum(r[m]["tokens"] for r in rows) for m in ("on", "off")},
            "looped_answers": {"tokens": {m: sum(r[m]["tokens"] for r in stopped) for m in ("on", "off")},
                               "seconds": {m: round(sum(r[m]["seconds"] for r in stopped), 1) for m in ("on", "off")}},
            "identical_answers": {"count": len(same),
                                  "seconds": {m: round(sum(r[m]["seconds"] for r in same), 1) for m in ("on", "off")}},
            "detector_cost_s": round(cost_s, 4),
            "passed": {m: sum(r["passed"][m] for r in rows) for m in ("on", "off")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--backend", default="", choices=["", "llamacpp", "transformers"])
    parser.add_argument("--replay", type=Path, help="an earlier eval run folder whose first answers to replay")
    parser.add_argument("--name", default="loop_detect")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    kind = pick_backend(args.backend)
    backend = load_backend(ModelRef(MODEL, backend=kind, dtype="float32"))
    tokenizer = AutoTokenizer.from_pretrained(model_dir(ModelRef(MODEL)))
    load, start = os.getloadavg(), time.perf_counter()
    rows = measure(backend, args.count)
    wall, load_after = time.perf_counter() - start, os.getloadavg()
    cost = sum(replay(tokenizer, r["off"]["text"])[1] for r in rows)
    summary = {**summarize(rows, kind, cost), "wall_s": round(wall, 1),
               "load_average": {"before": [round(x, 2) for x in load], "after": [round(x, 2) for x in load_after]},
               "replay": replay_run(tokenizer, args.replay) if args.replay else None,
               "machine": {**machine(), **describe()}, "cases": rows}
    write_result(args.name, summary, report(summary))


def report(s: dict) -> str:
    m, rule, loops, same = s["machine"], s["rule"], s["looped_answers"], s["identical_answers"]
    flags = ", ".join(f"{f} {'yes' if m[f] else 'no'}" for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16"))
    lines = [f"# Loop stop: {s['model']} on the first {s['requests']} hand-written dev requests", "",
             f"`python bench/loop_detect.py --count {s['requests']}"
             f"{' --replay ' + s['replay']['run'] if s['replay'] else ''}`; backend {s['backend']} ({s['dtype']}), "
             f"{s['prompt']} prompt, greedy, {s['max_new_tokens']} new tokens, no repair; each request answered "
             "with the loop stop and without it, in alternating order.", "",
             f"Machine: {m['cpu']}, {m['cores']} cores; {flags}; {m['platform']}. Shared with other work while it "
             f"ran: load average {s['load_average']['before'][0]} before, {s['load_average']['after'][0]} after.", "",
             "Rule (`src/kubedistill/inference/loops.py`): the last lines are one block of up to "
             f"{rule['max_block']} lines holding at least {rule['min_chars']} non-blank characters, repeated back to "
             f"back at least {rule['min_repeats']} times and over at least {rule['min_span']} lines; checked every "
             f"{rule['check_every']} tokens.", "",
             "| | with the loop stop | without |", "|---|---:|---:|",
             f"| answers stopped in a loop / ending in one | {s['stopped_in_a_loop']} | "
             f"{s['unstopped_ending_in_a_loop']} |",
             f"| answers cut at {s['max_new_tokens']} tokens | {sum(r['on']['truncated'] for r in s['cases'])} | "
             f"{s['unstopped_truncated']} |",
             f"| tokens generated | {s['tokens']['on']:,} | {s['tokens']['off']:,} |",
             f"| decoding time, all answers | {s['seconds']['on']:.1f} s | {s['seconds']['off']:.1f} s |",
             f"| decoding time, the {s['stopped_in_a_loop']} answers that looped | {loops['seconds']['on']:.1f} s "
             f"({loops['tokens']['on']} tokens) | {loops['seconds']['off']:.1f} s ({loops['tokens']['off']} tokens) |",
             f"| decoding time, the {same['count']} answers identical in both modes | {same['seconds']['on']:.1f} s "
             f"| {same['seconds']['off']:.1f} s |",
             f"| answers passing L1-L4 and the task's spec | {s['passed']['on']} | {s['passed']['off']} |", "",
             f"Time saved where an answer looped: **{loops['seconds']['off'] - loops['seconds']['on']:.1f} s** "
             f"({loops['tokens']['off'] - loops['tokens']['on']} tokens not decoded). The answers that did not loop "
             "came out the same in both modes, so the gap between their two times is the noise of this machine's "
             f"clock, not the stop; the checks themselves cost {1000 * s['detector_cost_s']:.1f} ms over all "
             f"{s['requests']} answers (replayed token by token). Stopped answers that are the start of their "
             f"unstopped twin: {s['stopped_answers_that_are_the_start_of_the_unstopped']} of {s['requests']}. "
             f"Whole run {s['wall_s']:.0f} s.", "",
             "| request | tokens on / off | seconds on / off | stopped | off cut at the cap |",
             "|---|---:|---:|---|---|"]
    for r in s["cases"]:
        lines.append(f"| {r['id']} | {r['on']['tokens']} / {r['off']['tokens']} | {r['on']['seconds']:.1f} / "
                     f"{r['off']['seconds']:.1f} | {'loop' if r['on']['looped'] else ''} | "
                     f"{'yes' if r['off']['truncated'] else ''} |")
    if s["replay"]:
        lines += replay_report(s["replay"], s["max_new_tokens"])
    return "\n".join(lines) + "\n"


def replay_report(r: dict, cap: int) -> list[str]:
    stops = [a for a in r["answers_it_stops"] if a["stop_fires_at_token"] is not None]
    saved = sum(a["tokens"] - a["stop_fires_at_token"] for a in stops)
    lines = ["", f"## Replayed over an earlier run: `{r['run']}`", "",
             f"{r['answers']} first answers ({r['backend']}, {r['split']}), {r['truncated']} of them cut at the "
             f"{cap}-token cap. Replayed token by token, the stop fires on {len(stops)} answers, all of them cut at "
             f"the cap: {saved} tokens that would not have been decoded. It fires on none of the answers that ended "
             "by themselves." if all(a["truncated"] for a in stops) else
             f"{r['answers']} first answers; the stop fires on {len(stops)}, some of which ended by themselves.", "",
             "| answer | tokens | cut at the cap | stop fires at token |", "|---|---:|---|---:|"]
    lines += [f"| {a['id']} | {a['tokens']} | {'yes' if a['truncated'] else ''} | "
              f"{a['stop_fires_at_token'] if a['stop_fires_at_token'] is not None else 'no loop found'} |"
              for a in r["answers_it_stops"]]
    return lines


if __name__ == "__main__":
    main()
