"""``kubedistill generate``: a manifest from one sentence, verified and repaired before it is printed.

    kubedistill generate "a redis deployment with 2 replicas and a ClusterIP service on 6379" | kubectl apply -f -
    echo "a nightly backup CronJob at 02:00" | kubedistill generate --adapter runs/train -o backup.yaml

stdout carries only the manifest (pipe-able); the verdict and, on a terminal, the tokens as they are produced go
to stderr. Exit code 0 when the final manifest passes L1-L4, 1 when it still fails, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys

from kubedistill.errors import EXIT_FINDINGS, EXIT_OK, UserError
from kubedistill.inference.backend import BACKENDS, DTYPES, ModelRef, adapter_hints
from kubedistill.inference.repair import DEFAULT_REPAIR_STYLE, REPAIR_STYLES
from kubedistill.inference.verdict import Verdict
from kubedistill.prompts import HINTS, PROMPT_MODES, prompt_problem
from kubedistill.sources.store import write_text_atomic

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct"
MAX_INSTRUCTION_BYTES = 64 * 1024


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"registry name, hub id, model directory or .gguf (default {DEFAULT_MODEL}); "
                             "--backend openai: the name the model server serves it under")
    parser.add_argument("--adapter", default="", help="LoRA adapter folder (a kubedistill train output)")
    parser.add_argument("--backend", default="auto", choices=BACKENDS,
                        help="auto: llama.cpp when installed, else transformers; openai: a model server "
                             "(--openai-base-url) answers, kubedistill verifies and repairs")
    parser.add_argument("--openai-base-url", default="",
                        help="--backend openai: the model server's OpenAI-compatible endpoint, e.g. "
                             "http://gpu:8000/v1 (vLLM, llama.cpp server, Ollama); key from "
                             "$KUBEDISTILL_OPENAI_API_KEY or $OPENAI_API_KEY")
    parser.add_argument("--openai-timeout", type=float, default=600.0,
                        help="--backend openai: seconds to wait for one answer (default 600)")
    parser.add_argument("--prompt", default="strict",
                        help=f"system prompt: {' | '.join(PROMPT_MODES)} or a text file holding one (default strict)")
    parser.add_argument("--repair", type=int, default=2, help="validate-and-repair rounds (default 2)")
    parser.add_argument("--repair-style", default=DEFAULT_REPAIR_STYLE, choices=REPAIR_STYLES,
                        help="restate: ask the request again with the findings (default); chat: show the failed "
                             "answer and the findings as the next turns")
    parser.add_argument("--check-request", action=argparse.BooleanOptionalAction, default=True,
                        help="hold each answer to the requirements the request states outright (objects, names, "
                             "namespaces, image, replicas, ports, env, resources, schedule...) and repair it when "
                             "it misses one (default on)")
    parser.add_argument("--hints", default=None, choices=HINTS,
                        help="request: the request reaches the model with a checklist of the values it states and "
                             "the fields they go in (default: as the adapter was trained; none without one)")
    parser.add_argument("--policy", default="restricted", help="L3 profile: baseline | restricted | best-practice")
    parser.add_argument("--k8s-version", default="1.33")
    parser.add_argument("--max-new-tokens", type=int, default=768)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: every core)")
    parser.add_argument("--dtype", default="auto", choices=DTYPES,
                        help="transformers backend: auto (bfloat16 on a GPU and on a CPU with native bfloat16, "
                             "else float32) | float32 | bfloat16")
    parser.add_argument("--model-cache", default="", help="model cache folder (default ~/.cache/kubedistill)")


def model_ref(args: argparse.Namespace) -> ModelRef:
    return ModelRef(args.model, args.adapter, args.backend, args.model_cache, args.threads, args.dtype,
                    base_url=args.openai_base_url, timeout=args.openai_timeout)


def verifier_for(args: argparse.Namespace):
    from kubedistill.verify import Verifier, VerifyConfig

    config = VerifyConfig(k8s_version=args.k8s_version, policy=args.policy, context="bundle")
    problems = config.problems()
    if args.repair < 0:
        problems.append("--repair cannot be negative")
    if args.max_new_tokens < 1:
        problems.append("--max-new-tokens must be at least 1")
    if problem := prompt_problem(args.prompt):
        problems.append(f"--prompt: {problem}")
    if problems:
        raise UserError("; ".join(problems))
    return Verifier(config)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instruction", nargs="?", default="-",
                        help="what to generate, in plain words ('-' or absent: read it from stdin)")
    add_model_arguments(parser)
    parser.add_argument("--input", metavar="FILE|-",
                        help="edit these manifests: the answer is the complete result, and L4 reports an input "
                             "object it drops ('-': read them from stdin, the instruction then as an argument)")
    parser.add_argument("-o", "--output", help="also write the manifest to this file (atomically)")
    parser.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                        help="show tokens on stderr as they are produced (default: when stderr is a terminal)")


def read_instruction(value: str) -> str:
    if value == "-":
        if sys.stdin.isatty():
            raise UserError("no instruction given", 'kubedistill generate "a redis deployment with 2 replicas"')
        data = sys.stdin.buffer.read(MAX_INSTRUCTION_BYTES + 1)
        if len(data) > MAX_INSTRUCTION_BYTES:
            raise UserError(f"the instruction on stdin is longer than {MAX_INSTRUCTION_BYTES} bytes")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError("the instruction on stdin is not UTF-8 text") from None
    if not value.strip():
        raise UserError("the instruction is empty", 'kubedistill generate "a redis deployment with 2 replicas"')
    return value.strip()


MAX_INPUT_BYTES = 1024 * 1024


def read_input(value: str) -> str:
    """The manifests of ``--input``: a file or stdin, UTF-8 YAML holding at least one Kubernetes object (it may
    have defects: "fix it" is an edit too)."""
    from kubedistill.textfile import read_capped
    from kubedistill.verify.conformance import input_objects

    where = "stdin" if value == "-" else value
    text = read_capped(value, MAX_INPUT_BYTES, "--input", "give the manifest file to edit, or - to read it from stdin",
                       "edit one bundle at a time", encoding="utf-8-sig")
    if not input_objects(text):
        raise UserError(f"--input: {where} holds no Kubernetes object (no YAML mapping with a kind)",
                        "give the manifest to edit: YAML with apiVersion, kind and metadata")
    return text


def describe(verdict: Verdict, attempts: int) -> str:
    rounds = f" after {attempts - 1} repair round{'s' if attempts != 2 else ''}" if attempts > 1 else ""
    if verdict.passed:
        return f"verdict: PASS (L1-L4){rounds}"
    return f"verdict: FAIL at {verdict.failed_level} ({', '.join(verdict.rules)}){rounds}\n{verdict.feedback()}"


def run(args: argparse.Namespace) -> int:
    from kubedistill.context.edit import edit_message, edit_spec, split_edit
    from kubedistill.context.request import outline, read_request
    from kubedistill.inference.backend import load_backend
    from kubedistill.inference.repair import solve
    from kubedistill.prompts import chat
    from kubedistill.verify.conformance import input_objects

    if args.input == "-" and args.instruction == "-":
        raise UserError("--input - reads the manifests from stdin, so the instruction must be an argument",
                        'kubectl get deploy web -o yaml | kubedistill generate --input - "add a readiness probe"')
    manifests = read_input(args.input) if args.input else None
    instruction = read_instruction(args.instruction)
    verifier = verifier_for(args)
    if args.output and not os.path.isdir(os.path.dirname(os.path.abspath(args.output))):
        raise UserError(f"-o {args.output}: its folder does not exist", "create it, or choose another path")
    hints = args.hints or adapter_hints(args.adapter)  # a damaged marker is reported before the model loads
    backend = load_backend(model_ref(args))
    stream = sys.stderr.isatty() if args.stream is None else args.stream

    def show(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    if manifests is None and (pasted := split_edit(instruction)):
        instruction, manifests = pasted  # the YAML pasted into the instruction is the input of an edit
    if manifests is not None:  # an edit: the request with the input below it, held to keeping the input's objects
        spec = edit_spec(instruction, manifests, read=args.check_request)
        message = edit_message(instruction, manifests)
        print(f"editing {len(input_objects(manifests))} object(s) of the input", file=sys.stderr)
    else:
        spec = read_request(instruction) if args.check_request else None
        message = instruction
    if spec and spec.objects:
        print(f"requirements read from the request: {outline(spec)}", file=sys.stderr)
    outcome = solve(backend, verifier, chat(args.prompt, message, hints), spec, args.repair,
                    args.max_new_tokens, on_text=show if stream else None, repair_style=args.repair_style)
    if stream:
        sys.stderr.write("\n")
    final = outcome.best
    manifest = final.verdict.manifest
    if manifest:
        sys.stdout.write(manifest if manifest.endswith("\n") else manifest + "\n")
        sys.stdout.flush()
        if args.output:
            try:
                write_text_atomic(args.output, manifest)
            except OSError as exc:
                raise UserError(f"cannot write -o {args.output}: {exc.strerror or exc}") from None
    print(describe(final.verdict, len(outcome.attempts)), file=sys.stderr)
    return EXIT_OK if final.verdict.passed else EXIT_FINDINGS
