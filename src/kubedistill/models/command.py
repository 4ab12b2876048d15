"""``kubedistill models list|pull``: the base-model registry from the command line."""

from __future__ import annotations

import argparse

from kubedistill.errors import EXIT_OK
from kubedistill.models.pull import cache_root, is_pulled, model_dir, pull
from kubedistill.models.registry import MODELS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="registry names, sizes and whether they are cached")
    pulling = sub.add_parser("pull", help="fetch, verify and convert a model's weights (offline source)")
    pulling.add_argument("name", choices=sorted(MODELS))
    for action in (listing, pulling):
        action.add_argument("--cache-dir", help="cache folder (default $KUBEDISTILL_CACHE or ~/.cache/kubedistill)")


def run(args: argparse.Namespace) -> int:
    cache = cache_root(args.cache_dir)
    if args.action == "list":
        for name, spec in MODELS.items():
            state = f"cached at {model_dir(name, cache)}" if is_pulled(name, cache) else "not pulled"
            print(f"{name:<30} {spec.size / 2**20:7.0f} MiB  {spec.hub_id:<36} {state}")
        return EXIT_OK
    path = pull(args.name, args.cache_dir)
    print(path)
    return EXIT_OK
