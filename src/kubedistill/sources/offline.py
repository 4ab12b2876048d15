"""The built-in offline teacher: deterministic under a seed, no network, and always right.

For synthetic_direct it rebuilds the sampled task from (family, seed) and answers with the reference
manifest and an instruction rendered from the spec; for reverse_instruction it describes the manifest with
the rule-based describer; for an edit it returns the reference answer the edit was drafted with (``edits.py``).
Its manifests pass L1-L4 and their own spec (tests assert it).
"""

from __future__ import annotations

import random

import yaml

from kubedistill.context.describe import render_instruction
from kubedistill.context.families import FAMILIES
from kubedistill.sources.teacher import EDIT, REVERSE, SYNTHETIC, TeacherAnswer, TeacherRequest

OFFLINE_MODEL = "offline-v1"


def dump(objects: list[dict]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False, default_flow_style=False, width=120)


class OfflineTeacher:
    name = "offline"
    model = OFFLINE_MODEL

    def answer(self, request: TeacherRequest) -> TeacherAnswer:
        if request.task == SYNTHETIC:
            family = FAMILIES[request.family]
            task = family.sample(random.Random(request.seed))
            instruction = render_instruction(task.spec, random.Random(request.seed + 1), family.nouns, task.software)
            manifest = dump(task.objects)
            return TeacherAnswer(instruction=instruction, manifest=manifest, raw="")
        if request.task == REVERSE:
            if request.spec is None or not request.spec.objects:
                return TeacherAnswer(error="no describable built-in object in the manifest")
            nouns = FAMILIES[request.family].nouns if request.family in FAMILIES else ()
            instruction = render_instruction(request.spec, random.Random(request.seed), nouns)
            return TeacherAnswer(instruction=instruction, manifest=request.manifest)
        if request.task == EDIT:
            return TeacherAnswer(instruction=request.instruction, manifest=request.manifest)
        return TeacherAnswer(error=f"unknown task {request.task!r}")
