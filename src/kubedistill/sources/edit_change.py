"""One edit as data: how the input and the answer differ from a base manifest, and how a person asks for it.

An edit pair starts from a manifest that passes every level (the offline teacher's own, or a real one). A
``Change`` says how to make the input from a copy of that base (``before``: take a probe out, inject a defect)
and how to make the answer (``after``: scale, add a Service, convert a Pod), which values the request states
(``objects``, checked by L4), where the answer may differ from the input (``changes``, the edit conformance of
``verify/edit.py``) and the words for it. ``edit_fields.py``, ``edit_pods.py``, ``edit_kinds.py``,
``edit_companions.py``, ``edit_conversions.py`` and ``edit_defects.py`` write changes; ``edits.py`` turns them into
pairs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubedistill.context.spec import ObjectRef, ObjectSpec
from kubedistill.verify import pointer
from kubedistill.verify.edit import NAMED_LISTS
from kubedistill.verify.objects import as_dict, as_list, dig, pod_spec

Docs = list[dict]
LONG_RUNNING = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"})
SCALABLE = frozenset({"Deployment", "StatefulSet", "ReplicaSet"})
CONTROLLERS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})


def _nothing(docs: Docs) -> None:
    return None


@dataclass
class Change:
    """One requested change (or, for ``edit-fix``, one injected defect) on a base manifest."""

    op: str
    asks: list[str] = field(default_factory=list)
    """Ways to say it: verb phrases without a final stop that never say "it" ("add a readiness probe ...")."""
    short: list[str] = field(default_factory=list)
    """Shorthand for terse requests ("replicas 2 -> 4")."""
    reasons: list[str] = field(default_factory=list)
    """Why someone would ask, for requests that give context ("traffic reaches pods before they are ready")."""
    before: Callable[[Docs], None] = _nothing
    """Turns a copy of the base into the input (in place)."""
    after: Callable[[Docs], None] = _nothing
    """Turns a copy of the base into the answer (in place)."""
    text: Callable[[str], str] | None = None
    """Damages the input's YAML text once it is written (a duplicate key cannot be written from data)."""
    objects: list[ObjectSpec] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    absent: list[ObjectRef] = field(default_factory=list)
    area: str = ""
    """What it touches; two changes of one request never share an area, so each stays checkable."""
    defect: str = ""
    """edit-fix: what kubectl or the validator says about the input."""
    restricted: bool = False
    """edit-fix: the defect breaks the restricted Pod Security profile ("make it pass restricted")."""


def key(doc: dict) -> tuple[str, str, str]:
    meta = as_dict(doc.get("metadata"))
    return str(doc.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", ""))


def name_of(doc: dict) -> str:
    return str(dig(doc, "metadata", "name") or "")


def at(target: dict, fn: Callable[[dict], Any]) -> Callable[[Docs], None]:
    """A step that applies ``fn`` to the copy of ``target`` among the documents it is given."""
    wanted = key(target)

    def apply(docs: Docs) -> None:
        fn(next(d for d in docs if key(d) == wanted))

    return apply


def steps(*fns: Callable[[Docs], None]) -> Callable[[Docs], None]:
    def apply(docs: Docs) -> None:
        for fn in fns:
            fn(docs)

    return apply


def add_docs(*objects: dict) -> Callable[[Docs], None]:
    def apply(docs: Docs) -> None:
        docs.extend(copy.deepcopy(o) for o in objects)

    return apply


def replace_doc(target: dict, *objects: dict) -> Callable[[Docs], None]:
    """A step that puts ``objects`` where ``target`` was (a Pod becomes a Deployment in the same place)."""
    wanted = key(target)

    def apply(docs: Docs) -> None:
        index = next(i for i, d in enumerate(docs) if key(d) == wanted)
        docs[index:index + 1] = [copy.deepcopy(o) for o in objects]

    return apply


def pod_pointer(doc: dict) -> str | None:
    ref = pod_spec(doc)
    return ref.path if ref is not None else None


def pod_of(doc: dict) -> dict:
    ref = pod_spec(doc)
    return ref.spec if ref is not None else {}


def main_container(doc: dict) -> tuple[int, dict] | None:
    items = as_list(pod_of(doc).get("containers"))
    if items and isinstance(items[0], dict) and isinstance(items[0].get("name"), str):
        return 0, items[0]
    return None


def container_at(doc: dict, index: int, list_name: str = "containers") -> dict:
    return pod_of(doc)[list_name][index]


def place(doc: dict, path: str = "") -> str:
    """A ``changes`` entry: ``Kind/name /path`` (named list items by name), or the whole object."""
    where = f"{doc.get('kind')}/{name_of(doc)}"
    return f"{where} {path}" if path else where


def named(doc: dict, path: str) -> str:
    """``path`` as ``changes`` entries address it: items of named lists (containers, env, ports, volumes ...) by
    name; a list whose items are not all named is compared as a whole, so the path stops at the list."""
    node: Any = doc
    out: list[str] = []
    parent = ""
    for part in pointer.parts(path):
        if isinstance(node, list):
            labels = [_item_name(item) for item in node]
            if parent not in NAMED_LISTS or None in labels or not part.isdigit() or int(part) >= len(node):
                break
            out.append(pointer.escape(str(labels[int(part)])))
            node = node[int(part)]
        else:
            out.append(pointer.escape(part))
            node = node.get(part) if isinstance(node, dict) else None
        parent = part
    return "/" + "/".join(out) if out else ""


def below(doc: dict, parent: str, *keys: str) -> str:
    """The ``changes`` path of ``keys`` under ``parent``: the parent alone when it is a list compared as a whole or
    does not exist yet (the edit check then sees the whole parent change)."""
    where = named(doc, parent)
    node: Any = doc
    for part in pointer.parts(parent):
        node = node[int(part)] if isinstance(node, list) and part.isdigit() else as_dict(node).get(part)
    if len(pointer.parts(where)) < len(pointer.parts(parent)) or not isinstance(node, dict):
        return where
    return where + "".join("/" + pointer.escape(k) for k in keys)


def _item_name(item: Any) -> str | None:
    """How the edit check names a list item (``verify/edit.py``): its name, else its port or path."""
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("name"), str):
        return item["name"]
    if isinstance(dig(item, "metadata", "name"), str):
        return item["metadata"]["name"]
    for field_name in ("containerPort", "port", "mountPath", "devicePath", "ip"):
        if item.get(field_name) is not None:
            return f"{field_name}={item[field_name]}"
    return None


def ptr(*parts: object) -> str:
    return "".join("/" + pointer.escape(str(p)) for p in parts)


def wants(doc: dict, **values: Any) -> ObjectSpec:
    """The requested values for ``doc`` (kind and name filled in)."""
    return ObjectSpec(kind=str(doc.get("kind")), name=name_of(doc), **values)


def merge(objects: list[ObjectSpec]) -> list[ObjectSpec]:
    """One ObjectSpec per (kind, name): two changes of one request on one object ask for both sets of values."""
    out: dict[tuple[str, str | None], ObjectSpec] = {}
    for o in objects:
        have = out.get((o.kind, o.name))
        if have is None:
            out[(o.kind, o.name)] = copy.deepcopy(o)
            continue
        for name, value in vars(o).items():
            if isinstance(value, dict):
                getattr(have, name).update(value)
            elif isinstance(value, list):
                getattr(have, name).extend(v for v in value if v not in getattr(have, name))
            elif value is not None and getattr(have, name) is None:
                setattr(have, name, value)
    return list(out.values())


def selector_labels(doc: dict) -> dict[str, str]:
    """The workload's selector as plain labels (empty when it uses expressions or has none)."""
    selector = as_dict(dig(doc, "spec", "selector"))
    labels = selector.get("matchLabels")
    if set(selector) - {"matchLabels"} or not isinstance(labels, dict) or not labels:
        return {}
    return {str(k): str(v) for k, v in labels.items()}


def container_ports(c: dict) -> list[dict]:
    return [p for p in as_list(c.get("ports")) if isinstance(p, dict) and isinstance(p.get("containerPort"), int)]
