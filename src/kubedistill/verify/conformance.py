"""L4, second half: does the manifest do what the task asked? (task spec conformance)

Each requirement of an ``ObjectSpec`` is one small comparison against the best-matching object of
the answer. Quantities are compared as quantities ("1Gi" == "1024Mi"), images by repository and,
when the spec names one, by tag.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from typing import Any

from kubedistill.context.spec import ObjectSpec, TaskSpec
from kubedistill.verify import cron, pointer
from kubedistill.verify.edit import check_edit
from kubedistill.verify.facts import extract
from kubedistill.verify.finding import Issue
from kubedistill.verify.objects import as_dict, as_list, containers, dig, pod_spec
from kubedistill.verify.quantity import parse_quantity
from kubedistill.verify.registry import rule

MISSING = rule("L4-SPEC-MISSING-OBJECT", 4, "an object the task requires is absent")
MISMATCH = rule("L4-SPEC-MISMATCH", 4, "an object differs from what the task requires")
EXTRA = rule("L4-SPEC-EXTRA-OBJECT", 4, "an object the task did not ask for")


UNWANTED = rule("L4-SPEC-UNWANTED-OBJECT", 4, "an object the request says exists already, or not to write")


def check_spec(spec: TaskSpec, docs: list[tuple[int, dict]]) -> dict[int, list[Issue]]:
    """Spec issues per document index; issues about absent objects go to the first document.

    Each required object is matched to its own document where it can be ("three namespaces" needs three), the
    closest one first; only when the answer has fewer documents of a kind than the spec asks for is one matched
    twice, so a request read as two objects of one kind still fails a manifest that holds only one."""
    found: dict[int, list[Issue]] = {}
    first = docs[0][0] if docs else 0
    used: set[int] = set()
    ports = _named_ports(docs)
    for want in spec.objects:
        candidates = [(i, d) for i, d in docs if d.get("kind") == want.kind and
                      (want.name is None or dig(d, "metadata", "name") == want.name)]
        if not candidates:
            named = f" named {want.name!r}" if want.name else ""
            found.setdefault(first, []).append(Issue(MISSING, "", f"the task asks for a {want.kind}{named}; the "
                                                     "manifest has none", f"add the {want.kind}{named}"))
            continue
        if unused := [(i, d) for i, d in candidates if i not in used]:
            candidates = unused
        elif want.name is None:
            found.setdefault(first, []).append(Issue(MISSING, "", f"the task asks for one more {want.kind}; the "
                                                     "manifest has too few", f"add another {want.kind}"))
            continue
        scored = sorted(((list(mismatches(want, d, ports)), i) for i, d in candidates), key=lambda t: len(t[0]))
        problems, index = scored[0]
        used.add(index)
        if problems:
            found.setdefault(index, []).extend(problems)
    for i, issue in _unwanted(spec, docs):
        found.setdefault(i, []).append(issue)
    if spec.is_edit:
        for i, issues in check_edit(spec, docs, input_objects(spec.input)).items():
            found.setdefault(i, []).extend(issues)
    if spec.exact:
        for i, d in docs:
            if i not in used:
                found.setdefault(i, []).append(Issue(EXTRA, "", f"{d.get('kind')} is not part of the task",
                                                     "remove objects the task did not ask for"))
    return found


def input_objects(text: str) -> list[dict]:
    """The objects of an edit's input, as far as they parse (an input handed over to be fixed may not, wholly):
    documents that are mappings with a kind; v1 Lists give their items. A duplicate key reads as YAML reads it,
    the last one winning, so "fix the duplicate key" still has an input to compare with; a document that does
    not parse at all is left out."""
    import yaml

    from kubedistill.verify.syntax import parse_stream  # local: the parser, not a conformance rule

    out: list[dict] = []
    for chunk in re.split(r"(?m)^---[ \t]*(?:#.*)?$", text):
        try:  # read as the cluster reads it; where that refuses (a duplicate key), as plain YAML does
            docs = [d.data for d in parse_stream(chunk)]
            if any(d is None for d in docs) and chunk.strip():
                docs = list(yaml.safe_load_all(chunk))
        except yaml.YAMLError:
            continue
        except Exception:  # our parser's refusals (depth, aliases, encodings): nothing to compare with
            continue
        for data in docs:
            items = data.get("items") if isinstance(data, dict) and data.get("kind") == "List" else [data]
            out.extend(d for d in items or [] if isinstance(d, dict) and isinstance(d.get("kind"), str))
    return out


def _unwanted(spec: TaskSpec, docs: list[tuple[int, dict]]) -> Iterator[tuple[int, Issue]]:
    """Documents that write an object the request says exists already or is not to be written."""
    for refs, why, hint in ((spec.existing, "exists in the cluster already", "use it; do not write it again"),
                            (spec.absent, "is not to be written", "leave it out")):
        for ref in refs:
            for i, d in docs:
                if d.get("kind") == ref.kind and ref.name in (None, dig(d, "metadata", "name")):
                    what = f"{ref.kind} {ref.name!r}" if ref.name else f"a {ref.kind}"
                    yield i, Issue(UNWANTED, "", f"the request says {what} {why}; the manifest writes it",
                                   f"{hint} (remove this {ref.kind})")


def _issue(path: str, what: str, want: Any, got: Any) -> Issue:
    return Issue(MISMATCH, path, f"the task requires {what} {want!r}; the manifest has {got!r}",
                 f"set {what} to {want!r}")


def _same_quantity(a: Any, b: Any) -> bool:
    qa, qb = parse_quantity(a), parse_quantity(b)
    return qa is not None and qa == qb


def _normalize_image(image: str) -> str:
    return image.removeprefix("docker.io/").removeprefix("library/")


def _repository(image: str) -> str:
    image = image.split("@")[0]
    head, _, last = image.rpartition("/")
    return (head + "/" if head else "") + last.split(":")[0]


def _image_matches(want: str, got: Any) -> bool:
    if not isinstance(got, str):
        return False
    want_n, got_n = _normalize_image(want), _normalize_image(got)
    if ":" in want_n.rsplit("/", 1)[-1] or "@" in want_n:
        return want_n == got_n
    return _repository(got_n) == want_n


def mismatches(want: ObjectSpec, doc: dict, named_ports: dict[str, set[int]] | None = None) -> Iterator[Issue]:
    for check in _CHECKS:
        yield from check(want, doc)
    yield from _service(want, doc, named_ports or {})


def _named_ports(docs: list[tuple[int, dict]]) -> dict[str, set[int]]:
    """Container port name -> numbers, over the bundle's pods: a Service's ``targetPort: http`` is the number its
    pods give that name, so a spec asking for target port 8080 is met by it."""
    named: dict[str, set[int]] = {}
    for _, doc in docs:
        ref = pod_spec(doc)
        for c in containers(ref, ("containers", "initContainers")) if ref is not None else ():
            for port in map(as_dict, as_list(c.container.get("ports"))):
                if isinstance(port.get("name"), str) and isinstance(port.get("containerPort"), int):
                    named.setdefault(port["name"], set()).add(port["containerPort"])
    return named


def _namespace(want: ObjectSpec, doc: dict) -> Iterator[Issue]:
    got = dig(doc, "metadata", "namespace") or "default"
    if want.namespace and got != want.namespace:
        yield _issue("/metadata/namespace", "namespace", want.namespace, got)


def _labels(want: ObjectSpec, doc: dict) -> Iterator[Issue]:
    got = as_dict(dig(doc, "metadata", "labels"))
    for key, value in want.labels.items():
        if got.get(key) != value:
            yield _issue(f"/metadata/labels/{pointer.escape(key)}", f"label {key}", value, got.get(key))


def _workload(want: ObjectSpec, doc: dict) -> Iterator[Issue]:
    ref = pod_spec(doc)
    if ref is None:
        return
    # Init containers count too: a native sidecar (an init container with restartPolicy Always) serves ports for
    # the pod's whole life, and a request that names an image or a port may mean any container of the pod.
    items = [c for c in containers(ref, ("containers", "initContainers"))]
    if want.image and not any(_image_matches(want.image, c.container.get("image")) for c in items):
        yield _issue(f"{ref.path}/containers/0/image", "image", want.image,
                     [c.container.get("image") for c in items])
    if want.replicas is not None and doc.get("kind") != "Pod":
        got = as_dict(doc.get("spec")).get("replicas", 1)
        if got != want.replicas:
            yield _issue("/spec/replicas", "replicas", want.replicas, got)
    declared = [p.get("containerPort") for c in items for p in map(as_dict, as_list(c.container.get("ports")))]
    for port in want.ports:
        if port not in declared:
            yield _issue(f"{ref.path}/containers/0/ports", "containerPort", port, declared)
    env = {e.get("name"): e.get("value") for c in items for e in map(as_dict, as_list(c.container.get("env")))}
    for name, value in want.env.items():
        if name not in env or (value is not None and str(env[name]) != str(value)):
            yield _issue(f"{ref.path}/containers/0/env", f"env {name}", value, env.get(name))
    for section, wanted in (("requests", want.requests), ("limits", want.limits)):
        for res, value in wanted.items():
            got = [dig(c.container, "resources", section, res) for c in items]
            if not any(_same_quantity(value, g) for g in got):
                yield _issue(f"{ref.path}/containers/0/resources/{section}/{res}", f"{res} {section[:-1]}", value,
                             got[0] if got else None)
    yield from _security(want, ref, [c for c in items if c.list_name == "containers"])


def _security(want: ObjectSpec, ref: Any, items: list) -> Iterator[Issue]:
    pod_non_root = dig(ref.spec, "securityContext", "runAsNonRoot") is True
    if want.run_as_non_root and not all(
            dig(c.container, "securityContext", "runAsNonRoot") is True or (
                pod_non_root and dig(c.container, "securityContext", "runAsNonRoot") is not False) for c in items):
        yield _issue(f"{ref.path}/securityContext/runAsNonRoot", "runAsNonRoot", True, False)
    if want.read_only_root_fs and not all(
            dig(c.container, "securityContext", "readOnlyRootFilesystem") is True for c in items):
        yield _issue(f"{ref.path}/containers/0/securityContext/readOnlyRootFilesystem", "readOnlyRootFilesystem",
                     True, False)


def _service(want: ObjectSpec, doc: dict, named_ports: dict[str, set[int]]) -> Iterator[Issue]:
    if doc.get("kind") != "Service":
        return
    spec = as_dict(doc.get("spec"))
    ports = [as_dict(p) for p in as_list(spec.get("ports"))]
    got_ports = [p.get("port") for p in ports]
    for port in want.ports:
        if port not in got_ports:
            yield _issue("/spec/ports", "Service port", port, got_ports)
    targets = [p.get("targetPort", p.get("port")) for p in ports]
    resolved = {n for t in targets if isinstance(t, str) for n in named_ports.get(t, ())}
    for target in want.target_ports:
        if target not in targets and target not in resolved:
            yield _issue("/spec/ports", "targetPort", target, targets)
    if want.service_type and spec.get("type", "ClusterIP") != want.service_type:
        yield _issue("/spec/type", "Service type", want.service_type, spec.get("type", "ClusterIP"))


def _storage(want: ObjectSpec, doc: dict) -> Iterator[Issue]:
    if not want.storage and not want.access_modes:
        return
    specs = [as_dict(doc.get("spec"))] if doc.get("kind") == "PersistentVolumeClaim" else [
        as_dict(as_dict(t).get("spec")) for t in as_list(dig(doc, "spec", "volumeClaimTemplates"))]
    if want.storage:
        got = [dig(s, "resources", "requests", "storage") for s in specs]
        if not any(_same_quantity(want.storage, g) for g in got):
            yield _issue("/spec/resources/requests/storage", "storage", want.storage, got[0] if got else None)
    modes = [m for s in specs for m in as_list(s.get("accessModes")) if isinstance(m, str)]
    for mode in want.access_modes:
        if mode not in modes:
            yield _issue("/spec/accessModes", "access mode", mode, modes)


def _schedule(want: ObjectSpec, doc: dict) -> Iterator[Issue]:
    got = dig(doc, "spec", "schedule")
    if want.schedule and cron.normalize(str(got or "")) != cron.normalize(want.schedule):
        yield _issue("/spec/schedule", "schedule", want.schedule, got)


def _ingress(want: ObjectSpec, doc: dict) -> Iterator[Issue]:
    if doc.get("kind") != "Ingress" or not (want.host or want.path):
        return
    rules = [as_dict(r) for r in as_list(dig(doc, "spec", "rules"))]
    hosts = [r.get("host") for r in rules]
    if want.host and want.host not in hosts:
        yield _issue("/spec/rules", "host", want.host, hosts)
    paths = [as_dict(p).get("path") for r in rules for p in as_list(dig(r, "http", "paths"))]
    if want.path and want.path not in paths:
        yield _issue("/spec/rules", "path", want.path, paths)


def _refs(want: ObjectSpec, doc: dict) -> Iterator[Issue]:
    if not want.refs:
        return
    facts = extract(0, doc)
    named = {(r.kind, r.name) for r in facts.references}
    named |= {("Service", b.get("name")) for _, b in facts.raw.get("backends", [])}
    target = facts.raw.get("target")
    if isinstance(target, tuple):
        named.add(target)
    for kind, name in want.refs.items():
        if (kind, name) not in named:
            yield _issue("", f"reference to {kind}", name, None)


def resolve_pointer(doc: Any, path: str) -> Any:
    """The value at a JSON pointer, or None when any step is missing."""
    got: Any = doc
    for part in pointer.parts(path):
        got = got[int(part)] if isinstance(got, list) and part.isdigit() and int(part) < len(got) else (
            got.get(part) if isinstance(got, dict) else None)
    return got


def same_value(want: Any, got: Any) -> bool:
    """Equal as the API server would see it: quantities by value, lists of scalars as sets, "3" == 3."""
    if want == got or _same_quantity(want, got):
        return True
    if isinstance(want, list) and isinstance(got, list):
        try:
            return set(map(str, want)) == set(map(str, got))
        except TypeError:
            return False
    return isinstance(want, int | str) and isinstance(got, int | str) and str(want) == str(got)


def _fields(want: ObjectSpec, doc: dict) -> Iterator[Issue]:
    for path, value in want.fields.items():
        got = resolve_pointer(doc, path)
        if got is None and path.startswith("/stringData/"):  # a Secret may carry the value base64-encoded
            encoded = resolve_pointer(doc, "/data/" + path.removeprefix("/stringData/"))
            got = _b64(encoded) if isinstance(encoded, str) else None
        if not same_value(value, got) and not any(same_value(value, resolve_pointer(doc, other))
                                                  for other in _other_containers(doc, path)):
            yield _issue(path, path, value, got)


_CONTAINER_STEP = re.compile(r"/(containers|initContainers)/(\d+)/")


def _other_containers(doc: dict, path: str) -> Iterator[str]:
    """The same pointer through each other container of that list: containers are matched by name, not by
    position, so "containers/0" of a spec is whichever container holds the value (a sidecar put first is no
    change to the pod)."""
    if not (step := _CONTAINER_STEP.search(path)):
        return
    items = resolve_pointer(doc, path[: step.start()] + "/" + step[1])
    for i in range(len(items) if isinstance(items, list) else 0):
        if str(i) != step[2]:
            yield f"{path[: step.start()]}/{step[1]}/{i}/{path[step.end():]}"


def _b64(text: str) -> str | None:
    try:
        return base64.b64decode("".join(text.split()), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None


_CHECKS: tuple[Callable[[ObjectSpec, dict], Iterator[Issue]], ...] = (
    _namespace, _labels, _workload, _storage, _schedule, _ingress, _refs, _fields)
