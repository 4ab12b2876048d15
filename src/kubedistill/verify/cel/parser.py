"""CEL source text -> an AST of plain tuples (the grammar of cel-spec, with the macros expanded).

A hand-written recursive-descent parser: CEL's grammar is small, and owning it lets a rule that uses syntax we
do not support fail with a clear ``CelSyntaxError`` at compile time instead of somewhere inside a third-party
evaluator. Nodes are tuples whose first item names the kind:

    ("lit", value) ("id", name) ("sel", operand, field) ("osel", operand, field) ("has", operand, field)
    ("idx", operand, index) ("oidx", operand, index) ("call", name, target_or_None, args)
    ("list", items) ("map", [(key, value)]) ("cond", test, yes, no) ("and", a, b) ("or", a, b)
    ("not", a) ("neg", a) ("op", operator, a, b) ("comp", macro, target, variables, args) ("bind", name, init, body)
"""

from __future__ import annotations

import re
from typing import Any

from kubedistill.verify.cel.values import CelSyntaxError, UInt

RESERVED = frozenset({"as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
                      "package", "namespace", "return", "var", "void", "while"})
MACROS = frozenset({"all", "exists", "exists_one", "existsOne", "map", "filter", "transformList", "transformMap",
                    "transformMapEntry"})
_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d+|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+[uU]?)
  | (?P<string>(?:[rR][bB]?|[bB][rR]?)?(?:'''|\"\"\"|'|\"))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||\.\?|\[\?|[-+*/%!<>?:.,()\[\]{}])
""", re.VERBOSE)
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'",
            '"': '"', "`": "`", "?": "?"}
_INT64 = 2**63


def tokenize(text: str) -> list[tuple[str, Any, int]]:
    """(kind, value, position) triples; kinds: num, str, ident, op, eof."""
    tokens: list[tuple[str, Any, int]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise CelSyntaxError(f"unexpected character {text[pos]!r} at {pos}")
        kind = match.lastgroup
        if kind == "string":
            value, pos = _string(text, match.start(), match.group())
            tokens.append(("str", value, match.start()))
            continue
        if kind == "number":
            tokens.append(("num", _number(match.group()), pos))
        elif kind != "space":
            tokens.append((kind, match.group(), pos))
        pos = match.end()
    tokens.append(("eof", None, len(text)))
    return tokens


def _number(text: str) -> Any:
    unsigned = text[-1] in "uU"
    body = text[:-1] if unsigned else text
    if body[:2] in ("0x", "0X"):
        value: Any = int(body, 16)
    elif any(c in body for c in ".eE"):
        return float(body)
    else:
        value = int(body)
    if unsigned:
        if value >= 2**64:
            raise CelSyntaxError(f"uint literal {text} out of range")
        return UInt(value)
    if value > _INT64:  # 2**63 itself is allowed only as the operand of a unary minus
        raise CelSyntaxError(f"int literal {text} out of range")
    return value


def _string(text: str, start: int, opener: str) -> tuple[Any, int]:
    prefix = opener.rstrip("'\"").lower()
    quote = opener[len(prefix):]
    raw, is_bytes = "r" in prefix, "b" in prefix
    end = start + len(opener)
    out: list[bytes | str] = []
    while True:
        if end >= len(text) or (len(quote) == 1 and text[end] in "\r\n"):
            raise CelSyntaxError(f"unterminated string starting at {start}")
        if text.startswith(quote, end):
            break
        char = text[end]
        if char == "\\" and not raw:
            piece, end = _escape(text, end, is_bytes)
            out.append(piece)
            continue
        if char == "\\" and end + 1 < len(text):  # a raw string keeps the escape, but \' does not end it
            out.append(text[end:end + 2])
            end += 2
            continue
        out.append(char)
        end += 1
    if is_bytes:
        return b"".join(p if isinstance(p, bytes) else p.encode("utf-8") for p in out), end + len(quote)
    return "".join(p if isinstance(p, str) else p.decode("latin-1") for p in out), end + len(quote)


def _escape(text: str, pos: int, is_bytes: bool) -> tuple[bytes | str, int]:
    """One escape sequence; in a bytes literal \\x and octal escapes are raw byte values."""
    code = text[pos + 1:pos + 2]
    if code in _ESCAPES:
        return _ESCAPES[code], pos + 2
    width = {"x": 2, "X": 2, "u": 4, "U": 8}.get(code, 0)
    if width and not (is_bytes and code in "uU"):
        digits = text[pos + 2:pos + 2 + width]
        if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
            value = int(digits, 16)
            if is_bytes:
                return bytes([value]), pos + 2 + width
            if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                raise CelSyntaxError(f"invalid code point in escape at {pos}")
            return chr(value), pos + 2 + width
    digits = text[pos + 1:pos + 4]
    if len(digits) == 3 and all(c in "01234567" for c in digits) and int(digits, 8) < 256:
        return (bytes([int(digits, 8)]) if is_bytes else chr(int(digits, 8))), pos + 4
    raise CelSyntaxError(f"invalid escape sequence at {pos}")


class Parser:
    """One expression; ``parse()`` returns its AST."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0

    def parse(self) -> tuple:
        node = self.expr()
        if self.peek()[0] != "eof":
            raise CelSyntaxError(f"unexpected {self.peek()[1]!r} at {self.peek()[2]}")
        return node

    # --- token helpers -----------------------------------------------------------------------------------

    def peek(self) -> tuple[str, Any, int]:
        return self.tokens[self.at]

    def take(self, op: str | None = None) -> tuple[str, Any, int]:
        token = self.tokens[self.at]
        if op is not None and (token[0] not in ("op", "ident") or token[1] != op):
            raise CelSyntaxError(f"expected {op!r} at {token[2]}, found {token[1]!r}")
        self.at += 1
        return token

    def accept(self, op: str) -> bool:
        token = self.tokens[self.at]
        if token[0] == "op" and token[1] == op:
            self.at += 1
            return True
        return False

    # --- precedence levels -------------------------------------------------------------------------------

    def expr(self) -> tuple:
        test = self.binary_or()
        if self.accept("?"):
            yes = self.binary_or()
            self.take(":")
            return ("cond", test, yes, self.expr())
        return test

    def binary_or(self) -> tuple:
        node = self.binary_and()
        while self.accept("||"):
            node = ("or", node, self.binary_and())
        return node

    def binary_and(self) -> tuple:
        node = self.relation()
        while self.accept("&&"):
            node = ("and", node, self.relation())
        return node

    def relation(self) -> tuple:
        node = self.addition()
        while True:
            token = self.peek()
            if (token[0] == "op" and token[1] in ("<", "<=", ">", ">=", "==", "!=")) or token == ("ident", "in",
                                                                                                     token[2]):
                self.at += 1
                node = ("op", token[1], node, self.addition())
            else:
                return node

    def addition(self) -> tuple:
        node = self.multiplication()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            node = ("op", self.take()[1], node, self.multiplication())
        return node

    def multiplication(self) -> tuple:
        node = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/", "%"):
            node = ("op", self.take()[1], node, self.unary())
        return node

    def unary(self) -> tuple:
        for op, kind in (("!", "not"), ("-", "neg")):
            count = 0
            while self.accept(op):
                count += 1
            if count:
                if kind == "neg" and self.peek()[0] == "num" and type(self.peek()[1]) is not UInt:
                    literal = self.take()[1]
                    node = self.postfix(("lit", -literal))
                    count -= 1
                else:
                    node = self.postfix(self.primary())
                for _ in range(count):
                    node = (kind, node)
                if node[0] == "lit" and type(node[1]) is int and node[1] >= _INT64:
                    raise CelSyntaxError("int literal out of range")
                return node
        node = self.postfix(self.primary())
        if node[0] == "lit" and type(node[1]) is int and node[1] >= _INT64:
            raise CelSyntaxError("int literal out of range")
        return node

    def postfix(self, node: tuple) -> tuple:
        while True:
            if self.accept("."):
                name = self.identifier()
                node = self.member_call(node, name, self.arguments(")")) if self.accept("(") else ("sel", node, name)
            elif self.accept(".?"):
                node = ("osel", node, self.identifier())
            elif self.accept("["):
                index = self.expr()
                self.take("]")
                node = ("idx", node, index)
            elif self.accept("[?"):
                index = self.expr()
                self.take("]")
                node = ("oidx", node, index)
            else:
                return node

    def primary(self) -> tuple:
        kind, value, pos = self.take()
        if kind == "num" or kind == "str":
            return ("lit", value)
        if kind == "ident":
            if value in ("true", "false"):
                return ("lit", value == "true")
            if value == "null":
                return ("lit", None)
            if value in RESERVED or value == "in":
                raise CelSyntaxError(f"reserved word {value!r} at {pos}")
            if self.accept("("):
                return self.global_call(value, self.arguments(")"))
            if self.peek()[:2] == ("op", "{"):
                raise CelSyntaxError(f"message construction {value}{{...}} is not supported")
            return ("id", value)
        if kind == "op":
            if value == ".":  # a leading dot names the root scope: .self is self
                return self.primary()
            if value == "(":
                node = self.expr()
                self.take(")")
                return node
            if value == "[":
                return ("list", self.arguments("]"))
            if value == "{":
                return ("map", self.map_entries())
        raise CelSyntaxError(f"unexpected {value!r} at {pos}")

    def identifier(self) -> str:
        kind, value, pos = self.take()
        if kind != "ident":
            raise CelSyntaxError(f"expected a field name at {pos}, found {value!r}")
        return value

    def arguments(self, closer: str) -> list[tuple]:
        items: list[tuple] = []
        while not self.accept(closer):
            if items:
                self.take(",")
                if self.accept(closer):
                    break
            if self.peek()[:2] == ("op", "?"):
                raise CelSyntaxError("optional list elements are not supported")
            items.append(self.expr())
        return items

    def map_entries(self) -> list[tuple[tuple, tuple]]:
        entries: list[tuple[tuple, tuple]] = []
        while not self.accept("}"):
            if entries:
                self.take(",")
                if self.accept("}"):
                    break
            if self.peek()[:2] == ("op", "?"):
                raise CelSyntaxError("optional map entries are not supported")
            key = self.expr()
            self.take(":")
            entries.append((key, self.expr()))
        return entries

    # --- macros ------------------------------------------------------------------------------------------

    def global_call(self, name: str, args: list[tuple]) -> tuple:
        if name == "has":
            if len(args) != 1 or args[0][0] != "sel":
                raise CelSyntaxError("has() takes one field selection, like has(self.field)")
            return ("has", args[0][1], args[0][2])
        return ("call", name, None, args)

    def member_call(self, target: tuple, name: str, args: list[tuple]) -> tuple:
        if name == "bind" and target == ("id", "cel"):
            if len(args) != 3 or args[0][0] != "id":
                raise CelSyntaxError("cel.bind(name, init, expr) needs a variable name first")
            return ("bind", args[0][1], args[1], args[2])
        if name in MACROS and args and args[0][0] == "id":
            two = len(args) >= 3 and args[1][0] == "id" and name in ("all", "exists", "existsOne")
            if two or name.startswith("transform"):
                if len(args) < 3 or args[1][0] != "id":
                    raise CelSyntaxError(f"{name}() needs two variable names")
                return ("comp", name, target, (args[0][1], args[1][1]), args[2:])
            return ("comp", name, target, (args[0][1],), args[1:])
        return ("call", name, target, args)


def parse(text: str) -> tuple:
    return Parser(text).parse()
