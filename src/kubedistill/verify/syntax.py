"""L1: YAML syntax, parsed safely and within bounds.

The exact path uses libyaml (``yaml.CSafeLoader``) for the scanner and composer and our own constructor
for the data, because we need what PyYAML's safe constructor does not give: duplicate keys as
errors, Kubernetes' YAML-to-JSON view of scalars (timestamps stay strings, scalar keys become
strings), and bounds on nesting depth and alias expansion so that a hostile file (billion laughs,
100,000 nested brackets) fails fast instead of exhausting memory or the C stack.

Composing Python node objects is most of the verifier's time, so a document first tries the fast path of
``fastyaml`` (a Rust parser, trusted only where it provably builds what this module would build); the
node tree that positions findings is then composed only for documents with findings.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import yaml
import yaml._yaml as _yaml

from kubedistill.verify import fastyaml, pointer, position
from kubedistill.verify.finding import Issue

MAX_DEPTH = 200
"""Deepest nesting accepted; real objects (CRD schemas included) stay well under 60."""
MAX_EXPANDED_NODES = 1_000_000
"""Nodes a document may expand to through aliases; a billion-laughs file exceeds it at once."""
SAFE_FLOW_MARKERS = 5_000
"""Below this many '[' / '{' and this line length, libyaml's recursive composer cannot overflow."""

_SAFE = yaml.constructor.SafeConstructor  # for PyYAML's own scalar conversions (ints like 0x1F, floats like .inf)
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_ANCHOR_LEAD = frozenset(" \t\r\n,[{:-")


def _may_alias(text: str) -> bool:
    """Is there an anchor (``&name``)? Aliases need one, so without it the alias-expansion check is skipped.
    Found from each '&' (a regex led by a character class tried every position: 0.5 ms for a CRD)."""
    at = text.find("&")
    while at >= 0:
        if (at == 0 or text[at - 1] in _ANCHOR_LEAD) and at + 1 < len(text) and text[at + 1] not in " \t\r\n&":
            return True
        at = text.find("&", at + 1)
    return False


_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"})


@dataclass(slots=True)
class ParsedDoc:
    """One document of a stream: its data (None when it failed L1), its node tree, and L1 issues.

    A fast-parsed document keeps its ``source`` text instead of a tree; ``node`` composes the tree on first
    use (only documents with findings to position need it).
    """

    index: int
    data: Any = None
    tree: yaml.Node | None = None
    line: int | None = None
    issues: list[Issue] = field(default_factory=list)
    source: str | None = None
    walked: bool = False

    def locate(self, path: str) -> tuple[int, int] | None:
        """Line and column (1-based, within the document) where a JSON-pointer path is written.

        A fast-parsed document's first finding, when it names a top-level field, is searched in libyaml's event
        stream, stopping at the path: most documents with findings have one there (a custom resource's ``/kind``
        with no schema), where composing the whole tree to find it cost a tenth of the verifier's time. Deeper
        paths, a second finding or a walk that runs long compose the tree (walking events in Python costs more
        than composing in C once a path leads past a few subtrees). Before either, ``position`` reads the path
        from the text's lines and indentation, which most manifests allow.
        """
        if self.tree is None and self.source is not None:
            found = position.locate(position.lines_of(self.source), path)
            if found is not None:
                return found
        if self.tree is None and self.source is not None and not self.walked and path.count("/") == 1:
            self.walked = True
            found = _event_locate(self.source, pointer.parts(path)[0])
            if found is not None:
                return found
        return locate(self.node, path)

    @property
    def node(self) -> yaml.Node | None:
        if self.tree is None and self.source is not None:
            loader = _PositionLoader(self.source)
            try:
                self.tree = loader.get_single_node()
            except yaml.YAMLError:  # cannot happen for a source the fast path accepted; positions are optional
                self.source = None
            finally:
                loader.dispose()
        return self.tree


class SyntaxProblem(Exception):
    """Raised inside the constructor; becomes an L1 issue, never reaches the user as a traceback."""

    def __init__(self, rule: str, message: str, mark: Any = None, path: str = "", hint: str = ""):
        super().__init__(message)
        self.rule, self.message, self.mark, self.path, self.hint = rule, message, mark, path, hint


def decode(data: bytes) -> tuple[str | None, Issue | None]:
    """Bytes to text; binary input and bad encodings are L1 issues naming the byte offset."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as exc:
            return None, Issue("L1-ENCODING", "", f"invalid UTF-16 at byte {exc.start}",
                               "save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        return None, Issue("L1-BINARY", "", f"binary input: NUL byte at offset {nul}",
                           "pass a YAML or JSON text file")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, Issue("L1-ENCODING", "", f"not valid UTF-8 at byte {exc.start}",
                           "save the file as UTF-8")


def _needs_depth_guard(text: str) -> bool:
    flow = text.count("[") + text.count("{")
    if flow >= SAFE_FLOW_MARKERS:
        return True
    return len(text) >= SAFE_FLOW_MARKERS and max(map(len, text.splitlines()), default=0) >= SAFE_FLOW_MARKERS


def _event_depth_ok(text: str) -> tuple[bool, Any]:
    """Walk parser events (iterative in libyaml) to find nesting deeper than MAX_DEPTH."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return False, event.start_mark
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return True, None


def _mark_issue(rule: str, message: str, mark: Any, hint: str = "", path: str = "") -> Issue:
    if mark is None:
        return Issue(rule, path, message, hint)
    return Issue(rule, path, message, hint, line=mark.line + 1, column=mark.column + 1)


def _yaml_error_issue(exc: yaml.YAMLError, lines: list[str]) -> Issue:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"{context}, {problem}" if context else str(problem)
    if "nesting depth" in message:  # PyYAML >= 6.0.4 bounds nesting itself
        return _mark_issue("L1-DEPTH", f"nesting too deep ({message})", mark, "flatten the structure")
    if mark is not None and 0 <= mark.line < len(lines):
        line = lines[mark.line]
        stripped = line.lstrip(" ")
        if stripped.startswith("\t") or ("\t" in problem and line[: mark.column].strip(" \t") == ""):
            return _mark_issue("L1-TAB", "tab character used for indentation", mark,
                               "indent YAML with spaces only")
    return _mark_issue("L1-YAML", f"YAML syntax error: {message}", mark,
                       "fix the YAML syntax at that position")


class _FastLoader(yaml.CSafeLoader):
    """libyaml's parser with a cached implicit-tag resolver.

    PyYAML calls ``resolve`` from C for every node, walking path resolvers and regexes in Python; keys and
    common values repeat endlessly across manifests, so a small cache of (value -> tag) halves parse time.
    """

    _cache: ClassVar[dict[str, str]] = {}
    # Path resolvers are not used: C callables that ignore their arguments spare a Python frame per node.
    descend_resolver = staticmethod("".format)
    ascend_resolver = staticmethod("".format)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR
            tag = self._cache.get(value)
            if tag is None:
                tag = yaml.resolver.Resolver.resolve(self, kind, value, implicit)
                if len(self._cache) < 50_000:
                    self._cache[value] = tag
            return tag
        return "tag:yaml.org,2002:seq" if kind is yaml.SequenceNode else "tag:yaml.org,2002:map"


class _PositionLoader(yaml.CSafeLoader):
    """libyaml's composer for node positions only: no tags are resolved.

    Composing calls the resolver hooks from C for every node; ``str.format`` of a string without fields is a C
    callable that accepts and ignores any arguments, so these hooks cost no Python frame. Used only for text
    the fast path has already parsed, where the tree serves to position findings.
    """

    resolve = staticmethod(_STR.format)
    descend_resolver = staticmethod("".format)
    ascend_resolver = staticmethod("".format)


class _Builder:
    """Turns a composed node graph into plain JSON-like data, recording L1 issues.

    No path is built while walking (that would cost a string per node); when something is wrong, the
    path of the offending node is recovered from the root by ``path_to``.
    """

    def __init__(self, root: yaml.Node) -> None:
        self.root = root
        self.issues: list[Issue] = []
        self._scalar = _SAFE()

    def problem(self, rule: str, message: str, node: yaml.Node, hint: str = "", mark: Any = None) -> SyntaxProblem:
        return SyntaxProblem(rule, message, mark or node.start_mark, path_to(self.root, node), hint)

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise self.problem("L1-DEPTH", f"nesting deeper than {MAX_DEPTH} levels", node)
        cls = type(node)
        if cls is yaml.ScalarNode:
            return node.value if node.tag == _STR else self._scalar_value(node)
        if node.tag not in _COLLECTION_TAGS:
            raise self.problem("L1-TAG", f"unsupported YAML tag {node.tag!r}", node,
                               "Kubernetes manifests use only plain YAML types; remove the tag")
        if cls is yaml.SequenceNode:
            return [self.build(child, depth + 1) for child in node.value]
        return self._mapping(node, depth)

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if type(key_node) is yaml.ScalarNode and key_node.tag == _STR:
                key = key_node.value
            elif type(key_node) is yaml.ScalarNode and key_node.tag == _MERGE:
                return self._merged(node, depth)
            else:
                key = self._key(key_node)
            if key in out:
                self._duplicate(node, key, key_node, value_node)
            out[key] = self.build(value_node, depth + 1)
        return out

    def _key(self, key_node: yaml.Node) -> str:
        if type(key_node) is not yaml.ScalarNode:
            raise self.problem("L1-KEY", "mapping key is not a scalar", key_node, "use plain string keys")
        if key_node.tag == _STR:
            return key_node.value
        key = self._scalar_value(key_node)
        if key is None:
            raise self.problem("L1-KEY", "mapping key is null", key_node)
        return _json_key(key)

    def _duplicate(self, node: yaml.MappingNode, key: str, key_node: yaml.Node, value_node: yaml.Node) -> None:
        hint = ("a second object starts here without a document separator: put a line '---' before it"
                if node is self.root and key in ("apiVersion", "kind")
                else "remove one of the two entries; YAML keeps only the last")
        self.issues.append(_mark_issue("L1-DUPLICATE-KEY", f"duplicate key {key!r}", key_node.start_mark,
                                       hint, path_to(self.root, value_node)))

    def _merged(self, node: yaml.MappingNode, depth: int) -> dict:
        """A mapping with merge keys (``<<: *base``, ``<<: [*a, *b]``), read as kubectl's YAML reader does.

        Of several merged maps the earlier wins, and the mapping's own keys override every merged one: that is
        what a merge is for, not a duplicate key. Duplicates among the mapping's own keys are still errors.
        PyYAML's ``flatten_mapping`` is not used: it rewrites the node in place (an alias then reads the merged
        keys as its own) and, in PyYAML 6.0.3, tells keys apart by the identity of their strings."""
        out: dict[str, Any] = {}
        own: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if not (type(key_node) is yaml.ScalarNode and key_node.tag == _MERGE):
                own.append((key_node, value_node))
                continue
            sources = value_node.value if type(value_node) is yaml.SequenceNode else [value_node]
            for source in reversed(sources):  # applied last to first, so the first map's keys win
                if type(source) is not yaml.MappingNode:
                    raise self.problem("L1-MERGE", f"invalid merge key: expected a mapping or a list of mappings "
                                       f"to merge, found {source.id}", source,
                                       "merge an anchored mapping: '<<: *name' or '<<: [*a, *b]'")
                out.update(self.build(source, depth + 1))
        seen: set[str] = set()
        for key_node, value_node in own:
            key = self._key(key_node)
            if key in seen:
                self._duplicate(node, key, key_node, value_node)
            seen.add(key)
            out[key] = self.build(value_node, depth + 1)
        return out

    def _scalar_value(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag in _STRING_LIKE:
            return node.value  # Kubernetes' YAML-to-JSON keeps these as strings
        convert = _CONVERT.get(tag)
        if convert is None:
            raise self.problem("L1-TAG", f"unsupported YAML tag {tag!r}", node,
                               "Kubernetes manifests use only plain YAML types; remove the tag")
        try:
            return convert(self._scalar, node)
        except ValueError:  # PyYAML's int pattern admits digitless forms such as 0x_ or 0b_, then int() fails
            if node.style is not None or node.tag != "tag:yaml.org,2002:int":
                raise self.problem("L1-TAG", f"{node.value!r} is not a valid {tag.rsplit(':', 1)[-1]}", node,
                                   "write the value without the explicit tag") from None
            return node.value


_STRING_LIKE = fastyaml.STRING_LIKE_TAGS
_CONVERT = {
    "tag:yaml.org,2002:int": _SAFE.construct_yaml_int,
    "tag:yaml.org,2002:float": _SAFE.construct_yaml_float,
    "tag:yaml.org,2002:bool": _SAFE.construct_yaml_bool,
    "tag:yaml.org,2002:null": lambda _c, _n: None,
}


def path_to(root: yaml.Node, target: yaml.Node) -> str:
    """JSON-pointer path of ``target`` inside ``root`` (first occurrence), found by an iterative search."""
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if id(node) in seen or isinstance(node, yaml.ScalarNode):
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, f"{path}/{i}") for i, child in enumerate(node.value))
        else:
            for key, value in node.value:
                name = pointer.escape(str(key.value)) if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, f"{path}/{name}"))
                stack.append((key, f"{path}/{name}"))
    return ""


def _json_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes the document expands to when aliases are followed (memoised; iterative)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else node.value
        if done:
            sizes[id(node)] = min(MAX_EXPANDED_NODES + 1, 1 + sum(sizes[id(c)] for c in children))
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def parse_stream(text: str) -> Iterator[ParsedDoc]:
    """Yield every document of a YAML stream; a syntax error ends the stream at that document."""
    lines: list[str] | None = None
    guard = _needs_depth_guard(text)
    if not guard and (fast := fastyaml.load(text, MAX_DEPTH)) is not None:
        yield ParsedDoc(0, data=fast, line=fastyaml.first_content_line(text), source=text)
        return
    if guard:
        try:
            ok, mark = _event_depth_ok(text)
        except yaml.YAMLError:
            ok, mark = True, None  # the composer below reports the syntax error with its position
        if not ok:
            yield ParsedDoc(0, issues=[_mark_issue("L1-DEPTH", f"nesting deeper than {MAX_DEPTH} levels", mark,
                                                   "flatten the structure")])
            return
    loader = _FastLoader(text)
    may_alias = "&" in text and _may_alias(text)
    has_template = "{{" in text  # once: a stream of many faulty documents must not rescan the text for each
    index = 0
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
            except yaml.YAMLError as exc:
                lines = lines if lines is not None else text.splitlines()
                issues = [_yaml_error_issue(exc, lines)]
                yield ParsedDoc(index, issues=_templated(issues, lines) if has_template else issues)
                return
            doc = _construct(index, node, may_alias)
            if doc.issues and has_template:
                lines = lines if lines is not None else text.splitlines()
                doc.issues = _templated(doc.issues, lines)
            yield doc
            index += 1
    finally:
        loader.dispose()


TEMPLATE_HINT = ("a '{{ ... }}' template expression is on this line or the one above: render the chart or "
                 "template first (helm template, kustomize build) and validate its output")


def _templated(issues: list[Issue], lines: list[str]) -> list[Issue]:
    """A Helm or Go template is not YAML until rendered; a syntax error on a line holding ``{{`` says so, since
    the parser's own message (a mapping key that is not a scalar, an unexpected '{') does not point there."""
    def templated(issue: Issue) -> bool:  # the parser often stops a line after a '{{- if }}' statement line
        return issue.line is not None and any("{{" in line for line in lines[max(0, issue.line - 2):issue.line])

    return [replace(issue, hint=TEMPLATE_HINT) if templated(issue) else issue for issue in issues]


def _construct(index: int, node: yaml.Node, may_alias: bool) -> ParsedDoc:
    doc = ParsedDoc(index, tree=node, line=node.start_mark.line + 1)
    if may_alias and _expanded_size(node) > MAX_EXPANDED_NODES:
        doc.issues.append(_mark_issue("L1-ALIAS-BOMB", f"aliases expand to more than {MAX_EXPANDED_NODES:,} nodes",
                                      node.start_mark, "do not nest aliases of aliases"))
        return doc
    builder = _Builder(node)
    try:
        data = builder.build(node)
    except SyntaxProblem as exc:
        doc.issues = [*builder.issues, _mark_issue(exc.rule, exc.message, exc.mark, exc.hint, exc.path)]
        return doc
    except RecursionError:
        doc.issues = [_mark_issue("L1-DEPTH", "nesting too deep", node.start_mark, "flatten the structure")]
        return doc
    doc.issues = builder.issues
    if data is not None and not isinstance(data, dict):
        doc.issues.append(_mark_issue("L1-NOT-MAPPING", f"document is a {type(data).__name__}, not a mapping",
                                      node.start_mark, "a Kubernetes object is a mapping with apiVersion and kind"))
    elif not doc.issues:
        doc.data = data
    return doc


def _walk(node: yaml.Node, path: str) -> tuple[yaml.Node, Any]:
    """The deepest node on a JSON-pointer path, and the mark of its key (or item) in the parent."""
    best, mark = node, node.start_mark
    for part in pointer.parts(path):
        step = None
        if isinstance(best, yaml.MappingNode):
            for key, value in best.value:
                if key.value == part and type(key) is yaml.ScalarNode:
                    step = (key, value)
                    break
        elif isinstance(best, yaml.SequenceNode) and part.isdigit() and int(part) < len(best.value):
            item = best.value[int(part)]
            step = (item, item)
        if step is None:
            break
        mark, best = step[0].start_mark, step[1]
    return best, mark


_EVENT_BUDGET = 100
"""Events a top-level search may read before composing the tree is the cheaper way."""
_OPEN = frozenset({yaml.MappingStartEvent, yaml.SequenceStartEvent})
_CLOSE = frozenset({yaml.MappingEndEvent, yaml.SequenceEndEvent})


def _event_locate(source: str, key: str) -> tuple[int, int] | None:
    """``locate`` of a top-level key (``/kind``) by reading parser events up to it, skipping the values before
    it; the same mark as ``_walk`` on the composed tree (the root's when the key is absent). None when the search
    meets more than ``_EVENT_BUDGET`` events, a key that is not a scalar, an alias, or text libyaml refuses (the
    caller then composes the tree)."""
    parser = _yaml.CParser(source)
    next_event = parser.get_event
    try:
        next_event(), next_event()  # stream and document start
        root = next_event()
        mark = root.start_mark
        if type(root) is yaml.MappingStartEvent:
            expect_key, depth = True, 0
            for _ in range(_EVENT_BUDGET):
                event = next_event()
                kind = type(event)
                if kind is yaml.AliasEvent:
                    return None
                if depth:  # inside a value before the key
                    depth += (kind in _OPEN) - (kind in _CLOSE)
                    expect_key = not depth
                elif expect_key:
                    if kind is yaml.MappingEndEvent:
                        break
                    if kind is not yaml.ScalarEvent:
                        return None
                    if event.value == key:
                        mark = event.start_mark
                        break
                    expect_key = False
                elif kind in _OPEN:
                    depth = 1
                else:
                    expect_key = True
            else:
                return None
        return mark.line + 1, mark.column + 1
    except yaml.YAMLError:
        return None
    finally:
        parser.dispose()


def subnode(node: yaml.Node | None, path: str) -> yaml.Node | None:
    """The deepest node on a JSON-pointer path inside a composed document."""
    return None if node is None else _walk(node, path)[0]


def locate(node: yaml.Node | None, path: str) -> tuple[int, int] | None:
    """Line and column (1-based) where a JSON-pointer path is written: the key of a mapping entry."""
    if node is None:
        return None
    mark = _walk(node, path)[1]
    return mark.line + 1, mark.column + 1
