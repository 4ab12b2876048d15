"""``kubedistill train``: the CLI face of ``train/lora.py``."""

from __future__ import annotations

import argparse
import json
import os

from kubedistill.config import load_config
from kubedistill.errors import EXIT_OK
from kubedistill.train.lora import TrainConfig, fit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML config (see configs/train/)")
    parser.add_argument("--corpus", required=True, help="a corpus folder from kubedistill corpus build")
    parser.add_argument("--out", required=True, help="output folder (adapter/, checkpoints/, metrics.jsonl ...)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. max_steps=20")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)


def run(args: argparse.Namespace) -> int:
    config = load_config(TrainConfig, args.config, args.overrides)
    last = fit(config, args.corpus, args.out, resume=args.resume, progress=args.progress)
    if os.environ.get("RANK", "0") == "0":  # under torchrun / accelerate launch, one line, not one per process
        print(json.dumps(last))
    return EXIT_OK
