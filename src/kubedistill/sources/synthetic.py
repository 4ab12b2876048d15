"""synthetic_direct: sample a task from the context model and ask the teacher for the pair.

The request for index ``i`` depends only on (seed, i), so a resumed or re-sharded run asks for the same
pairs, and the offline teacher can rebuild exactly the task the prompt describes.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

from kubedistill.context.families import FAMILIES
from kubedistill.context.spec import ObjectSpec
from kubedistill.prompts import render
from kubedistill.sources.teacher import SYNTHETIC, TeacherRequest

STYLES = ("terse, one sentence", "detailed, several sentences", "a short bullet list", "conversational",
          "with context about the team and the application", "imperative and to the point")


def item_seed(seed: int, index: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{index}".encode()).digest()[:4], "big") & 0x7FFFFFFF


def family_mix(weights: dict[str, float]) -> tuple[list[str], list[float]]:
    """Families and weights: the config's mix, or every family at its default weight."""
    unknown = sorted(set(weights) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown families {unknown}; known: {', '.join(sorted(FAMILIES))}")
    chosen = weights or {name: fam.weight for name, fam in FAMILIES.items()}
    names = sorted(n for n, w in chosen.items() if w > 0)
    return names, [chosen[n] for n in names]


def constraints(objects: list[ObjectSpec]) -> str:
    lines = []
    for o in objects:
        fields = ", ".join(f"{k}={v}" for k, v in o.to_dict().items() if k != "kind")
        lines.append(f"- {o.kind}" + (f": {fields}" if fields else ""))
    return "\n".join(lines)


def synthetic_requests(n: int, seed: int, weights: dict[str, float]) -> Iterator[tuple[str, TeacherRequest]]:
    names, probabilities = family_mix(weights)
    for index in range(n):
        s = item_seed(seed, index)
        rng = random.Random(s)
        name = rng.choices(names, probabilities)[0]
        family = FAMILIES[name]
        task = family.sample(random.Random(s))
        prompt = render("teacher_synthetic", family=name, kinds=", ".join(family.kinds),
                        constraints=constraints(task.spec.objects), style=rng.choice(STYLES))
        yield f"syn-{seed}-{index:07d}", TeacherRequest(SYNTHETIC, [{"role": "user", "content": prompt}], name, s,
                                                         task.spec)
