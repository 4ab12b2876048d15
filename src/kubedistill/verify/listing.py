"""``kubedistill rules``: every verifier rule with its level, checkov twin and title."""

from __future__ import annotations

import argparse

from kubedistill.errors import EXIT_OK
from kubedistill.verify import engine  # noqa: F401  (imports every check module, so every rule is registered)
from kubedistill.verify.registry import RULES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--level", choices=("L1", "L2", "L3", "L4"), help="only this level")


def run(args: argparse.Namespace) -> int:
    for rule in sorted(RULES.values(), key=lambda r: (r.level, r.id)):
        if args.level and f"L{rule.level}" != args.level:
            continue
        print(f"L{rule.level}  {rule.id:<30} {rule.checkov:<11} {rule.title}")
    return EXIT_OK
