"""Deduplication: exact duplicates by canonical hash, near duplicates by MinHash LSH (datasketch).

Shingles are word 3-grams of the normalised instruction plus token 5-grams of the canonical manifest, so
two pairs are near duplicates only when both what was asked and what was written are nearly the same. The
first pair of each cluster (in input order) is kept, the others are marked with the id they duplicate.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH


@dataclass
class DedupConfig:
    threshold: float = 0.9
    """Estimated Jaccard similarity at or above which two pairs are near duplicates."""
    num_perm: int = 64
    seed: int = 1


def normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+(?:[./:_-][a-z0-9]+)*", text.lower()))


def exact_key(instruction: str, manifest_hash: str) -> str:
    return hashlib.sha256(f"{normalise(instruction)}\0{manifest_hash}".encode()).hexdigest()


def shingles(instruction: str, manifest: str) -> list[bytes]:
    words = normalise(instruction).split()
    tokens = manifest.split()
    out = {" ".join(words[i:i + 3]) for i in range(max(1, len(words) - 2))}
    out |= {"m:" + " ".join(tokens[i:i + 5]) for i in range(max(1, len(tokens) - 4))}
    return [s.encode() for s in sorted(out)]


def signature(instruction: str, manifest: str, config: DedupConfig) -> np.ndarray:
    minhash = MinHash(num_perm=config.num_perm, seed=config.seed)
    minhash.update_batch(shingles(instruction, manifest))
    return minhash.hashvalues.astype(np.uint64)


def lean(hashvalues: np.ndarray, config: DedupConfig) -> LeanMinHash:
    """A MinHash rebuilt from stored hash values (the scheme is datasketch's default for new MinHashes)."""
    return LeanMinHash(seed=config.seed, hashvalues=hashvalues, scheme=_SCHEME)


_SCHEME = MinHash(num_perm=1).scheme


class Deduper:
    """Feed kept pairs in input order; ``add`` returns (kind, id duplicated) or None for a first occurrence."""

    def __init__(self, config: DedupConfig) -> None:
        self.config = config
        self.exact: dict[str, str] = {}
        self.lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)

    def add(self, pair_id: str, key: str, hashvalues: np.ndarray) -> tuple[str, str] | None:
        if key in self.exact:
            return "exact", self.exact[key]
        self.exact[key] = pair_id
        minhash = lean(hashvalues, self.config)
        matches = self.lsh.query(minhash)
        if matches:
            return "near", min(matches)
        self.lsh.insert(pair_id, minhash)
        return None
