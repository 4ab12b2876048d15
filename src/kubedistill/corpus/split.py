"""Splits: fixed and seeded, stratified by family and source, grouped so that nothing leaks.

Pairs that share a group (the same canonical manifest, or reverse pairs of the same real file) always land
in the same split. Each split's size is spread over the strata (family, source) in proportion to their size
(largest remainder), and within a stratum groups are taken in the order of a seeded hash of their key, so
the assignment depends only on the data and the seed, never on input order or process count.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass


@dataclass
class SplitConfig:
    train: int = 1200
    """Pairs in train; -1: every pair left after test and validation."""
    validation: int = 100
    test: int = 200
    seed: int = 0


@dataclass
class Item:
    id: str
    stratum: tuple[str, str]
    group: str


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _rank(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}\0{key}".encode()).hexdigest()


def _quotas(sizes: dict[tuple[str, str], int], total: int) -> dict[tuple[str, str], int]:
    """Largest-remainder apportionment of ``total`` over strata of the given sizes."""
    available = sum(sizes.values())
    total = min(total, available)
    if available == 0:
        return dict.fromkeys(sizes, 0)
    exact = {s: total * n / available for s, n in sizes.items()}
    quotas = {s: min(sizes[s], int(v)) for s, v in exact.items()}
    order = sorted(sizes, key=lambda s: (-(exact[s] - int(exact[s])), s))
    for stratum in order * 2:
        if sum(quotas.values()) >= total:
            break
        if quotas[stratum] < sizes[stratum]:
            quotas[stratum] += 1
    return quotas


def assign(items: list[Item], config: SplitConfig) -> dict[str, str]:
    """Pair id -> "test" | "validation" | "train" | "unused"."""
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        groups[item.group].append(item)
    by_stratum: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, members in groups.items():
        by_stratum[min(m.stratum for m in members)].append(key)
    for keys in by_stratum.values():
        keys.sort(key=lambda k: _rank(config.seed, k))
    out: dict[str, str] = {}
    for split, size in (("test", config.test), ("validation", config.validation), ("train", config.train)):
        remaining = {s: sum(len(groups[k]) for k in keys) for s, keys in by_stratum.items()}
        wanted = sum(remaining.values()) if size < 0 else min(size, sum(remaining.values()))
        taken = 0
        for stratum, quota in _quotas(remaining, wanted).items():
            taken += _take(by_stratum[stratum], groups, quota, split, out)
        if taken < wanted:  # strata that could not fill exactly (large groups): top up from any stratum
            pool = sorted((k for keys in by_stratum.values() for k in keys), key=lambda k: _rank(config.seed, k))
            taken += _take(pool, groups, wanted - taken, split, out)
            for stratum, keys in by_stratum.items():
                by_stratum[stratum] = [k for k in keys if groups[k][0].id not in out]
    for item in items:
        out.setdefault(item.id, "unused")
    return out


def _take(keys: list[str], groups: dict[str, list[Item]], quota: int, split: str, out: dict[str, str]) -> int:
    """Assign whole groups from ``keys`` (in order) to ``split`` without overshooting ``quota``; remove them."""
    taken, kept = 0, []
    for key in keys:
        members = groups[key]
        if members[0].id not in out and taken + len(members) <= quota:
            for member in members:
                out[member.id] = split
            taken += len(members)
        elif members[0].id not in out:
            kept.append(key)
    keys[:] = kept
    return taken
