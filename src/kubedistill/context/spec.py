"""Task specs: the structured requirements of one task, checked by L4 against a manifest.

A spec is what an instruction asks for ("a redis Deployment named cache with 2 replicas and a
ClusterIP Service on 6379"), as data. Teachers render instructions from specs, L4 checks answers
against them, and evaluation counts a task as passed only when its answer meets its spec.
Every field is optional: a spec states only what the instruction actually requires.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class ObjectSpec:
    """Requirements on one object of the answer; ``kind`` is the only mandatory field."""

    kind: str
    name: str | None = None
    namespace: str | None = None
    image: str | None = None
    """Image the main container runs; a tag here must match, a bare repository accepts any tag."""
    replicas: int | None = None
    ports: list[int] = field(default_factory=list)
    """Container ports for workloads, service ports for Services."""
    target_ports: list[int | str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    service_type: str | None = None
    storage: str | None = None
    """Requested storage (PVC or StatefulSet volumeClaimTemplates), compared as a quantity."""
    access_modes: list[str] = field(default_factory=list)
    schedule: str | None = None
    host: str | None = None
    path: str | None = None
    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)
    run_as_non_root: bool | None = None
    read_only_root_fs: bool | None = None
    refs: dict[str, str] = field(default_factory=dict)
    """Named references the object must carry, e.g. {"ConfigMap": "app-config", "Service": "web"}."""
    fields: dict[str, Any] = field(default_factory=dict)
    """Any other requirement as JSON pointer -> expected value, e.g. {"/spec/minReplicas": 2}."""

    @classmethod
    def from_dict(cls, data: dict) -> ObjectSpec:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown object spec field(s): {', '.join(unknown)}")
        if not data.get("kind"):
            raise ValueError("object spec needs a kind")
        return cls(**data)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, [], {})}


@dataclass(frozen=True)
class ObjectRef:
    """An object named by kind and, where the request gives one, by name."""

    kind: str
    name: str | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ObjectRef:
        if not isinstance(data, dict) or not data.get("kind") or set(data) - {"kind", "name"}:
            raise ValueError(f"task spec '{where}' entries are mappings of kind and (optional) name, got {data!r}")
        return cls(str(data["kind"]), str(data["name"]) if data.get("name") else None)

    def to_dict(self) -> dict:
        return {"kind": self.kind, **({"name": self.name} if self.name else {})}


@dataclass
class TaskSpec:
    """What one task requires: its family and the objects the answer must contain."""

    family: str = ""
    objects: list[ObjectSpec] = field(default_factory=list)
    exact: bool = False
    """When true, the answer may contain no objects beyond those listed."""
    existing: list[ObjectRef] = field(default_factory=list)
    """Objects the request says are already in the cluster ("our existing db-creds Secret"): the answer uses
    them and must not write them again (it would overwrite what is there)."""
    absent: list[ObjectRef] = field(default_factory=list)
    """Objects the request says not to write ("no Ingress yet"); without a name, no object of that kind. In an
    edit, input objects the request removes (a Pod turned into a Deployment)."""
    input: str = ""
    """For an edit: the manifests the request hands over (YAML). The answer is the complete result, and
    everything the request does not ask to change must stay as it was (``verify/edit.py``)."""
    changes: list[str] = field(default_factory=list)
    """For an edit: where the answer may differ from the input, as ``Kind/name /path`` (named list items by
    name, ``*`` for any one segment; no path: the whole object, one the request adds)."""

    @classmethod
    def from_dict(cls, data: dict) -> TaskSpec:
        if not isinstance(data, dict):
            raise ValueError("task spec must be a mapping")
        objects = data.get("objects") or []
        if not isinstance(objects, list):
            raise ValueError("task spec 'objects' must be a list")
        unknown = sorted(set(data) - {"family", "objects", "exact", "existing", "absent", "input", "changes"})
        if unknown:
            raise ValueError(f"unknown task spec field(s): {', '.join(unknown)}")
        refs = {}
        for key in ("existing", "absent"):
            if not isinstance(data.get(key) or [], list):
                raise ValueError(f"task spec '{key}' must be a list")
            refs[key] = [ObjectRef.from_dict(item, key) for item in data.get(key) or []]
        changes = data.get("changes") or []
        if not isinstance(changes, list) or not all(isinstance(c, str) and c.strip() for c in changes):
            raise ValueError("task spec 'changes' must be a list of 'Kind/name /path' strings")
        if not isinstance(data.get("input") or "", str):
            raise ValueError("task spec 'input' must be the input manifests as YAML text")
        return cls(family=str(data.get("family", "")), exact=bool(data.get("exact", False)),
                   objects=[ObjectSpec.from_dict(o) for o in objects], input=data.get("input") or "",
                   changes=[c.strip() for c in changes], **refs)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"family": self.family, "objects": [o.to_dict() for o in self.objects]}
        if self.exact:
            out["exact"] = True
        for key in ("existing", "absent"):
            if getattr(self, key):
                out[key] = [ref.to_dict() for ref in getattr(self, key)]
        if self.input:
            out["input"] = self.input
        if self.changes:
            out["changes"] = list(self.changes)
        return out

    @property
    def is_edit(self) -> bool:
        return bool(self.input.strip())
