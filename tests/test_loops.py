"""Loop detection while decoding: the rule on synthetic loops and on legitimate repeated structure, no fire on any
document of the real-manifest corpus, and the stop on each backend (transformers through its real generate loop
with a scripted answer, llama.cpp through its token stream with a stand-in model), down to the verdict and the
repair feedback."""

from __future__ import annotations

import threading

import pytest

from kubedistill.inference.backend import Generation, LlamaCppBackend, ModelRef, load_backend
from kubedistill.inference.loops import MAX_BLOCK, LoopWatch, complete_lines, looped, needed, repeat_at_end
from kubedistill.inference.repair import attempt_of, repair_messages
from kubedistill.inference.verdict import LOOP_FEEDBACK, judge

HEAD = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  selector:\n    matchLabels:\n"
        "      app: api\n  template:\n    metadata:\n      labels:\n        app: api\n    spec:\n      containers:\n"
        "      - name: api\n        image: nginx:1.27\n        env:\n")
ENTRY = "        - name: RECON_TIMEZONE\n          value: Europe/Berlin\n"
WINDOW = max(block * needed(block) for block in range(1, MAX_BLOCK + 1))
"""Lines the rule can look back over: checking this tail is checking the whole text."""


def fires_anywhere(text: str) -> int | None:
    """The first line at whose end a check would fire (a superset of the checks made while decoding)."""
    lines = text.split("\n")
    return next((i for i in range(1, len(lines) + 1) if repeat_at_end(lines[max(0, i - WINDOW):i])), None)


def test_a_repeated_env_entry_is_a_loop():
    text = HEAD + ENTRY * 6 + "        - name: RECON_TI"
    assert repeat_at_end(complete_lines(text)).lines == 2 and looped(text)
    assert not looped(HEAD + ENTRY * 5)  # a two-line block needs six copies in a row


def test_twelve_near_identical_env_entries_are_not_a_loop():
    entries = "".join(f"        - name: WORKER_{n}_TIMEZONE\n          value: Europe/Berlin\n" for n in range(12))
    assert fires_anywhere(HEAD + entries + "        ports:\n        - containerPort: 8080\n") is None


def test_block_size_sets_the_repeats_needed():
    line = "  RECON_TIMEZONE: Europe/Berlin\n"
    assert not looped(line * 11) and looped(line * 12)
    block = "  ports:\n  - protocol: TCP\n    port: 8443\n    targetPort: 8443\n  selector:\n    app: orion\n"
    assert not looped(block * 2) and repeat_at_end(complete_lines(block * 3)).lines == 6
    # a block must hold 12 characters: a one-character line counts only as a 12-line block, repeated 3 times
    assert not looped("    }\n" * 35) and looped("    }\n" * 36) and not looped("\n" * 200)


def test_the_watch_checks_every_n_pieces():
    watch = LoopWatch(every=5)
    pieces = [line + "\n" for line in ["  RECON_TIMEZONE: Europe/Berlin"] * 12]
    fired = [watch.feed(piece) for piece in pieces + ["x"] * 4]
    assert fired.index(True) == 14 and all(fired[14:])  # the loop is complete at piece 12, checked at piece 15


def _joined_documents(text: str) -> str:
    """A file's documents as a model writes them: one after another, separated by ``---``."""
    docs, current = [], []
    for line in text.splitlines():
        if line.startswith("---"):
            docs.append("\n".join(current))
            current = []
        else:
            current.append(line)
    docs.append("\n".join(current))
    return "---\n".join(d.strip("\n") + "\n" for d in docs if d.strip())


@pytest.mark.realdata
def test_no_real_manifest_fires(real_dir):
    import json

    from kubedistill.corpus.canonical import CanonicalError, canonicalize

    files = [json.loads(line)["file"] for line in (real_dir / "index.jsonl").read_text().splitlines()]
    fired, canonical = [], 0
    for name in files:
        text = (real_dir / name).read_text(encoding="utf-8", errors="replace")
        forms = [_joined_documents(text)]
        try:
            forms.append(canonicalize(text))  # the form the student is trained to write
            canonical += 1
        except CanonicalError:
            pass
        fired += [(name, at) for form in forms if (at := fires_anywhere(form)) is not None]
    assert len(files) > 2000 and canonical > 0.9 * len(files) and fired == []


def test_a_looped_answer_is_a_format_violation_and_the_repair_says_so(verifier):
    gen = Generation(HEAD + ENTRY * 6, 200, 50, 1.0, truncated=False, looped=True)
    attempt = attempt_of(gen, verifier, None)
    assert attempt.looped and "loop" in attempt.verdict.format_violations
    assert attempt.verdict.feedback().splitlines()[0] == LOOP_FEEDBACK
    ask = [{"role": "user", "content": "a deployment api"}]
    assert "repeated the same lines" in repair_messages(ask, attempt)[-1]["content"]
    assert "loop" not in judge(HEAD + ENTRY, verifier).format_violations


def test_an_answer_cut_at_max_tokens_in_a_loop_counts_as_looped(verifier):
    """A backend that cannot stop loops (or a generation cached before they were stopped) still gets the mark."""
    cut = attempt_of(Generation(HEAD + ENTRY * 8 + "   ", 768, 50, 9.0, truncated=True), verifier, None)
    assert cut.looped and cut.verdict.format_violations[-2:] == ["truncated", "loop"]
    assert not attempt_of(Generation(HEAD + ENTRY, 768, 50, 9.0, truncated=True), verifier, None).looped


def _scripted(backend, monkeypatch, scripts: list[list[int]], width: int) -> None:
    """Make generate() write ``scripts[row]`` (then end-of-turn) on each row, through its real decoding loop."""
    import torch
    from transformers import LogitsProcessor, LogitsProcessorList

    class Script(LogitsProcessor):
        def __call__(self, input_ids, scores):
            step = input_ids.shape[1] - width
            forced = torch.full_like(scores, -1e9)
            for row, script in enumerate(scripts):
                forced[row, script[step] if step < len(script) else backend.tokenizer.eos_token_id] = 0.0
            return forced

    decoding = backend._decoding
    monkeypatch.setattr(backend, "_decoding", lambda *args: {**decoding(*args),
                                                              "logits_processor": LogitsProcessorList([Script()])})


@pytest.fixture(scope="module")
def tiny_backends(tiny_model):
    return {stop: load_backend(ModelRef(str(tiny_model), threads=1, dtype="float32", stop_loops=stop))
            for stop in (True, False)}


@pytest.mark.parametrize("stop", [True, False])
def test_transformers_stops_a_loop_and_marks_it(tiny_backends, monkeypatch, stop):
    backend = tiny_backends[stop]
    messages = [{"role": "user", "content": "a deployment api"}]
    ids = backend.prompt_ids(messages)
    loop = backend.tokenizer(ENTRY, add_special_tokens=False)["input_ids"] * 40
    _scripted(backend, monkeypatch, [loop], len(ids))
    gen = backend.generate(messages, 300)
    assert gen.looped is stop and gen.truncated is not stop
    assert (gen.tokens < 300) is stop and looped(gen.text)


def test_a_batch_stops_only_the_looping_row(tiny_backends, monkeypatch):
    backend = tiny_backends[True]
    conversations = [[{"role": "user", "content": "a deployment api"}], [{"role": "user", "content": "one"}]]
    width = max(len(backend.prompt_ids(m)) for m in conversations)
    encode = backend.tokenizer
    scripts = [encode(ENTRY, add_special_tokens=False)["input_ids"] * 40,
               encode(HEAD + ENTRY, add_special_tokens=False)["input_ids"]]
    _scripted(backend, monkeypatch, scripts, width)
    looping, finished = backend.generate_batch(conversations, 300)
    assert looping.looped and not looping.truncated and looping.tokens < 300
    assert not finished.looped and not finished.truncated and finished.text == HEAD + ENTRY


class _StreamingModel:
    """Stands in for llama_cpp.Llama: streams the given pieces, and records whether the stream was closed."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces, self.sent, self.closed = pieces, 0, False

    def reset(self) -> None: ...

    def set_seed(self, seed: int) -> None: ...

    def create_completion(self, ids, max_tokens, **kwargs):
        try:
            for n, piece in enumerate(self.pieces[:max_tokens]):
                self.sent += 1
                last = n == max_tokens - 1
                yield {"choices": [{"text": piece, "finish_reason": "length" if last else None}]}
        finally:
            self.closed = True


@pytest.mark.parametrize("stop", [True, False])
def test_llama_cpp_stops_its_token_stream_in_a_loop(tiny_model, stop):
    from transformers import AutoTokenizer

    backend = LlamaCppBackend.__new__(LlamaCppBackend)  # the stream loop only: no GGUF, no llama.cpp needed
    backend.ref, backend.lock = ModelRef(str(tiny_model), stop_loops=stop), threading.Lock()
    backend.tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    backend.llm = _StreamingModel([line + "\n" for line in ENTRY.splitlines()] * 200)
    gen = backend.generate([{"role": "user", "content": "a deployment api"}], 300)
    assert gen.looped is stop and gen.truncated is not stop and backend.llm.closed
    assert (backend.llm.sent < 300) is stop
