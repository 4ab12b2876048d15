"""A parsed CEL expression -> nested Python closures, evaluated with ``self`` bound to a manifest value.

The same design as ``verify/compiler.py``: walking the AST once and running plain closures afterwards makes a
typical rule cost microseconds, so the verifier can evaluate every rule of every custom resource. Function
names are resolved while compiling: a rule that calls something this package does not implement raises
``Unsupported`` once, here, and never half-way through a document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubedistill.verify.cel import extensions, functions, kubernetes, network  # noqa: F401  (register functions)
from kubedistill.verify.cel.macros import MACROS, MISSING, comprehension, restore
from kubedistill.verify.cel.parser import parse
from kubedistill.verify.cel.values import (
    NONE,
    TYPES,
    CelError,
    NoSuchOverload,
    Optional,
    Unsupported,
    add,
    compare,
    contains,
    divide,
    eq,
    modulo,
    multiply,
    negate,
    subtract,
    truth,
    type_name,
)

Fn = Callable[[dict], Any]
_ARITHMETIC = {"+": add, "-": subtract, "*": multiply, "/": divide, "%": modulo}
_ORDER = {"<": lambda c: c == -1, "<=": lambda c: c in (-1, 0), ">": lambda c: c == 1, ">=": lambda c: c in (0, 1)}
_ESCAPES = (("__underscores__", "__"), ("__dot__", "."), ("__dash__", "-"), ("__slash__", "/"))
_ESCAPED_KEYWORDS = frozenset({"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
                               "function", "if", "import", "let", "loop", "package", "namespace", "return", "var",
                               "void", "while"})


class Program:
    """One compiled expression. ``evaluate(value)`` binds ``self``; errors raise ``CelError``."""

    def __init__(self, source: str, variables: tuple[str, ...] = ("self",)) -> None:
        self.source = source
        ast = parse(source)
        self.names = _identifiers(ast)
        self._fn = _Compiler(set(variables)).compile(ast)

    def evaluate(self, value: Any, **extra: Any) -> Any:
        return self._fn({"self": value, **extra} if extra else {"self": value})


def unescape(name: str) -> str:
    """A CEL field name -> the property it names (Kubernetes escapes keywords and '.', '-', '/' in names)."""
    if "__" not in name:
        return name
    if name.startswith("__") and name.endswith("__") and name[2:-2] in _ESCAPED_KEYWORDS:
        return name[2:-2]
    for escaped, plain in _ESCAPES:
        name = name.replace(escaped, plain)
    return name


def _identifiers(ast: Any) -> set[str]:
    found: set[str] = set()
    stack = [ast]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple) and node:
            if node[0] == "id":
                found.add(node[1])
            stack.extend(n for n in node[1:] if isinstance(n, tuple | list))
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _dotted(node: tuple) -> str | None:
    """'format.dns1123Label' for the AST of that qualified name, None for anything else."""
    if node[0] == "id":
        return node[1]
    if node[0] == "sel":
        head = _dotted(node[1])
        return f"{head}.{node[2]}" if head else None
    return None


class _Compiler:
    def __init__(self, scope: set[str]) -> None:
        self.scope = scope

    def compile(self, node: tuple) -> Fn:
        return getattr(self, "_" + node[0])(*node[1:])

    def _lit(self, value: Any) -> Fn:
        return lambda act: value

    def _id(self, name: str) -> Fn:
        if name in self.scope:
            return lambda act: act[name]
        if name in TYPES:
            value = TYPES[name]
            return lambda act: value
        raise Unsupported(f"undeclared reference to {name!r}")

    def _sel(self, operand: tuple, field: str) -> Fn:
        qualified = _dotted(("sel", operand, field))
        if qualified in TYPES and operand[0] == "id" and operand[1] not in self.scope:
            value = TYPES[qualified]
            return lambda act: value
        get, key = self.compile(operand), unescape(field)

        def select(act: dict) -> Any:
            obj = get(act)
            if type(obj) is dict:
                found = obj.get(key, MISSING)
                if found is MISSING:
                    found = obj.get(field, MISSING)
                    if found is MISSING:
                        raise CelError(f"no such key: {field}")
                return found
            if type(obj) is Optional:
                return _optional_select(obj, key)
            raise NoSuchOverload(f"no such overload: field selection on {type_name(obj)}")

        return select

    def _osel(self, operand: tuple, field: str) -> Fn:
        get, key = self.compile(operand), unescape(field)

        def select(act: dict) -> Any:
            obj = get(act)
            if type(obj) is Optional:
                return _optional_select(obj, key)
            if type(obj) is dict:
                return Optional(obj[key], True) if key in obj else NONE
            raise NoSuchOverload(f"no such overload: field selection on {type_name(obj)}")

        return select

    def _has(self, operand: tuple, field: str) -> Fn:
        get, key = self.compile(operand), unescape(field)

        def has(act: dict) -> bool:
            obj = get(act)
            if type(obj) is dict:
                return key in obj or field in obj
            if type(obj) is Optional:
                return obj.has and type(obj.value) is dict and key in obj.value
            raise NoSuchOverload(f"no such overload: has() on {type_name(obj)}")

        return has

    def _idx(self, operand: tuple, index: tuple) -> Fn:
        get, at = self.compile(operand), self.compile(index)
        return lambda act: _index(get(act), at(act))

    def _oidx(self, operand: tuple, index: tuple) -> Fn:
        get, at = self.compile(operand), self.compile(index)

        def optional_index(act: dict) -> Any:
            obj, key = get(act), at(act)
            if type(obj) is Optional:
                if not obj.has:
                    return NONE
                obj = obj.value
            try:
                return Optional(_index(obj, key), True)
            except CelError as exc:
                if isinstance(exc, NoSuchOverload):
                    raise
                return NONE

        return optional_index

    def _call(self, name: str, target: tuple | None, args: list[tuple]) -> Fn:
        if target is not None:
            qualified = _dotted(target)
            if qualified and qualified.split(".")[0] not in self.scope and f"{qualified}.{name}" in functions.GLOBAL:
                name, target = f"{qualified}.{name}", None
        table = functions.GLOBAL if target is None else functions.MEMBER
        if name not in table:
            kind = "function" if target is None else "method"
            raise Unsupported(f"{kind} {name}() is not supported")
        fn, low, high = table[name]
        count = len(args) + (target is not None)
        if not low <= count <= high:
            raise Unsupported(f"{name}() with {len(args)} arguments is not supported")
        parts = ([self.compile(target)] if target is not None else []) + [self.compile(a) for a in args]
        if len(parts) == 1:
            only = parts[0]
            return lambda act: fn(only(act))
        if len(parts) == 2:
            first, second = parts
            return lambda act: fn(first(act), second(act))
        return lambda act: fn(*[p(act) for p in parts])

    def _list(self, items: list[tuple]) -> Fn:
        parts = [self.compile(i) for i in items]
        return lambda act: [p(act) for p in parts]

    def _map(self, entries: list[tuple[tuple, tuple]]) -> Fn:
        parts = [(self.compile(k), self.compile(v)) for k, v in entries]

        def build(act: dict) -> dict:
            out: dict = {}
            for key_fn, value_fn in parts:
                key = key_fn(act)
                if type(key) not in (str, int, bool) and not isinstance(key, int):
                    raise NoSuchOverload(f"unsupported map key type {type_name(key)}")
                if key in out:
                    raise CelError(f"Failed with repeated key: {key}")
                out[key] = value_fn(act)
            return out

        return build

    def _cond(self, test: tuple, yes: tuple, no: tuple) -> Fn:
        t, y, n = self.compile(test), self.compile(yes), self.compile(no)
        return lambda act: y(act) if truth(t(act)) else n(act)

    def _and(self, left: tuple, right: tuple) -> Fn:
        return _logic(self.compile(left), self.compile(right), False)

    def _or(self, left: tuple, right: tuple) -> Fn:
        return _logic(self.compile(left), self.compile(right), True)

    def _not(self, operand: tuple) -> Fn:
        get = self.compile(operand)
        return lambda act: not truth(get(act))

    def _neg(self, operand: tuple) -> Fn:
        get = self.compile(operand)
        return lambda act: negate(get(act))

    def _op(self, op: str, left: tuple, right: tuple) -> Fn:
        a, b = self.compile(left), self.compile(right)
        if op in ("==", "!="):
            want = op == "=="
            if right[0] == "lit" and type(right[1]) is str:  # the commonest test, `self.type == 'Foo'`
                literal = right[1]
                return lambda act: (type(v := a(act)) is str and v == literal) is want
            return lambda act: eq(a(act), b(act)) is want
        if op in _ORDER:
            test = _ORDER[op]
            return lambda act: test(compare(a(act), b(act)))
        if op == "in":
            return lambda act: contains(b(act), a(act))
        fn = _ARITHMETIC[op]
        return lambda act: fn(a(act), b(act))

    def _bind(self, name: str, init: tuple, body: tuple) -> Fn:
        value_fn = self.compile(init)
        body_fn = self._scoped((name,), body)

        def bind(act: dict) -> Any:
            saved = act.get(name, MISSING)
            act[name] = value_fn(act)
            try:
                return body_fn(act)
            finally:
                restore(act, name, saved)

        return bind

    def _comp(self, macro: str, target: tuple, names: tuple[str, ...], args: list[tuple]) -> Fn:
        source = self.compile(target)
        bodies = [self._scoped(names, a) for a in args]
        run = MACROS.get((macro, len(names), len(args)))
        if run is None:
            raise Unsupported(f"{macro}() with {len(names)} variables and {len(args)} expressions is not supported")
        return lambda act: comprehension(act, names, source(act), bodies, run)

    def _scoped(self, names: tuple[str, ...], node: tuple) -> Fn:
        saved = set(self.scope)
        self.scope |= set(names)
        try:
            return self.compile(node)
        finally:
            self.scope = saved


def _optional_select(obj: Optional, key: str) -> Optional:
    if not obj.has or type(obj.value) is not dict or key not in obj.value:
        return NONE
    return Optional(obj.value[key], True)


def _index(obj: Any, key: Any) -> Any:
    kind = type(obj)
    if kind is list or kind is tuple:
        if type(key) is float and key.is_integer():
            key = int(key)
        if not isinstance(key, int) or type(key) is bool:
            raise NoSuchOverload(f"no such overload: list index of type {type_name(key)}")
        if not 0 <= key < len(obj):
            raise CelError(f"index out of bounds: {key}")
        return obj[key]
    if kind is dict:
        found = obj.get(key, MISSING) if type(key) is not bool else MISSING
        if found is MISSING:
            for candidate, value in obj.items():
                if eq(candidate, key):
                    return value
            raise CelError(f"no such key: {key}")
        return found
    if kind is Optional:
        return _optional_select(obj, key) if type(key) is str else NONE
    raise NoSuchOverload(f"no such overload: index on {type_name(obj)}")


def _logic(left: Fn, right: Fn, short: bool) -> Fn:
    """&& (short=False) and || (short=True) with CEL's commutative error absorption: `false && error` is false."""

    def run(act: dict) -> bool:
        try:
            a = left(act)
        except CelError as exc:
            a = exc
        if a is short:
            return short
        try:
            b = right(act)
        except CelError as exc:
            b = exc
        if b is short:
            return short
        for value in (a, b):
            if isinstance(value, CelError):
                raise value
            if type(value) is not bool:
                raise NoSuchOverload(f"no such overload: logical operator on {type_name(value)}")
        return not short

    return run
