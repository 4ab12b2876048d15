"""The verifier: runs L1-L4 over a stream of documents and returns results as data.

A document fails at the first level that rejects it, and all findings of that level are reported.
L4 needs the whole bundle, so the engine keeps compact facts per object (not the documents) and runs
the bundle checks when the stream ends; memory stays bounded on very long streams.

CustomResourceDefinitions among the inputs are schemas for custom resources, in two scopes. Within one file
or stream, a CRD serves every custom resource of that input, even one written before it: a document whose
kind has no schema yet waits (up to ``MAX_DEFERRED`` of them) until the input ends. Across the files of one
``verify_paths`` run (``kubedistill validate dir/``), the CRDs of every input file serve all of them, as a
chart's ``crds/`` folder serves its ``templates/``: the files are scanned for CRDs before any is verified, so
the verdicts do not depend on file order or on how ``-j`` splits the files (kubeconform uses only the schemas
it is given). When several define one kind, ``--schema-location`` wins over the run's input files, the last
input file over earlier ones, and a file's own CRD over both for the custom resources that follow it in the file.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from kubedistill.context.spec import TaskSpec
from kubedistill.errors import UserError
from kubedistill.verify import apiserver, crdrules, policy, workers  # noqa: F401  (register L2b, L3)
from kubedistill.verify.conformance import check_spec
from kubedistill.verify.context import CONTEXT_MODES, Bundle, check_bundle
from kubedistill.verify.facts import Facts, extract
from kubedistill.verify.finding import DocumentResult, Finding, Issue, Status
from kubedistill.verify.registry import RULES, checks_for
from kubedistill.verify.schema import (
    DEFAULT_K8S_VERSION,
    CustomSchemas,
    SchemaValidator,
    available_versions,
    declares_crds,
    describe_missing,
)
from kubedistill.verify.stream import Chunk, decoded_blocks, split_documents, text_blocks
from kubedistill.verify.syntax import ParsedDoc, parse_stream, subnode

log = logging.getLogger(__name__)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MAX_DEFERRED = 1000
"""Documents of one input kept back while a CRD for their kind may still follow; later ones are verified at
once (so in a stream of thousands of custom resources whose CRD comes last, those are schema-missing)."""
T = TypeVar("T")


@dataclass
class VerifyConfig:
    """What to check and how strictly; every field maps to a ``kubedistill validate`` flag."""

    k8s_version: str = DEFAULT_K8S_VERSION
    """Kubernetes minor version whose schemas and removed APIs apply (1.25-1.37)."""
    levels: tuple[int, ...] = (1, 2, 3, 4)
    """Levels to run; L1 parsing always happens, since nothing else can run without it."""
    policy: str = policy.DEFAULT_PROFILE
    """L3 profile: baseline | restricted | best-practice (each includes the previous)."""
    context: str = "bundle"
    """L4 mode: bundle (cluster references are warnings) | strict (errors) | off."""
    schema_locations: tuple[str, ...] = ()
    """Files or directories with CRD manifests or JSON schemas for custom resources."""
    ignore_missing_schemas: bool = False
    """Report kinds without a schema as skipped instead of as an error (kubeconform's flag)."""
    allow_empty: bool = False
    """Accept an input with no object at all (empty, or only comments and '---'); by default it is
    ``L1-EMPTY``, as ``kubectl apply`` refuses it ("no objects passed to apply") and, for a model's answer,
    nothing is the worst answer. Directory scans that hold such files on purpose set this."""

    def problems(self) -> list[str]:
        """Every configuration error at once, so the user fixes them in one go."""
        found = []
        version = ".".join(self.k8s_version.lstrip("v").split(".")[:2])
        if version not in available_versions():
            found.append(f"unsupported --k8s-version {self.k8s_version!r}; available: "
                         f"{', '.join(available_versions())}")
        if not self.levels or any(level not in (1, 2, 3, 4) for level in self.levels):
            found.append(f"--levels must name some of L1,L2,L3,L4, got {self.levels!r}")
        if problem := policy.profile_problem(self.policy):
            found.append(problem)
        if self.context not in CONTEXT_MODES:
            found.append(f"unknown --context {self.context!r}; choose one of {', '.join(CONTEXT_MODES)}")
        found.extend(f"--schema-location {loc!r} does not exist" for loc in self.schema_locations
                     if not Path(loc).exists())
        return found


@dataclass
class _Pending:
    result: DocumentResult
    data: dict | None = None
    facts: Facts | None = None


class _Deferred(Exception):  # control flow, not an error
    """Raised by L2 for a kind without a schema while a CRD for it may still come later in the input."""


@dataclass
class Verifier:
    """Holds the compiled schemas; reuse one instance for many files."""

    config: VerifyConfig = field(default_factory=VerifyConfig)
    custom: CustomSchemas | None = None

    def __post_init__(self) -> None:
        if self.custom is None:
            self.custom = CustomSchemas()
            for location in self.config.schema_locations:
                self.custom.load(location)
        self.schemas = SchemaValidator(self.config.k8s_version, self.custom)
        self._deferred: list[tuple] | None = None
        """Documents of the current input waiting for a CRD (None: not deferring)."""

    # --- entry points -------------------------------------------------------------------------

    def verify_text(self, text: str | bytes, file: str = "-", spec: TaskSpec | None = None) -> list[DocumentResult]:
        """Verify one bundle (a multi-document YAML text) and, if given, its task spec."""
        if isinstance(text, bytes):
            return self._verify_bytes(io.BytesIO(text), file, spec)
        return self._verify_chunks(split_documents(text_blocks(text)), file, spec)

    def verify_file(self, path: str, spec: TaskSpec | None = None) -> list[DocumentResult]:
        """Verify one file ('-' for stdin), reading it line by line so that huge streams stay small; with a
        spec, the file is the answer that spec is checked against."""
        name = "stdin" if path == "-" else path
        try:
            if path == "-":
                return self._verify_bytes(sys.stdin.buffer, name, spec)
            with open(path, "rb") as handle:
                return self._verify_bytes(handle, name, spec)
        except OSError as exc:
            result = DocumentResult(name, 0, status=Status.ERROR)
            reason = exc.strerror or str(exc)
            result.findings.append(Finding(1, "INPUT", f"cannot read {path}: {reason}", file=name,
                                           hint="check the path and its permissions"))
            return [result]

    def _verify_bytes(self, handle: BinaryIO, file: str, spec: TaskSpec | None) -> list[DocumentResult]:
        return self._verify_chunks(split_documents(decoded_blocks(handle)), file, spec)

    # --- the pipeline -------------------------------------------------------------------------

    def _verify_chunks(self, chunks: Iterable[Chunk], file: str, spec: TaskSpec | None) -> list[DocumentResult]:
        pending: list[_Pending] = []
        self._deferred = []
        try:
            self._read(chunks, file, spec, pending)
            waiting, self._deferred = self._deferred, None
            for item, slot, doc, where, offset in waiting:  # the input's CRDs are all known now
                self._checked(item, slot, doc, where, offset, spec)
        finally:
            self._deferred = None
            self.schemas.custom = self.custom  # the input's own CRDs serve this input only
        if not self.config.allow_empty and all(p.result.status == Status.EMPTY for p in pending):
            self._nothing(pending, file)
        if 4 in self.config.levels:
            self._bundle(pending, spec)
        results = [p.result for p in pending]
        for result in results:
            if result.status == Status.VALID and any(f.is_error for f in result.findings):
                result.status = Status.INVALID
        return results

    def _read(self, chunks: Iterable[Chunk], file: str, spec: TaskSpec | None, pending: list[_Pending]) -> None:
        index = 0
        for chunk in chunks:
            offset = chunk.first_line - 1
            if chunk.issue is not None:
                result = DocumentResult(file, index, line=chunk.first_line)
                pending.append(_Pending(result))
                self._record(result, 1, [chunk.issue], None, 0)
                index += 1
                continue
            for parsed in parse_stream(chunk.text):
                self._parsed(pending, parsed, DocumentResult(file, index, line=(parsed.line or 1) + offset),
                             offset, spec)
                index += 1

    def _nothing(self, pending: list[_Pending], file: str) -> None:
        """An input without a single object: one error on its first document (or line 1 of an empty file)."""
        result = pending[0].result if pending else DocumentResult(file, 0, line=1)
        if not pending:
            pending.append(_Pending(result))
        result.status, result.line = Status.VALID, 1  # _record marks it invalid
        self._record(result, 1, [Issue("L1-EMPTY", "", "no Kubernetes object: the input is empty or holds only "
                                       "comments, blank lines and '---'",
                                       "write at least one object (apiVersion, kind, metadata), or pass "
                                       "--allow-empty where empty files are expected", line=1)], None, 0)

    def _parsed(self, pending: list[_Pending], parsed: Any, result: DocumentResult, offset: int,
                spec: TaskSpec | None) -> None:
        if parsed.issues:
            pending.append(_Pending(result))
            self._record(result, 1, parsed.issues, parsed, offset)
            return
        if parsed.data is None:
            result.status = Status.EMPTY
            pending.append(_Pending(result))
            return
        items = _list_items(parsed.data)
        if items is None:
            self._document(pending, result, parsed.data, parsed, offset, spec)
            return
        for i, item in enumerate(items):
            node = subnode(parsed.node, f"/items/{i}")
            line = node.start_mark.line + 1 + offset if node else result.line
            self._document(pending, DocumentResult(result.file, result.doc, line=line, item=i), item,
                           ParsedDoc(parsed.index, tree=node), offset, spec)

    def _document(self, pending: list[_Pending], result: DocumentResult, doc: Any, where: ParsedDoc, offset: int,
                  spec: TaskSpec | None) -> None:
        item = _Pending(result)
        slot = len(pending)
        pending.append(item)
        if not isinstance(doc, dict):
            self._record(result, 1, [Issue("L1-NOT-MAPPING", "", "list item is not a mapping",
                                           "each item of a List is a Kubernetes object")], where, offset)
            return
        self._describe(result, doc)
        try:
            self._checked(item, slot, doc, where, offset, spec)
        except _Deferred:
            self._deferred.append((item, slot, doc, where, offset))
        if doc.get("kind") == "CustomResourceDefinition" and str(doc.get("apiVersion")).startswith(
                "apiextensions.k8s.io/"):
            self._add_input_crd(doc)

    def _checked(self, item: _Pending, slot: int, doc: dict, where: ParsedDoc, offset: int,
                 spec: TaskSpec | None) -> None:
        result = item.result
        self._single(result, doc, where, offset)
        # L4 reads only objects whose types L2 has vouched for (or all, when L2 was not asked for).
        if 4 in self.config.levels and result.failed_level not in (1, 2) and isinstance(doc.get("kind"), str):
            item.facts = extract(slot, doc)
            item.data = doc if spec is not None else None

    def _add_input_crd(self, doc: dict) -> None:
        """A CRD of this input: its schemas serve this input's custom resources (in a scope above the run's)."""
        if self.schemas.custom is self.custom:
            self.schemas.custom = CustomSchemas(parent=self.custom)
        self.schemas.custom.add_crd(doc)

    def _describe(self, result: DocumentResult, doc: dict) -> None:
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        result.kind = str(doc.get("kind") or "")
        result.name = str(meta.get("name") or meta.get("generateName") or "")
        result.namespace = str(meta.get("namespace") or "")
        result.api_version = str(doc.get("apiVersion") or "")

    def _single(self, result: DocumentResult, doc: dict, where: ParsedDoc, offset: int) -> None:
        """L2 and L3 for one document; stops at the first level with an error."""
        levels = self.config.levels
        if 2 in levels and not self._record(result, 2, self._level2(result, doc), where, offset):
            return
        if result.status == Status.SKIPPED:
            return
        if 3 in levels:
            issues = [i for check in checks_for(3, doc.get("kind")) for i in check(doc, self.config.policy)]
            self._record(result, 3, issues, where, offset)

    def _level2(self, result: DocumentResult, doc: dict) -> list[Issue]:
        api_version, kind = doc.get("apiVersion"), doc.get("kind")
        missing = [Issue(f"L2-MISSING-{key.upper()}", f"/{key}", f"{key} is missing or not a string",
                         f"add {key}, e.g. {example}")
                   for key, value, example in (("apiVersion", api_version, "apps/v1"), ("kind", kind, "Deployment"))
                   if not isinstance(value, str) or not value]
        if missing:
            return missing
        issues, how = self.schemas.validate(doc)
        if how == "missing":
            if self._deferred is not None and len(self._deferred) < MAX_DEFERRED:
                raise _Deferred
            if self.config.ignore_missing_schemas:
                result.status = Status.SKIPPED
                return []
            return [describe_missing(api_version, kind)]
        # The API server's rules assume a well-typed object; with type errors those are reported alone.
        if how == "builtin" and not any(i.rule == "L2-TYPE" for i in issues):
            issues.extend(i for check in checks_for(2, kind) for i in check(doc))
        return _dedupe(issues)

    def _bundle(self, pending: list[_Pending], spec: TaskSpec | None) -> None:
        found: dict[int, list[Issue]] = {}
        if self.config.context != "off":
            bundle = Bundle([p.facts for p in pending if p.facts is not None], self.config.context)
            found = check_bundle(bundle)
            self._governed(pending, bundle)
        if spec is not None:
            docs = [(slot, p.data) for slot, p in enumerate(pending) if p.data is not None]
            for index, issues in check_spec(spec, docs).items():
                found.setdefault(index, []).extend(issues)
        for slot, item in enumerate(pending):
            result = item.result
            if result.failed_level is None and result.status not in (Status.SKIPPED, Status.EMPTY) and (
                    issues := found.get(slot)):
                self._record(result, 4, issues, None, 0)

    @staticmethod
    def _governed(pending: list[_Pending], bundle: Bundle) -> None:
        """Withdraw single-object findings that another object of the bundle settles: a pod warned that it mounts
        the default token does not, when the bundle's ServiceAccount turns automounting off (a warning, so no
        status changes)."""
        for item in pending:
            facts = item.facts
            if facts is None or facts.pod_labels is None or bundle.mounts_token(facts):
                continue
            item.result.findings = [f for f in item.result.findings if f.rule != "L3-SA-TOKEN"]

    def _record(self, result: DocumentResult, level: int, issues: Iterable[Issue], where: ParsedDoc | None,
                offset: int) -> bool:
        """Add a level's findings; returns False (stop) when any of them is an error.

        ``where`` gives the document's node tree to position findings; a fast-parsed document composes it only
        here, when it has findings."""
        failed = False
        for issue in issues:
            result.findings.append(self._finding(issue, level, result, where, offset))
            failed |= issue.severity == "error"
        if failed:
            result.failed_level = level
            result.status = Status.INVALID
        return not failed

    def _finding(self, issue: Issue, level: int, result: DocumentResult, where: ParsedDoc | None = None,
                 offset: int = 0) -> Finding:
        """Locate an issue in the file: positions inside a document are shifted by the document's offset."""
        line, column = issue.line, issue.column
        if line is None and where is not None and issue.path:
            line, column = where.locate(issue.path) or (None, None)
        if line is None:
            line = result.line
        else:
            line += offset
        rule = RULES.get(issue.rule)
        path = issue.path if result.item is None else f"/items/{result.item}{issue.path}"
        return Finding(level=level, rule=issue.rule, message=issue.message, path=path, hint=issue.hint,
                       severity=issue.severity, file=result.file, doc=result.doc, kind=result.kind,
                       name=result.name, line=line, column=column, checkov=rule.checkov if rule else "")


def _list_items(doc: dict) -> list | None:
    """Items of a v1 List (what ``kubectl get -o yaml`` prints), validated one by one like kubectl."""
    if doc.get("apiVersion") == "v1" and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        return doc["items"]
    return None


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for issue in issues:
        key = (issue.rule, issue.path, issue.message if issue.rule in crdrules.DISTINCT else "")
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


def discover(paths: Iterable[str]) -> Iterator[str]:
    """Files to verify: '-' for stdin, files as given, directories recursively (sorted)."""
    for path in paths:
        if path == "-" or not os.path.isdir(path):
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(MANIFEST_SUFFIXES):
                    yield os.path.join(root, name)


AUTO_JOBS_FILES = 32
AUTO_JOBS_MAX = 8


def verify_paths(paths: Iterable[str], config: VerifyConfig, jobs: int = 1) -> Iterator[list[DocumentResult]]:
    """Results per file, in input order; ``jobs`` > 1 spreads files over this and ``jobs - 1`` forked processes,
    ``jobs`` = 0 picks one process per core (up to ``AUTO_JOBS_MAX``) when there are ``AUTO_JOBS_FILES`` files or
    more: fewer are done before forking would pay off."""
    return map_paths(paths, config, _as_they_are, jobs)


def map_paths(paths: Iterable[str], config: VerifyConfig, then: Callable[[list[DocumentResult]], T],
              jobs: int = 1) -> Iterator[T]:
    """``then(results)`` for every file, in input order (``verify_paths``), run in the process that verified the
    file: with ``jobs`` > 1 only what ``then`` returns is sent between processes. ``kubedistill validate`` sends
    each file's rendered output this way instead of its result objects."""
    paths = list(paths)
    files = list(discover(paths))
    if not files:
        raise UserError(f"no *.yaml, *.yml or *.json files under {', '.join(paths)}",
                        "point kubedistill validate at manifest files or directories that hold them")
    config = with_input_crds(config, files)
    if jobs == 0:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        jobs = min(cores, AUTO_JOBS_MAX) if len(files) >= AUTO_JOBS_FILES else 1
    # stdin can only be read by this process
    if jobs <= 1 or "-" in files or len(files) < 2 or not workers.CAN_FORK:
        verifier = Verifier(config)
        for path in files:
            yield then(verifier.verify_file(path))
        return
    yield from workers.run_parallel(files, lambda: _then(Verifier(config).verify_file, then), jobs)


def with_input_crds(config: VerifyConfig, files: list[str]) -> VerifyConfig:
    """``config`` with the input files that hold CRDs as schema locations, before the given ones (which win)."""
    found = tuple(f for f in files if f != "-" and f not in config.schema_locations and declares_crds(f))
    return dataclasses.replace(config, schema_locations=found + config.schema_locations) if found else config


def _as_they_are(results: list[DocumentResult]) -> list[DocumentResult]:
    return results


def _then(verify: Callable[[str], list[DocumentResult]],
          then: Callable[[list[DocumentResult]], T]) -> Callable[[str], T]:
    return lambda path: then(verify(path))
