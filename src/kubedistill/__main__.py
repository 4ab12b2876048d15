"""The kubedistill command line: one table from verb to function.

    kubedistill validate examples/          # the four-level verifier
    kubedistill rules                       # every rule id with its level and checkov twin
    kubedistill sources --config configs/sources/offline.yaml --out runs/sources

Every verb returns an exit code; only this module prints errors for the user.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from kubedistill import __version__
from kubedistill.errors import EXIT_OK, UserError
from kubedistill.sources import command as sources_command
from kubedistill.verify import command as validate_command


def _rules_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--level", choices=("L1", "L2", "L3", "L4"), help="only this level")


def _rules(args: argparse.Namespace) -> int:
    from kubedistill.verify import engine  # noqa: F401  (imports every check module)
    from kubedistill.verify.registry import RULES

    for rule in sorted(RULES.values(), key=lambda r: (r.level, r.id)):
        if args.level and f"L{rule.level}" != args.level:
            continue
        print(f"L{rule.level}  {rule.id:<30} {rule.checkov:<11} {rule.title}")
    return EXIT_OK


# verb -> (help, add_arguments, run)
VERBS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "validate": ("validate manifests at four levels (syntax, API, security, context)",
                 validate_command.add_arguments, validate_command.run),
    "rules": ("list every verifier rule", _rules_arguments, _rules),
    "sources": ("write raw (instruction, manifest) pairs from a teacher", sources_command.add_arguments,
                sources_command.run),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubedistill", description=__doc__.split("\n")[0] if __doc__ else None,
                                     epilog="exit codes: 0 ok, 1 findings, 2 usage or unreadable input")
    parser.add_argument("--version", action="version", version=f"kubedistill {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (help_text, add_arguments, _) in VERBS.items():
        add_arguments(sub.add_parser(verb, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.verb:
        parser.print_help(sys.stderr)
        return 2
    try:
        return VERBS[args.verb][2](args)
    except UserError as exc:
        print(f"kubedistill {args.verb}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
