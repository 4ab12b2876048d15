"""How people ask for an edit: imperative, chat with abbreviations, questions, terse shorthand, with context, and
the "fix it" family ("why is this rejected?", a pasted kubectl error, "make it pass restricted").

Templates only frame a change's own words (``Change.asks``, ``short``, ``reasons``, ``defect``); none adds a
requirement and none drops one, so whatever voice is drawn the request states every value the spec checks.
``{where}`` is "below" or "above", as the YAML follows or precedes the sentence.
"""

from __future__ import annotations

import random

from kubedistill.context.describe import KIND_NOUNS
from kubedistill.sources.edit_change import Change

ABBREVIATIONS = {"Deployment": "deploy", "Service": "svc", "ConfigMap": "cm", "HorizontalPodAutoscaler": "hpa",
                 "PodDisruptionBudget": "pdb", "NetworkPolicy": "netpol", "StatefulSet": "sts", "DaemonSet": "ds",
                 "Namespace": "ns", "Ingress": "ing", "CronJob": "cronjob", "ServiceAccount": "sa",
                 "PersistentVolumeClaim": "pvc", "Secret": "secret", "Pod": "pod", "Job": "job"}
VOICES = ("imperative", "chat", "question", "terse", "context")
FIX_VOICES = ("fix", "why", "error", "hint", "restricted")

IMPERATIVE = ("{Ask}.", "Please {ask}.", "{Ask}, and give me back the whole manifest.", "Update {subject}: {ask}.",
              "For {subject} {where}: {ask}.", "Take the YAML {where} and {ask}.", "{Ask}. Keep everything else as "
              "it is.", "I need you to {ask}.", "Edit {subject}: {ask}.", "Here is {subject}. {Ask}.")
CHAT = ("hey, can you {ask}? thx", "{ask} pls", "pls {ask}, ty", "quick one: {ask}?", "can u {ask} on my {abbr}",
        "need to {ask} on the {abbr} {where}, thanks!", "{abbr} {name}: {ask} pls", "yo, {ask}. rest stays the same",
        "could you {ask} real quick? it's the {abbr} {where}")
QUESTION = ("How do I {ask}?", "Can you {ask}?", "How would I {ask} for {subject}?", "Could you {ask} here?",
            "What do I change in {subject} to {ask}?", "Is there a way to {ask}? Show me the full YAML.",
            "how would this look if I wanted to {ask}?")
TERSE = ("{short}", "{abbr} {name}: {short}", "{short}, rest unchanged", "{short} pls", "{Short}.",
         "{short} (full yaml)")
CONTEXT = ("{Reason}. {Ask}.", "{Reason}, so {ask}.", "{Reason}. Can you {ask}?", "{Ask}: {reason}.",
           "Our {abbr} {name}: {reason}. Please {ask}.")
FIX = ("Fix it.", "fix pls", "Can you fix this?", "This manifest is broken, please fix it.", "fix this {abbr}",
       "Please correct the YAML {where}.", "This doesn't apply. Fix it?", "something's off with this {noun}, fix it")
WHY = ("Why is this rejected?", "why does kubectl reject this?", "What's wrong with this {noun}? Give me a fixed "
       "version.", "Why won't this apply? Fix it.", "what's broken here?", "Why does the API server refuse this "
       "{noun}?")
ERROR = ("kubectl apply fails with: {defect}. Fix it?", "Getting `{defect}` when I apply this. pls fix",
         "The validator says: {defect}. Correct the manifest.", "{defect}\n\nhow do I fix this?",
         "apply error:\n{defect}\nfix the {abbr} pls")
HINT = ("Fix it: {hint}.", "this is broken, {hint}. fix pls", "Why is this rejected? ({hint})")
RESTRICTED = ("Make it pass restricted.", "Make this pass the restricted Pod Security Standard.",
              "our namespace enforces PSS restricted and this gets rejected, fix it",
              "harden it so it passes restricted",
              "make it restricted-compliant pls", "How do I make this pass pod-security restricted?",
              "{defect}\n\nmake it pass restricted")


def _fill(template: str, values: dict[str, str]) -> str:
    return template.format(**values)


def _values(rng: random.Random, kind: str, name: str, where: str) -> dict[str, str]:
    noun = rng.choice(KIND_NOUNS.get(kind, (kind, kind)))
    subject = rng.choice((f"the {name} {noun}", f"this {noun}", f"{noun} {name}", f"my {noun}"))
    return {"noun": noun, "subject": subject, "abbr": ABBREVIATIONS.get(kind, noun.lower()), "name": name,
            "where": where}


def _upper(values: dict[str, str]) -> dict[str, str]:
    return {**values, **{k.capitalize(): v[:1].upper() + v[1:] for k, v in values.items()}}


def edit_request(rng: random.Random, changes: list[Change], kind: str, name: str, where: str) -> tuple[str, str]:
    """(the request's words, its voice) for one or two changes to the object ``kind``/``name``."""
    values = _values(rng, kind, name, where)
    asks = [rng.choice(c.asks) for c in changes]
    values["ask"] = asks[0] if len(asks) == 1 else rng.choice((" and ", "; also ", ", then ")).join(asks)
    values["short"] = "; ".join(rng.choice(c.short or c.asks) for c in changes)
    reasons = [r for c in changes for r in c.reasons]
    voices = [v for v in VOICES if v != "context" or reasons]
    voice = rng.choice(voices)
    if voice == "context":
        values["reason"] = rng.choice(reasons)
    templates = {"imperative": IMPERATIVE, "chat": CHAT, "question": QUESTION, "terse": TERSE, "context": CONTEXT}
    return _fill(rng.choice(templates[voice]), _upper(values)), voice


def fix_request(rng: random.Random, changes: list[Change], kind: str, name: str, where: str) -> tuple[str, str]:
    """(the request's words, its voice) for a manifest with injected defects."""
    values = _values(rng, kind, name, where)
    values["defect"] = "; ".join(c.defect for c in changes if c.defect)
    hints = [a for c in changes for a in c.asks]
    voices = ["fix", "why"] + (["error"] if values["defect"] else []) + (["hint"] if hints else [])
    if all(c.restricted for c in changes):
        voices += ["restricted"] * 3
    voice = rng.choice(voices)
    if voice == "hint":
        values["hint"] = rng.choice(hints)
    templates = {"fix": FIX, "why": WHY, "error": ERROR, "hint": HINT, "restricted": RESTRICTED}
    options = [t for t in templates[voice] if "{defect}" not in t or values["defect"]]
    if "`" in values["defect"]:  # a message that quotes with backticks is not wrapped in more of them
        options = [t for t in options if "`{defect}`" not in t]
    return _fill(rng.choice(options), _upper(values)), voice
