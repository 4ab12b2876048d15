"""What the verifier returns: findings and per-document results, as plain data.

Validation never raises for bad manifests; every problem becomes a ``Finding`` so that output
formats, the corpus filter and the repair loop all read the same structure (kubeconform's model).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields
from enum import StrEnum

LEVEL_NAMES = {1: "L1", 2: "L2", 3: "L3", 4: "L4"}


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Status(StrEnum):
    """Per-document outcome, the same five states kubeconform reports."""

    VALID = "valid"
    INVALID = "invalid"
    ERROR = "error"  # could not be validated at all (unreadable input)
    SKIPPED = "skipped"  # no schema and --ignore-missing-schemas
    EMPTY = "empty"


def _positional_pickling(cls: type) -> type:
    """Pickle a dataclass as its constructor and field values: ``-j N`` sends every result from a worker to the
    parent, and the default path for slotted dataclasses (a state dict, set field by field) took a sixth of an
    L1-L4 run's time on two cores."""
    values = operator.attrgetter(*(f.name for f in fields(cls)))

    def __reduce__(self):
        return cls, values(self)

    cls.__reduce__ = __reduce__
    return cls


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem as a check sees it: no file or document yet; the engine adds those."""

    rule: str
    path: str
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR
    line: int | None = None
    column: int | None = None


@_positional_pickling
@dataclass(frozen=True, slots=True)
class Finding:
    """One problem located in one document of one file."""

    level: int
    rule: str
    message: str
    path: str = ""
    hint: str = ""
    severity: Severity = Severity.ERROR
    file: str = ""
    doc: int = 0
    kind: str = ""
    name: str = ""
    line: int | None = None
    column: int | None = None
    checkov: str = ""

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES.get(self.level, f"L{self.level}")

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    def to_dict(self) -> dict:
        """The fields in declaration order, empty ones left out. Written out rather than ``asdict``, whose
        recursive deep copy took more than a tenth of a ``-o json`` run at ``best-practice`` (three findings a
        document); tests/test_output.py checks that every field is here."""
        out = {"level": self.level_name, "rule": self.rule, "message": self.message, "path": self.path,
               "hint": self.hint, "severity": str(self.severity), "file": self.file, "doc": self.doc,
               "kind": self.kind, "name": self.name, "line": self.line, "column": self.column,
               "checkov": self.checkov}
        return {k: v for k, v in out.items() if v is not None and v != ""}


@_positional_pickling
@dataclass(slots=True)
class DocumentResult:
    """The verdict for one YAML document: status, the level that rejected it, and all findings."""

    file: str
    doc: int
    kind: str = ""
    name: str = ""
    namespace: str = ""
    api_version: str = ""
    status: Status = Status.VALID
    failed_level: int | None = None
    findings: list[Finding] = field(default_factory=list)
    line: int | None = None
    item: int | None = None
    """Position inside a v1 List document (kubectl get -o yaml output); None for plain documents."""

    @property
    def passed(self) -> bool:
        return self.status in (Status.VALID, Status.SKIPPED, Status.EMPTY)

    @property
    def ident(self) -> str:
        ident = f"{self.kind}/{self.name}" if self.kind else "(unknown kind)"
        return ident if self.item is None else f"items[{self.item}] {ident}"

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "doc": self.doc,
            **({"item": self.item} if self.item is not None else {}),
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "apiVersion": self.api_version,
            "status": str(self.status),
            "failedLevel": LEVEL_NAMES.get(self.failed_level) if self.failed_level else None,
            "findings": [f.to_dict() for f in self.findings],
        }
