"""CEL's comprehension macros: all, exists, exists_one/existsOne, map, filter, and the two-variable forms
Kubernetes enables (all(k, v, p), transformList, transformMap, transformMapEntry).

Each macro binds its variables in the activation dict for the length of the loop and restores what they
shadowed; ``all`` and ``exists`` absorb an element's error when another element decides the result, as cel-go's
comprehensions do, so ``self.exists(x, x.y == 1)`` is true even when some elements have no ``y``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubedistill.verify.cel.values import CelError, NoSuchOverload, truth, type_name

Fn = Callable[[dict], Any]
MISSING = object()


def restore(act: dict, name: str, saved: Any) -> None:
    if saved is MISSING:
        act.pop(name, None)
    else:
        act[name] = saved


def _pairs(source: Any, two: bool) -> list:
    """The elements a comprehension binds: values (or map keys) for one variable, (index or key, value) pairs
    for two."""
    if type(source) is dict:
        return list(source.items()) if two else list(source)
    if type(source) in (list, tuple):
        return list(enumerate(source)) if two else source
    raise NoSuchOverload(f"no such overload: comprehension over {type_name(source)}")


def comprehension(act: dict, names: tuple[str, ...], source: Any, bodies: list[Fn], run: Callable) -> Any:
    saved = [act.get(n, MISSING) for n in names]
    try:
        return run(act, names, _pairs(source, len(names) == 2), bodies, source)
    finally:
        for name, value in zip(names, saved, strict=True):
            restore(act, name, value)


def _bindings(act: dict, names: tuple[str, ...], items: list):
    """Bind each element in turn (the loop body runs at each yield)."""
    if len(names) == 1:
        name = names[0]
        for item in items:
            act[name] = item
            yield item
        return
    first, second = names
    for item in items:
        act[first], act[second] = item
        yield item


def _quantifier(want: bool) -> Callable:
    """all (want=False: stop at the first false) and exists (want=True: stop at the first true); an error
    counts only when no element decides the result."""

    def run(act: dict, names: tuple, items: list, bodies: list[Fn], source: Any) -> bool:
        error: CelError | None = None
        predicate = bodies[0]
        single = names[0] if len(names) == 1 else None
        for item in items:
            if single is not None:  # bound inline: this loop runs for every pair of list items in O(n^2) rules
                act[single] = item
            else:
                act[names[0]], act[names[1]] = item
            try:
                result = predicate(act)
            except CelError as exc:
                error = error or exc
                continue
            if type(result) is not bool:
                raise NoSuchOverload(f"no such overload: predicate returned {type_name(result)}")
            if result is want:
                return want
        if error is not None:
            raise error
        return not want

    return run


def _exists_one(act: dict, names: tuple, items: list, bodies: list[Fn], source: Any) -> bool:
    count = sum(1 for _ in _bindings(act, names, items) if truth(bodies[0](act)))
    return count == 1


def _map(act: dict, names: tuple, items: list, bodies: list[Fn], source: Any) -> list:
    *test, transform = bodies
    return [transform(act) for _ in _bindings(act, names, items) if not test or truth(test[0](act))]


def _filter(act: dict, names: tuple, items: list, bodies: list[Fn], source: Any) -> list:
    return [item[-1] if len(names) == 2 else item for item in _bindings(act, names, items) if truth(bodies[0](act))]


def _transform_map(act: dict, names: tuple, items: list, bodies: list[Fn], source: Any) -> dict:
    *test, transform = bodies
    return {item[0]: transform(act) for item in _bindings(act, names, items) if not test or truth(test[0](act))}


def _transform_entry(act: dict, names: tuple, items: list, bodies: list[Fn], source: Any) -> dict:
    *test, transform = bodies
    out: dict = {}
    for _ in _bindings(act, names, items):
        if not test or truth(test[0](act)):
            entry = transform(act)
            if type(entry) is not dict:
                raise NoSuchOverload("transformMapEntry() must produce a map")
            if any(k in out for k in entry):
                raise CelError("transformMapEntry() produced a repeated key")
            out.update(entry)
    return out


MACROS: dict[tuple[str, int, int], Callable] = {
    ("all", 1, 1): _quantifier(False), ("all", 2, 1): _quantifier(False),
    ("exists", 1, 1): _quantifier(True), ("exists", 2, 1): _quantifier(True),
    ("exists_one", 1, 1): _exists_one, ("existsOne", 1, 1): _exists_one, ("existsOne", 2, 1): _exists_one,
    ("map", 1, 1): _map, ("map", 1, 2): _map, ("filter", 1, 1): _filter,
    ("transformList", 2, 1): _map, ("transformList", 2, 2): _map,
    ("transformMap", 2, 1): _transform_map, ("transformMap", 2, 2): _transform_map,
    ("transformMapEntry", 2, 1): _transform_entry, ("transformMapEntry", 2, 2): _transform_entry,
}
