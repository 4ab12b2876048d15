"""``kubedistill validate``: the verifier as a CI tool, in the manner of kubeconform.

    kubedistill validate deploy/ --policy restricted -o junit > report.xml

Exit codes: 0 every document passed, 1 some document has findings, 2 usage or unreadable input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from kubedistill.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UserError
from kubedistill.verify.engine import Verifier, VerifyConfig, discover, map_paths
from kubedistill.verify.output import FORMATS, Part, Report
from kubedistill.verify.policy import PROFILES
from kubedistill.verify.schema import DEFAULT_K8S_VERSION

if TYPE_CHECKING:
    from kubedistill.context.spec import TaskSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH|DIR|-",
                        help="files, directories (recursive *.yaml/*.yml/*.json) or - for stdin")
    parser.add_argument("--k8s-version", default=DEFAULT_K8S_VERSION,
                        help=f"Kubernetes version of the schemas (default {DEFAULT_K8S_VERSION})")
    parser.add_argument("--levels", default="L1,L2,L3,L4", help="levels to run, e.g. L1,L2 (default all)")
    parser.add_argument("--policy", default="baseline", choices=PROFILES,
                        help="L3 profile; each includes the previous (default baseline)")
    parser.add_argument("--context", default="bundle", choices=("bundle", "strict", "off"),
                        help="L4: cluster references as warnings (bundle), as errors (strict), or off")
    parser.add_argument("--schema-location", action="append", default=[], metavar="DIR",
                        help="CRD manifests or JSON schemas for custom resources (repeatable)")
    parser.add_argument("--ignore-missing-schemas", action="store_true",
                        help="report kinds without a schema as skipped instead of failing")
    parser.add_argument("--allow-empty", action="store_true",
                        help="accept inputs with no object (empty or comments only) instead of failing L1-EMPTY")
    parser.add_argument("-o", "--output", default="text", choices=FORMATS, help="output format (default text)")
    parser.add_argument("--summary", action="store_true", help="print counts per status, level and rule")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list valid documents (text)")
    parser.add_argument("-j", "--jobs", type=int, default=0,
                        help="processes (default 0: one per core, up to 8, for 32 files or more; else 1)")
    parser.add_argument("--request", metavar="TEXT|@FILE",
                        help="also check the manifest against the requirements read from this request, as "
                             "'kubedistill generate' does (@FILE reads it from a file); one input only")
    parser.add_argument("--input", metavar="FILE",
                        help="the manifests this one was edited from: L4 also reports an object of FILE the edit "
                             "dropped, and with --allow-change any change outside the places listed; one input only")
    parser.add_argument("--allow-change", action="append", default=[], metavar="'Kind/name /path'",
                        help="with --input: a place the edit may change (named list items by name, * for any one "
                             "segment; 'Kind/name' alone: a whole object it may add); repeatable; without any, "
                             "every change is allowed and only dropped objects are reported")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour text output")


def parse_levels(text: str) -> tuple[int, ...]:
    levels = []
    for part in text.split(","):
        part = part.strip().upper()
        if part not in ("L1", "L2", "L3", "L4"):
            raise UserError(f"--levels: unknown level {part!r}", "use a comma list such as L1,L2,L3,L4")
        levels.append(int(part[1]))
    return tuple(sorted(set(levels)))


def config_from_args(args: argparse.Namespace) -> VerifyConfig:
    config = VerifyConfig(k8s_version=args.k8s_version, levels=parse_levels(args.levels), policy=args.policy,
                          context=args.context, schema_locations=tuple(args.schema_location),
                          ignore_missing_schemas=args.ignore_missing_schemas, allow_empty=args.allow_empty)
    problems = config.problems()
    if args.jobs < 0:
        problems.append(f"--jobs must be 0 (automatic) or more, got {args.jobs}")
    if problems:
        raise UserError("; ".join(problems))
    return config


MAX_REQUEST_BYTES = 64 * 1024


def read_request_text(value: str) -> str:
    """The request of ``--request``: the text itself, or the contents of the file after ``@``."""
    if value.startswith("@"):
        from kubedistill.textfile import read_capped

        value = read_capped(value[1:], MAX_REQUEST_BYTES, "--request",
                            "give the request as text, or @FILE naming a readable file", "a request is a few lines",
                            dash_is_stdin=False)
    if not value.strip():
        raise UserError("--request: the request is empty",
                        'kubedistill validate app.yaml --request "a redis Deployment with 2 replicas"')
    return value.strip()


def _request_spec(args: argparse.Namespace) -> TaskSpec | None:
    """The requirements read from ``--request``; one input only, since the request is about one answer.

    The request reader is imported here: loading it took about 40 ms of every ``kubedistill validate`` start."""
    from kubedistill.context.request import read_request

    text = read_request_text(args.request)
    files = list(discover(args.paths))
    if len(files) != 1:
        raise UserError(f"--request checks one answer, got {len(files)} files",
                        "join them into one file, or pipe them: cat a.yaml b.yaml | kubedistill validate "
                        "--request ... -")
    args.paths = files
    return read_request(text)


def _edit_spec(args: argparse.Namespace, spec: TaskSpec | None) -> TaskSpec:
    """``--input``: the edited manifest held to its original (and to ``--request``'s values, when given)."""
    from kubedistill.context.edit import edit_spec
    from kubedistill.inference.command import read_input

    files = list(discover(args.paths))
    if len(files) != 1:
        raise UserError(f"--input checks one edited answer, got {len(files)} files",
                        "join them into one file, or pipe them: cat a.yaml b.yaml | kubedistill validate "
                        "--input original.yaml -")
    args.paths = files
    edit = edit_spec("", read_input(args.input), changes=args.allow_change or None, read=False)
    if spec is not None:
        edit.objects, edit.existing, edit.absent = spec.objects, spec.existing, spec.absent
    return edit


def run(args: argparse.Namespace) -> int:
    if args.allow_change and not args.input:
        raise UserError("--allow-change needs --input: the places an edit of that input may change")
    if not args.paths:
        if sys.stdin.isatty():
            raise UserError("no input", "give files or directories, or pipe a manifest into 'kubedistill validate -'")
        args.paths = ["-"]
    config = config_from_args(args)
    request = None
    if args.request is not None or args.input:  # one answer checked against its request / its original
        from kubedistill.context.request import outline

        spec = _request_spec(args) if args.request is not None else None
        said = outline(spec) if spec else "none (the request names no object the reader is sure of)"
        if args.input:
            spec = _edit_spec(args, spec)
        request = {"requirements": spec.to_dict() if spec else None, "outline": said}
        results = Verifier(config).verify_file(args.paths[0], spec)
        if args.output == "text" and args.request is not None:
            print(f"requirements read from the request: {said}")
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    report = Report(args.output, sys.stdout, args.summary, args.verbose, colour, request)
    if request is not None:
        parts: Iterable[Part] = [report.render(results)]
    else:  # each file is rendered where it was verified (a worker, with -j); this process writes them in order
        parts = map_paths(args.paths, config, report.render, args.jobs)
    for part in parts:
        report.add(part)
    report.close()
    if report.errored:
        return EXIT_USAGE
    return EXIT_FINDINGS if report.failed else EXIT_OK

