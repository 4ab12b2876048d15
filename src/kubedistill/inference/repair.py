"""The validate-and-repair loop (the reference's *residual correction*): generate, verify, and while the answer
fails, ask again with the verifier's findings, at most N rounds. Every attempt is kept, so evaluation can report
pass@1 before and after repair."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubedistill.context.spec import TaskSpec
from kubedistill.inference.backend import Backend, Generation, OnText
from kubedistill.inference.loops import looped
from kubedistill.inference.verdict import FAIL_LEVELS, Verdict, judge
from kubedistill.verify import Verifier

REPAIR_REQUEST = ("The manifest you wrote fails validation:\n{feedback}\n\n"
                  "Write the corrected, complete manifest. Keep every value the request asked for. "
                  "Answer with YAML only.")
RESTATED_REQUEST = ("{request}\n\nA first answer to this request failed validation:\n{feedback}\n"
                    "Write the complete manifest so that none of these problems remain.")
REPAIR_STYLES = ("chat", "restate")
"""How a repair round asks again. ``chat``: the failed answer as the assistant's turn, then the findings as the
user's next turn (the reference's residual correction). ``restate``: the same single-turn request as the first
answer's, with the findings added to it; the failed answer is not shown. A small model fine-tuned on single-turn
pairs does poorly with the chat form: of the one-epoch 0.5B student's 31 failing answers, one chat round fixed 3,
left 9 with the very same findings (5 copied word for word) and made 12 lose an object they had; the restated
request is the single-turn form it was trained on. On the stage-2 student's 21 failing first answers (200 test
tasks), one restated round fixed 12 and one chat round 6, so ``restate`` is the default everywhere."""
DEFAULT_REPAIR_STYLE = "restate"


@dataclass
class Attempt:
    text: str
    verdict: Verdict
    tokens: int
    prompt_tokens: int
    seconds: float
    truncated: bool
    looped: bool = False
    """Stopped in a loop (``inference/loops.py``); absent from records written before loops were stopped."""

    def to_dict(self) -> dict:
        return {"text": self.text, "verdict": self.verdict.to_dict(), "tokens": self.tokens,
                "prompt_tokens": self.prompt_tokens, "seconds": round(self.seconds, 4), "truncated": self.truncated,
                "looped": self.looped}

    @classmethod
    def from_dict(cls, data: dict) -> Attempt:
        return cls(data["text"], Verdict.from_dict(data["verdict"]), data["tokens"], data["prompt_tokens"],
                   data["seconds"], data["truncated"], data.get("looped", False))


@dataclass
class Outcome:
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def first(self) -> Attempt:
        return self.attempts[0]

    @property
    def final(self) -> Attempt:
        return self.attempts[-1]

    @property
    def best(self) -> Attempt:
        """The answer to hand out: the passing attempt, else the one that got furthest through the levels (the
        later on a tie). A repair can fail earlier than the answer it repairs (valid YAML failing L4 comes back
        as broken YAML); returning the last attempt would then give the user, and the after-repair breakdown, a
        worse answer than the model had already written."""
        return max(reversed(self.attempts), key=lambda a: _depth(a.verdict))


def _depth(verdict: Verdict) -> int:
    return len(FAIL_LEVELS) if verdict.passed else FAIL_LEVELS.index(verdict.failed_level)


def attempt_of(gen: Generation, verifier: Verifier, spec: TaskSpec | None) -> Attempt:
    """A generation with the verifier's verdict on it. An answer that ran into max_new_tokens in a loop counts as
    looped too, though nothing stopped it (a backend that cannot stop one, a generation cached before loops were
    stopped), so that the repair round is told why it broke off."""
    loop = gen.looped or (gen.truncated and looped(gen.text))
    return Attempt(gen.text, judge(gen.text, verifier, spec, gen.truncated, loop), gen.tokens,
                   gen.prompt_tokens, gen.seconds, gen.truncated, loop)


def repair_messages(messages: list[dict[str, str]], attempt: Attempt,
                    style: str = DEFAULT_REPAIR_STYLE) -> list[dict[str, str]]:
    """The conversation of the next repair round (see ``REPAIR_STYLES``)."""
    feedback = attempt.verdict.feedback()
    if style == "restate":
        last = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=None)
        if last is not None:
            request = RESTATED_REQUEST.format(request=messages[last]["content"], feedback=feedback)
            return [*messages[:last], {**messages[last], "content": request}, *messages[last + 1:]]
    return [*messages, {"role": "assistant", "content": attempt.text},
            {"role": "user", "content": REPAIR_REQUEST.format(feedback=feedback)}]


def solve(backend: Backend, verifier: Verifier, messages: list[dict[str, str]], spec: TaskSpec | None = None,
          repair: int = 0, max_new_tokens: int = 768, temperature: float = 0.0, seed: int = 0,
          on_text: OnText | None = None, generate: callable | None = None,
          repair_style: str = DEFAULT_REPAIR_STYLE) -> Outcome:
    """Answer ``messages``, then repair up to ``repair`` times. ``generate`` may replace the backend call (the
    evaluation uses it to read cached generations)."""
    call = generate or (lambda msgs: backend.generate(msgs, max_new_tokens, temperature, seed, on_text))
    outcome = Outcome()
    conversation = messages
    for round_ in range(repair + 1):
        attempt = attempt_of(call(conversation), verifier, spec)
        outcome.attempts.append(attempt)
        if attempt.verdict.passed or round_ == repair:
            break
        conversation = repair_messages(messages, attempt, repair_style)
    return outcome
