"""Output formats for verification results: text, json, junit, sarif, chosen by name.

Text and JSON are written file by file as results come (bounded memory on huge inputs); JUnit and SARIF
need totals first and are written whole at the end. Formatting is kept apart from checking, as in
kubeconform's ``pkg/output``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import IO, NamedTuple

from kubedistill import __version__
from kubedistill.verify.finding import DocumentResult, Finding, Status
from kubedistill.verify.registry import RULES

FORMATS = ("text", "json", "junit", "sarif")
_COLOURS = {"error": "\033[31m", "warning": "\033[33m", "valid": "\033[32m", "reset": "\033[0m"}


Tally = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], int]
"""What the summary counts of one file: its documents' statuses, the levels they failed at ('L2'), the rule ids of
their findings, and how many findings are warnings."""


def tally(results: list[DocumentResult]) -> Tally:
    findings = [f for r in results for f in r.findings]
    return (tuple(str(r.status) for r in results), tuple(f"L{r.failed_level}" for r in results if r.failed_level),
            tuple(f.rule for f in findings), sum(not f.is_error for f in findings))


class Summary:
    """Counts per status, per failing level and per rule, accumulated as results stream past."""

    def __init__(self) -> None:
        self.documents = 0
        self.statuses: Counter[str] = Counter()
        self.levels: Counter[str] = Counter()
        self.rules: Counter[str] = Counter()
        self.warnings = 0

    def add(self, results: list[DocumentResult]) -> None:
        self.add_tally(tally(results))

    def add_tally(self, counts: Tally) -> None:
        statuses, levels, rules, warnings = counts
        self.documents += len(statuses)
        self.statuses.update(statuses)
        self.levels.update(levels)
        self.rules.update(rules)  # in finding order, as ties in most_common() keep it
        self.warnings += warnings

    def to_dict(self) -> dict:
        return {
            "documents": self.documents,
            "status": {s.value: self.statuses.get(s.value, 0) for s in Status},
            "failedAtLevel": dict(sorted(self.levels.items())),
            "rules": dict(self.rules.most_common()),
            "warnings": self.warnings,
        }


def json_part(results: list[DocumentResult]) -> str:
    """One file's entries of the ``resources`` list, joined as ``JsonStream`` writes them."""
    return _JSON_SEPARATOR.join([json.dumps(r.to_dict()) for r in results])


_JSON_SEPARATOR = ",\n    "


class JsonStream:
    """Writes ``{"resources": [...], "summary": {...}}`` one file's results at a time (bounded memory)."""

    def __init__(self, out: IO[str], with_summary: bool, request: dict | None = None,
                 summary: Summary | None = None) -> None:
        self.out, self.with_summary, self.first, self.request = out, with_summary, True, request
        self.summary = summary or Summary()
        self.counted_elsewhere = summary is not None
        out.write('{\n  "resources": [')

    def add(self, results: list[DocumentResult]) -> None:
        """One file's results, written one at a time (a 100,000-document stream is one file)."""
        if not self.counted_elsewhere:
            self.summary.add(results)
        for result in results:
            self.write(json.dumps(result.to_dict()))

    def write(self, part: str) -> None:
        """Entries rendered by ``json_part``."""
        if part:
            self.out.write(("\n    " if self.first else _JSON_SEPARATOR) + part)
            self.first = False

    def close(self) -> None:
        self.out.write("\n  ]")
        if self.request is not None:
            self.out.write(',\n  "request": ' + json.dumps(self.request))
        if self.with_summary:
            self.out.write(',\n  "summary": ' + json.dumps(self.summary.to_dict()))
        self.out.write("\n}\n")


class Part(NamedTuple):
    """One file's share of a report, made in the process that verified the file (a worker, with ``-j``)."""

    text: str
    """Its output (text and json); empty for the formats written whole and for files of more than
    ``RENDERED_MAX`` documents."""
    tally: Tally
    results: list[DocumentResult] | None = None
    """The results themselves when there is no text: junit and sarif need totals before their first line, and a
    long stream's output is written result by result rather than held as one string."""


RENDERED_MAX = 1000
"""Documents of one file rendered to one string where they were verified; more are written one at a time."""


class Report:
    """A report in one of ``FORMATS`` (kubeconform's output interface), written as files come in.

    ``render`` turns one file's results into a ``Part`` where they were made, so that with ``-j`` the workers send
    text rather than result objects: the process that writes the report also verifies its share of the files, and
    unpickling every result there slowed ``-o json`` at ``best-practice`` (three findings a document).
    """

    def __init__(self, fmt: str, out: IO[str], with_summary: bool = False, verbose: bool = False,
                 colour: bool = False, request: dict | None = None) -> None:
        self.fmt, self.out, self.with_summary, self.verbose, self.colour = fmt, out, with_summary, verbose, colour
        self.summary = Summary()
        self.kept: list[DocumentResult] = []
        self.json = JsonStream(out, with_summary, request, self.summary) if fmt == "json" else None

    def render(self, results: list[DocumentResult]) -> Part:
        counts = tally(results)
        if self.fmt not in ("json", "text") or len(results) > RENDERED_MAX:
            return Part("", counts, results)
        if self.fmt == "json":
            return Part(json_part(results), counts)
        return Part("".join(line + "\n" for line in text_lines(results, self.colour, self.verbose)), counts)

    def add(self, part: Part) -> None:
        self.summary.add_tally(part.tally)
        if part.results is None:
            if self.json is not None:
                self.json.write(part.text)
            elif part.text:
                self.out.write(part.text)
        elif self.json is not None:
            self.json.add(part.results)
        elif self.fmt == "text":
            for result in part.results:
                for line in text_lines([result], self.colour, self.verbose):
                    self.out.write(line + "\n")
        else:
            self.kept.extend(part.results)

    @property
    def failed(self) -> bool:
        """Some document has findings or could not be read."""
        return self.summary.statuses[Status.INVALID.value] + self.summary.statuses[Status.ERROR.value] > 0

    @property
    def errored(self) -> bool:
        return self.summary.statuses[Status.ERROR.value] > 0

    def close(self) -> None:
        if self.json is not None:
            self.json.close()
        elif self.fmt == "text":
            if self.with_summary or self.verbose:
                self.out.write(text_summary(self.summary.to_dict()) + "\n")
        else:
            WRITERS[self.fmt](self.kept, self.out, self.with_summary)


def _where(f: Finding) -> str:
    pos = f":{f.line}" + (f":{f.column}" if f.column else "") if f.line else ""
    return f"{f.file}{pos}"


def format_finding(f: Finding, colour: bool = False) -> str:
    tag = str(f.severity)
    if colour:
        tag = f"{_COLOURS[tag]}{tag}{_COLOURS['reset']}"
    obj = f" {f.kind}/{f.name}" if f.kind else ""
    path = f" {f.path}" if f.path else ""
    hint = f" (hint: {f.hint})" if f.hint else ""
    return f"{_where(f)}: {tag} {f.level_name} {f.rule} doc {f.doc}{obj}{path}: {f.message}{hint}"


def text_lines(results: list[DocumentResult], colour: bool = False, verbose: bool = False) -> list[str]:
    lines = []
    for r in results:
        lines.extend(format_finding(f, colour) for f in r.findings)
        if verbose and r.status == Status.VALID and not r.findings:
            ok = f"{_COLOURS['valid']}valid{_COLOURS['reset']}" if colour else "valid"
            lines.append(f"{r.file}: {ok} doc {r.doc} {r.ident}")
    return lines


def text_summary(stats: dict) -> str:
    s = stats["status"]
    documents = f"{stats['documents']} document" + ("" if stats["documents"] == 1 else "s")
    line = (f"Summary: {documents} - valid {s['valid']}, invalid {s['invalid']}, "
            f"errors {s['error']}, skipped {s['skipped']}, empty {s['empty']}, warnings {stats['warnings']}")
    parts = [line]
    if stats["failedAtLevel"]:
        parts.append("Failed at level: " + ", ".join(f"{k} {v}" for k, v in stats["failedAtLevel"].items()))
    if stats["rules"]:
        parts.append("Rules: " + ", ".join(f"{k} {v}" for k, v in stats["rules"].items()))
    return "\n".join(parts)


def write_junit(results: list[DocumentResult], out: IO[str], with_summary: bool) -> None:
    from xml.sax.saxutils import escape, quoteattr  # here: it imports urllib and http, a cost at every start

    by_file: dict[str, list[DocumentResult]] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r)
    failures = sum(1 for r in results if r.status == Status.INVALID)
    errors = sum(1 for r in results if r.status == Status.ERROR)
    skipped = sum(1 for r in results if r.status in (Status.SKIPPED, Status.EMPTY))
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(f'<testsuites name="kubedistill" tests="{len(results)}" failures="{failures}" errors="{errors}" '
              f'skipped="{skipped}">\n')
    for file, items in by_file.items():
        fails = sum(1 for r in items if r.status == Status.INVALID)
        out.write(f'  <testsuite name={quoteattr(file)} tests="{len(items)}" failures="{fails}">\n')
        for r in items:
            name = quoteattr(f"doc {r.doc} {r.ident}")
            out.write(f"    <testcase name={name} classname={quoteattr(file)}>")
            body = escape("\n".join(format_finding(f) for f in r.findings))
            if r.status == Status.INVALID:
                out.write(f'<failure message="failed at L{r.failed_level}" type="validation">{body}</failure>')
            elif r.status == Status.ERROR:
                out.write(f'<error message="could not validate">{body}</error>')
            elif r.status in (Status.SKIPPED, Status.EMPTY):
                out.write(f'<skipped message="{r.status}"/>')
            out.write("</testcase>\n")
        out.write("  </testsuite>\n")
    out.write("</testsuites>\n")


def write_sarif(results: list[DocumentResult], out: IO[str], with_summary: bool) -> None:
    used = sorted({f.rule for r in results for f in r.findings})
    rules = [{"id": rid, "shortDescription": {"text": RULES[rid].title if rid in RULES else rid},
              "properties": {"level": f"L{RULES[rid].level}" if rid in RULES else "",
                             **({"checkov": RULES[rid].checkov} if rid in RULES and RULES[rid].checkov else {})}}
             for rid in used]
    sarif_results = []
    for r in results:
        for f in r.findings:
            region = {"startLine": f.line or 1, **({"startColumn": f.column} if f.column else {})}
            sarif_results.append({
                "ruleId": f.rule,
                "level": "error" if f.is_error else "warning",
                "message": {"text": f"{f.message}" + (f" (hint: {f.hint})" if f.hint else "")},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.file}, "region": region},
                               "logicalLocations": [{"fullyQualifiedName": f"doc {f.doc} {f.kind}/{f.name}{f.path}"}]}],
            })
    payload = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "kubedistill", "version": __version__, "rules": rules}},
                  "results": sarif_results}],
    }
    json.dump(payload, out, indent=2)
    out.write("\n")


WRITERS: dict[str, Callable[[list[DocumentResult], IO[str], bool], None]] = {
    "junit": write_junit,
    "sarif": write_sarif,
}
