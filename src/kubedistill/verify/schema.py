"""L2a: strict validation against the Kubernetes OpenAPI schemas and custom-resource schemas.

Built-in schemas come from the ``kubernetes-validate`` package data (Kubernetes 1.25-1.37, strict
variant: unknown fields are errors), so no network is needed. Kinds are looked up by the exact
group/version/kind that each definition declares (``x-kubernetes-group-version-kind``), not by
file-name guessing, so a custom ``networking.example.com/v1 Ingress`` is never mistaken for the
built-in one. Custom resources are validated against CRD manifests or JSON-schema files given with
``--schema-location`` or found among the inputs, including the CRDs' string formats and CEL rules.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubedistill.verify.compiler import Check, Compiler
from kubedistill.verify.crdrules import settle
from kubedistill.verify.defaults import defaulter
from kubedistill.verify.finding import Issue

log = logging.getLogger(__name__)

DEFAULT_K8S_VERSION = "1.33"

# Required in the OpenAPI schema, but defaulted by the API server, so a manifest may omit them.
DEFAULTED_REQUIRED = frozenset({
    ("io.k8s.api.batch.v1.PodFailurePolicyOnPodConditionsPattern", "status"),  # defaults to "True"
    ("io.k8s.api.core.v1.ContainerResizePolicy", "restartPolicy"),  # defaults to NotRequired
    ("io.k8s.api.rbac.v1.RoleRef", "apiGroup"),  # rbac/v1 defaulting sets rbac.authorization.k8s.io
    ("io.k8s.api.discovery.v1.EndpointSlice", "endpoints"),  # a nil list is valid (no endpoints yet)
})

# (group, version) -> (Kubernetes minor in which it stopped being served, replacement apiVersion);
# kind-specific entries override the group-wide one.
REMOVED_APIS: dict[tuple[str, str, str], tuple[int, str]] = {
    ("extensions", "v1beta1", "Deployment"): (16, "apps/v1"),
    ("extensions", "v1beta1", "DaemonSet"): (16, "apps/v1"),
    ("extensions", "v1beta1", "ReplicaSet"): (16, "apps/v1"),
    ("extensions", "v1beta1", "NetworkPolicy"): (16, "networking.k8s.io/v1"),
    ("extensions", "v1beta1", "PodSecurityPolicy"): (16, "(none: use Pod Security admission)"),
    ("extensions", "v1beta1", "Ingress"): (22, "networking.k8s.io/v1"),
    ("apps", "v1beta1", "*"): (16, "apps/v1"),
    ("apps", "v1beta2", "*"): (16, "apps/v1"),
    ("networking.k8s.io", "v1beta1", "*"): (22, "networking.k8s.io/v1"),
    ("batch", "v1beta1", "*"): (25, "batch/v1"),
    ("batch", "v2alpha1", "*"): (21, "batch/v1"),
    ("autoscaling", "v2beta1", "*"): (25, "autoscaling/v2"),
    ("autoscaling", "v2beta2", "*"): (26, "autoscaling/v2"),
    ("policy", "v1beta1", "PodDisruptionBudget"): (25, "policy/v1"),
    ("policy", "v1beta1", "PodSecurityPolicy"): (25, "(none: use Pod Security admission)"),
    ("rbac.authorization.k8s.io", "v1beta1", "*"): (22, "rbac.authorization.k8s.io/v1"),
    ("rbac.authorization.k8s.io", "v1alpha1", "*"): (22, "rbac.authorization.k8s.io/v1"),
    ("apiextensions.k8s.io", "v1beta1", "*"): (22, "apiextensions.k8s.io/v1"),
    ("admissionregistration.k8s.io", "v1beta1", "MutatingWebhookConfiguration"): (
        22, "admissionregistration.k8s.io/v1"),
    ("admissionregistration.k8s.io", "v1beta1", "ValidatingWebhookConfiguration"): (
        22, "admissionregistration.k8s.io/v1"),
    ("apiregistration.k8s.io", "v1beta1", "*"): (22, "apiregistration.k8s.io/v1"),
    ("scheduling.k8s.io", "v1beta1", "*"): (22, "scheduling.k8s.io/v1"),
    ("certificates.k8s.io", "v1beta1", "*"): (22, "certificates.k8s.io/v1"),
    ("coordination.k8s.io", "v1beta1", "*"): (22, "coordination.k8s.io/v1"),
    ("storage.k8s.io", "v1beta1", "*"): (22, "storage.k8s.io/v1"),
    ("storage.k8s.io", "v1beta1", "CSIStorageCapacity"): (27, "storage.k8s.io/v1"),
    ("discovery.k8s.io", "v1beta1", "*"): (25, "discovery.k8s.io/v1"),
    ("events.k8s.io", "v1beta1", "*"): (25, "events.k8s.io/v1"),
    ("node.k8s.io", "v1beta1", "*"): (25, "node.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io", "v1beta1", "*"): (26, "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io", "v1beta2", "*"): (29, "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io", "v1beta3", "*"): (32, "flowcontrol.apiserver.k8s.io/v1"),
}


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def removed_api(api_version: str, kind: str, minor: int) -> str | None:
    """The replacement apiVersion when ``api_version``/``kind`` is no longer served in 1.<minor>."""
    group, version = split_api_version(api_version)
    entry = REMOVED_APIS.get((group, version, kind)) or REMOVED_APIS.get((group, version, "*"))
    if entry and minor >= entry[0]:
        return f"{entry[1]} (removed in Kubernetes 1.{entry[0]})"
    return None


@functools.lru_cache(maxsize=1)
def schema_root() -> Path:
    """kubernetes-validate's schema folder, found without importing the package: its import (jsonschema and
    more) took 70 ms or more of every start of ``kubedistill validate``."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("kubernetes-validate is not installed; pip install kubernetes-validate")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def available_versions() -> list[str]:
    root = schema_root()
    found = {m.group(1) for p in root.iterdir() if (m := re.match(r"v(\d+\.\d+)\.0-local-strict$", p.name))}
    return sorted(found, key=lambda v: tuple(map(int, v.split("."))))


def minor_of(version: str) -> int:
    return int(version.lstrip("v").split(".")[1])


@dataclass(frozen=True)
class SchemaMatch:
    """How a document's kind was resolved: a compiled check, or why there is none."""

    check: Check | None
    status: str  # "builtin" | "custom" | "missing" | "removed" | "unknown-builtin"
    detail: str = ""


class BuiltinSchemas:
    """The Kubernetes schemas of one minor version, indexed by (group, version, kind)."""

    def __init__(self, version: str = DEFAULT_K8S_VERSION) -> None:
        versions = available_versions()
        wanted = version.lstrip("v")
        wanted = ".".join(wanted.split(".")[:2])
        if wanted not in versions:
            raise ValueError(f"unsupported Kubernetes version {version!r}; available: {', '.join(versions)}")
        self.version = wanted
        path = schema_root() / f"v{wanted}.0-local-strict" / "_definitions.json"
        definitions = json.loads(path.read_text())["$defs"]
        self.index: dict[tuple[str, str, str], str] = {}
        for name, schema in definitions.items():
            for gvk in schema.get("x-kubernetes-group-version-kind", []) or []:
                if not name.endswith("List") and {"apiVersion", "kind"} <= set(schema.get("properties", {})):
                    self.index[(gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))] = name
        self.groups = {g for g, _, _ in self.index}
        self.compiler = Compiler(definitions, DEFAULTED_REQUIRED, strict=True)

    def lookup(self, group: str, version: str, kind: str) -> Check | None:
        name = self.index.get((group, version, kind))
        return self.compiler.definition(name) if name else None


@functools.lru_cache(maxsize=8)
def builtin_schemas(version: str = DEFAULT_K8S_VERSION) -> BuiltinSchemas:
    return BuiltinSchemas(version)


REMOVED_GROUPS = frozenset(g for g, _, _ in REMOVED_APIS)
LEGACY_BUILTIN_GROUPS = {"", "apps", "batch", "autoscaling", "policy", "extensions"}


class CustomSchemas:
    """Schemas for custom resources: CRD manifests and kubeconform-style JSON-schema files.

    CRD schemas are checked as the API server checks custom resources: defaults applied first, then the
    structural schema, its string ``format``s and its ``x-kubernetes-validations`` rules (``rules=False`` checks
    the structural schema alone). A scope may have a ``parent``: the CRDs of one input file are looked up before
    those of the whole run."""

    def __init__(self, parent: CustomSchemas | None = None, rules: bool = True) -> None:
        self.parent = parent
        self.rules = rules if parent is None else parent.rules
        self._schemas: dict[tuple[str, str, str], dict] = {}
        self._crd_keys: set[tuple[str, str, str]] = set()
        self._status: set[tuple[str, str, str]] = set()
        """CRD versions with the status subresource: the API server drops ``status`` from a created object."""
        self._compiled: dict[tuple[str, str, str, int], Check] = {}

    def __len__(self) -> int:
        return len(self._schemas)

    def add_crd(self, crd: dict) -> int:
        """Register every served version of a CustomResourceDefinition; returns how many were added."""
        spec = crd.get("spec") if isinstance(crd.get("spec"), dict) else {}
        group = spec.get("group", "")
        kind = (spec.get("names") or {}).get("kind", "") if isinstance(spec.get("names"), dict) else ""
        added = 0
        for ver in spec.get("versions") or []:
            if not isinstance(ver, dict):
                continue
            schema = ((ver.get("schema") or {}).get("openAPIV3Schema")) or (spec.get("validation") or {}).get(
                "openAPIV3Schema")
            if isinstance(schema, dict) and group and kind and isinstance(ver.get("name"), str):
                key = (group, ver["name"], kind)
                self._schemas[key] = _with_object_meta(schema)
                self._crd_keys.add(key)
                subresources = ver.get("subresources") or spec.get("subresources")
                if isinstance(subresources, dict) and "status" in subresources:
                    self._status.add(key)
                else:
                    self._status.discard(key)
                self._compiled = {k: v for k, v in self._compiled.items() if k[:3] != key}
                added += 1
        return added

    def add_json_schema(self, path: Path, schema: dict) -> bool:
        """A JSON schema file named ``kind_version.json`` (optionally under a folder named for its group)."""
        for gvk in schema.get("x-kubernetes-group-version-kind", []) or []:
            self._schemas[(gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))] = schema
            return True
        match = re.match(r"(?P<kind>[a-z0-9]+)[_-](?P<version>v\d+\w*)$", path.stem)
        if not match:
            return False
        group = path.parent.name if "." in path.parent.name else "*"
        self._schemas[(group, match["version"], match["kind"])] = schema
        return True

    def load(self, location: str) -> int:
        """Read a file or a directory tree of CRD manifests (YAML/JSON) and JSON schemas."""
        root = Path(location)
        if not root.exists():
            raise FileNotFoundError(location)
        suffixes = (".yaml", ".yml", ".json")
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in suffixes)
        count = 0
        for path in files:
            if path.suffix == ".json":
                try:
                    data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
                except json.JSONDecodeError:
                    continue
                if isinstance(data, dict) and data.get("kind") != "CustomResourceDefinition":
                    count += self.add_json_schema(path, data)
                    continue
                docs = [data]
            else:
                docs = crd_documents(path)
            for doc in docs:
                for crd in _crds_in(doc):
                    count += self.add_crd(crd)
        return count

    def lookup(self, group: str, version: str, kind: str, minor: int = 0) -> Check | None:
        key = (group, version, kind)
        schema = self._schemas.get(key)
        if schema is None:
            key = ("*", version, kind.lower())
            schema = self._schemas.get(key)
        if schema is None:
            return self.parent.lookup(group, version, kind, minor) if self.parent is not None else None
        slot = (*key, minor)
        if slot not in self._compiled:
            crd = self.rules and key in self._crd_keys
            self._compiled[slot] = _custom_check(schema, minor if crd else None, key in self._status)
        return self._compiled[slot]


def _crds_in(doc: Any) -> list[dict]:
    """The CRDs of one document: itself, or the items of a v1 List (``kubectl get crd -o yaml``)."""
    if not isinstance(doc, dict):
        return []
    if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        return [i for i in doc["items"] if isinstance(i, dict) and i.get("kind") == "CustomResourceDefinition"]
    return [doc] if doc.get("kind") == "CustomResourceDefinition" else []


def crd_documents(path: Path) -> Iterator[dict]:
    """The CustomResourceDefinitions of a YAML file, read document by document: documents that do not mention
    them are not parsed, and a long stream is never held whole."""
    from kubedistill.verify.stream import decoded_blocks, split_documents  # local: stream -> syntax -> ...
    from kubedistill.verify.syntax import parse_stream

    with open(path, "rb") as handle:
        for chunk in split_documents(decoded_blocks(handle)):
            if chunk.issue is None and "CustomResourceDefinition" in chunk.text:
                for parsed in parse_stream(chunk.text):
                    yield from _crds_in(parsed.data)


def declares_crds(path: str, block: int = 1 << 20) -> bool:
    """Whether a file mentions CustomResourceDefinition; read in blocks, so a huge file costs no memory."""
    needle, tail = b"CustomResourceDefinition", b""
    try:
        with open(path, "rb") as handle:
            while data := handle.read(block):
                if needle in tail + data:
                    return True
                tail = data[-len(needle):]
    except OSError:
        return False
    return False


def _custom_check(schema: dict, crd_minor: int | None, drop_status: bool = False) -> Check:
    """Structural schema check; for a CRD (``crd_minor`` set) with defaults first and rules settled after. With
    the status subresource, a create drops ``status`` before validation (customResourceStrategy), so do we."""
    check = Compiler({}, strict=True, crd_minor=crd_minor).compile(schema)
    fill = defaulter(schema) if crd_minor is not None else None
    if crd_minor is None and not drop_status:
        return check

    def custom(value: Any, path: Any, errors: list[Issue]) -> None:
        if drop_status and type(value) is dict and "status" in value:
            value = {k: v for k, v in value.items() if k != "status"}
        if crd_minor is None:
            check(value, path, errors)
            return
        found: list[Issue] = []
        check(fill(value) if fill is not None else value, path, found)
        errors.extend(settle(found))

    return custom


def _with_object_meta(schema: dict) -> dict:
    """CRD schemas leave apiVersion/kind/metadata implicit; declare them so strict mode accepts them."""
    props = dict(schema.get("properties") or {})
    for key in ("apiVersion", "kind"):
        props.setdefault(key, {"type": "string"})
    props["metadata"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {**schema, "properties": props}


class SchemaValidator:
    """Resolves a document's kind and runs the compiled strict schema check (L2a)."""

    def __init__(self, version: str = DEFAULT_K8S_VERSION, custom: CustomSchemas | None = None) -> None:
        self.builtin = builtin_schemas(version)
        self.minor = minor_of(self.builtin.version)
        self.custom = custom or CustomSchemas()

    def is_builtin_group(self, group: str) -> bool:
        return group in self.builtin.groups or group in LEGACY_BUILTIN_GROUPS or group in REMOVED_GROUPS

    def match(self, api_version: str, kind: str) -> SchemaMatch:
        group, version = split_api_version(api_version)
        replacement = removed_api(api_version, kind, self.minor)
        if replacement:
            return SchemaMatch(None, "removed", replacement)
        check = self.builtin.lookup(group, version, kind)
        if check is not None:
            return SchemaMatch(check, "builtin")
        check = self.custom.lookup(group, version, kind, self.minor)
        if check is not None:
            return SchemaMatch(check, "custom")
        if self.is_builtin_group(group):
            known = sorted(f"{(g + '/') if g else ''}{v}" for g, v, k in self.builtin.index if k == kind)
            return SchemaMatch(None, "unknown-builtin", ", ".join(known))
        return SchemaMatch(None, "missing")

    def validate(self, doc: dict) -> tuple[list[Issue], str]:
        """Issues for one document, and how its schema was resolved."""
        api_version, kind = doc.get("apiVersion"), doc.get("kind")
        match = self.match(api_version, kind)
        if match.status == "removed":
            return [Issue("L2-REMOVED-API", "/apiVersion", f"{api_version} {kind} is not served by Kubernetes "
                          f"1.{self.minor}", f"use apiVersion {match.detail}")], match.status
        if match.status == "unknown-builtin":
            hint = f"{kind} is served as: {match.detail}" if match.detail else f"check the kind {kind!r}"
            return [Issue("L2-UNKNOWN-KIND", "/kind", f"Kubernetes 1.{self.minor} has no {kind} in {api_version}",
                          hint)], match.status
        if match.check is None:
            return [], match.status
        issues: list[Issue] = []
        match.check(doc, "", issues)
        return issues, match.status


def describe_missing(api_version: Any, kind: Any) -> Issue:
    return Issue("L2-SCHEMA-MISSING", "/kind", f"no schema for {kind} ({api_version})",
                 "pass its CRD or JSON schema with --schema-location, or use --ignore-missing-schemas")
