"""LoRA training on a tiny 2-layer model built in the test with a real tokenizer: what changes, what does not,
that the loss falls on a tiny set, and that a resumed run ends exactly where an uninterrupted one does."""

from __future__ import annotations

import json

import pytest

from kubedistill import prompts
from kubedistill.errors import UserError
from kubedistill.train.data import IGNORE, encode, length_grouped_order, read_split
from kubedistill.train.lora import LoraSettings, TrainConfig, fit

torch = pytest.importorskip("torch", reason="pip install -e '.[train]'")
safetensors = pytest.importorskip("safetensors.torch", reason="pip install -e '.[train]'")

PAIRS = [
    {"instruction": "Create a ConfigMap named app-config.", "manifest":
     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  LOG_LEVEL: debug\n"},
    {"instruction": "Create a Namespace called shop.", "manifest": "apiVersion: v1\nkind: Namespace\nmetadata:\n"
                                                                  "  name: shop\n"},
    {"instruction": "Create a ServiceAccount named web.", "manifest": "apiVersion: v1\nkind: ServiceAccount\n"
                                                                     "metadata:\n  name: web\n"},
]


@pytest.fixture()
def corpus(tmp_path):
    data = tmp_path / "corpus" / "data"
    data.mkdir(parents=True)
    for split, rows in (("train", PAIRS), ("validation", PAIRS[:1])):
        (data / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / "corpus"


def _config(tiny_model, **kw) -> TrainConfig:
    base = {"model": str(tiny_model), "lr": 5e-2, "warmup_steps": 1, "batch_size": 1, "grad_accum": 3,
            "max_length": 1024, "eval_every": 2, "save_every": 2, "seed": 3, "threads": 1,
            "lora": LoraSettings(r=4, alpha=8, dropout=0.1)}
    base.update(kw)
    return TrainConfig(**base)


def test_loss_is_on_the_answer_only(tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    example = encode(tokenizer, PAIRS[0], "strict", 2048)
    answer = [t for t, label in zip(example["input_ids"], example["labels"], strict=True) if label != IGNORE]
    assert tokenizer.decode(answer).strip().startswith("apiVersion: v1") and example["labels"][0] == IGNORE
    assert encode(tokenizer, PAIRS[0], "strict", 10) is None


def test_hints_train_on_the_request_with_its_checklist_and_the_same_answer(tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    plain = encode(tokenizer, PAIRS[0], "strict", 2048)
    hinted = encode(tokenizer, PAIRS[0], "strict", 2048, hints="request")
    answer = lambda e: [t for t, label in zip(e["input_ids"], e["labels"], strict=True) if label != IGNORE]  # noqa: E731
    assert answer(hinted) == answer(plain) and len(hinted["input_ids"]) > len(plain["input_ids"])
    assert "- ConfigMap app-config" in tokenizer.decode(hinted["input_ids"])
    assert "hints must be one of none, request" in " ".join(TrainConfig(hints="gold").problems())


def test_length_grouped_batches_are_seeded_and_complete():
    lengths = [5, 50, 6, 51, 7, 52, 8, 53]
    first = length_grouped_order(lengths, 2, seed=1, epoch=0)
    assert first == length_grouped_order(lengths, 2, seed=1, epoch=0)
    assert sorted(i for b in first for i in b) == list(range(8))
    assert all(abs(lengths[b[0]] - lengths[b[-1]]) <= 2 for b in first)


def test_lora_changes_adapters_not_the_base_and_the_loss_falls(tiny_model, corpus, tmp_path):
    before = safetensors.load_file(str(tiny_model / "model.safetensors"))
    config = _config(tiny_model, max_steps=60, lr=1e-2, prompt="plain", eval_every=30, save_every=30,
                     lora=LoraSettings(r=8, alpha=16, dropout=0.0))
    last = fit(config, corpus, tmp_path / "run", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows]
    # random 2-layer model: the loss starts at ln(vocab) ~ 6.0; LoRA alone must still pull it down steadily
    assert len(rows) == 60 and losses[-1] < losses[0] - 0.4 and sum(losses[-10:]) < sum(losses[:10]), losses
    adapter = safetensors.load_file(str(tmp_path / "run" / "adapter" / "adapter_model.safetensors"))
    assert adapter and all("lora_" in name for name in adapter)
    assert any(float(t.abs().sum()) > 0 for name, t in adapter.items() if "lora_B" in name)  # B starts at zero
    after = safetensors.load_file(str(tiny_model / "model.safetensors"))
    assert all(torch.equal(before[k], after[k]) for k in before)
    saved = json.loads((tmp_path / "run" / "training_config.json").read_text())
    assert saved["config"]["lora"]["r"] == 8 and saved["corpus_sha256"] and saved["versions"]["peft"]
    assert (tmp_path / "run" / "loss.png").stat().st_size > 0 and "val_loss" in last
    # the adapter records how its student was asked, so eval, generate and serve ask it the same way
    asked = json.loads((tmp_path / "run" / "adapter" / "kubedistill.json").read_text())
    assert asked == {"prompt": "plain", "hints": "none"}


def test_pairs_longer_than_max_length_are_named_not_silently_dropped(tiny_model, corpus, tmp_path, capsys):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    lengths = [len(encode(tokenizer, p, "strict", 10_000)["input_ids"]) for p in PAIRS]
    rows = [{**p, "family": f"f{i}"} for i, p in enumerate(PAIRS)]
    (corpus / "data" / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    longest = max(range(3), key=lambda i: lengths[i])
    cut = sorted(lengths)[1]  # keeps the two shorter pairs, drops the longest
    assert lengths[longest] > cut
    fit(_config(tiny_model, max_steps=1, max_length=cut, eval_every=1, save_every=1), corpus, tmp_path / "run",
        progress=False)
    err = capsys.readouterr().err
    assert f"1 train pair is longer than max_length {cut} tokens and is left out" in err and f"f{longest} 1" in err
    saved = json.loads((tmp_path / "run" / "training_config.json").read_text())
    assert saved["left_out_over_max_length"]["train"] == {f"f{longest}": 1}
    assert f"f{longest} 1" in (tmp_path / "run" / "README.md").read_text()


def test_a_bfloat16_base_trains_float32_adapters(tiny_model, corpus, tmp_path):
    config = _config(tiny_model, max_steps=12, lr=1e-2, dtype="bfloat16", eval_every=12, save_every=12,
                     lora=LoraSettings(r=8, alpha=16, dropout=0.0))
    fit(config, corpus, tmp_path / "run", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["loss"] < rows[0]["loss"]
    adapter = safetensors.load_file(str(tmp_path / "run" / "adapter" / "adapter_model.safetensors"))
    assert {t.dtype for t in adapter.values()} == {torch.float32}
    assert TrainConfig(model="x", dtype="float16").problems() == ["dtype must be auto, float32 or bfloat16, got "
                                                                  "'float16'"]


def test_resume_gives_the_same_result_as_an_uninterrupted_run(tiny_model, corpus, tmp_path, monkeypatch):
    from kubedistill.train import lora

    fit(_config(tiny_model, max_steps=6), corpus, tmp_path / "full", progress=False)
    original = lora._checkpoint

    def crash_after_step_four(model, optimizer, scheduler, step, out):
        original(model, optimizer, scheduler, step, out)
        if step == 4:
            raise KeyboardInterrupt  # Ctrl-C right after the checkpoint of step 4

    monkeypatch.setattr(lora, "_checkpoint", crash_after_step_four)
    with pytest.raises(KeyboardInterrupt):
        fit(_config(tiny_model, max_steps=6), corpus, tmp_path / "part", progress=False)
    monkeypatch.setattr(lora, "_checkpoint", original)
    fit(_config(tiny_model, max_steps=6), corpus, tmp_path / "part", resume=True, progress=False)
    assert (tmp_path / "part" / "metrics.jsonl").read_text().count("\n") == 6
    full = safetensors.load_file(str(tmp_path / "full" / "adapter" / "adapter_model.safetensors"))
    resumed = safetensors.load_file(str(tmp_path / "part" / "adapter" / "adapter_model.safetensors"))
    assert full.keys() == resumed.keys() and all(torch.equal(full[k], resumed[k]) for k in full)


def test_resume_without_a_checkpoint_is_a_clear_error(tiny_model, corpus, tmp_path):
    with pytest.raises(UserError, match="no checkpoint"):
        fit(_config(tiny_model, max_steps=2), corpus, tmp_path / "none", resume=True, progress=False)


def test_resume_with_other_settings_or_other_pairs_is_refused(tiny_model, corpus, tmp_path):
    out = tmp_path / "run"
    fit(_config(tiny_model, max_steps=4), corpus, out, progress=False)
    with pytest.raises(UserError, match=r"lr: 0\.05 -> 0\.01"):
        fit(_config(tiny_model, max_steps=4, lr=1e-2), corpus, out, resume=True, progress=False)
    with pytest.raises(UserError, match="emphasis"):
        fit(_config(tiny_model, max_steps=4, emphasis=2.0), corpus, out, resume=True, progress=False)
    # settings that do not shape the weights may change: it resumes from the checkpoint of step 2
    assert fit(_config(tiny_model, max_steps=4, eval_every=1, threads=2), corpus, out, resume=True,
               progress=False)["step"] == 4
    # a setting added after a run started counts as its default there: no emphasis recorded is emphasis 1
    identity = json.loads((out / "run_identity.json").read_text())
    del identity["settings"]["emphasis"]
    (out / "run_identity.json").write_text(json.dumps(identity))
    assert fit(_config(tiny_model, max_steps=4), corpus, out, resume=True, progress=False)["step"] == 4
    with pytest.raises(UserError, match=r"emphasis: 1\.0 -> 2\.0"):
        fit(_config(tiny_model, max_steps=4, emphasis=2.0), corpus, out, resume=True, progress=False)
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Answer with YAML only.")
    fit(_config(tiny_model, max_steps=4, prompt=str(prompt)), corpus, tmp_path / "filed", progress=False)
    prompt.write_text("Answer with YAML only, no prose.")  # same path, other text
    prompts._prompt_file.cache_clear()  # a resume is a new process: it reads the file afresh
    with pytest.raises(UserError, match="prompt"):
        fit(_config(tiny_model, max_steps=4, prompt=str(prompt)), corpus, tmp_path / "filed", resume=True,
            progress=False)
    for broken in ("{not json", "[]"):
        (out / "run_identity.json").write_text(broken)
        with pytest.raises(UserError, match=r"run_identity\.json"):
            fit(_config(tiny_model, max_steps=4), corpus, out, resume=True, progress=False)
    (out / "run_identity.json").unlink()  # a run from before the file existed resumes unchecked
    assert fit(_config(tiny_model, max_steps=4), corpus, out, resume=True, progress=False)["step"] == 4
    fit(_config(tiny_model, max_steps=4), corpus, out, progress=False)  # a fresh start writes it again
    train = corpus / "data" / "train.jsonl"
    train.write_text(train.read_text() + json.dumps(SPEC_PAIR) + "\n")
    with pytest.raises(UserError, match="train split differs"):
        fit(_config(tiny_model, max_steps=4), corpus, out, resume=True, progress=False)


def test_merged_export_computes_what_base_plus_adapter_computes(tiny_model, corpus, tmp_path):
    import peft
    from transformers import AutoModelForCausalLM

    # float32 on any device (auto is bfloat16 on a GPU, whose merge rounds the LoRA delta into bf16 weights)
    fit(_config(tiny_model, max_steps=3, export_merged=True, dtype="float32"), corpus, tmp_path / "run",
        progress=False)
    ids = torch.tensor([[1, 5, 9, 14, 20]])
    with torch.no_grad():
        tuned = peft.PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model),
                                               tmp_path / "run" / "adapter").eval()
        merged = AutoModelForCausalLM.from_pretrained(tmp_path / "run" / "merged").eval()
        expected, got = tuned(ids).logits, merged(ids).logits
    assert not any("lora" in name for name, _ in merged.named_parameters())
    assert torch.allclose(expected, got, atol=1e-4)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_under_accelerate_train_what_one_process_with_double_accumulation_trains(
        tiny_model, corpus, tmp_path):
    """torchrun with 2 CPU processes (accelerate picks gloo): process r takes every other micro-batch and DDP
    averages the gradients, which is exactly one process accumulating over both micro-batches. On GPUs the same
    code runs under ``accelerate launch --multi_gpu``."""
    import subprocess
    import sys

    pytest.importorskip("accelerate", reason="pip install -e '.[train]'")
    common = ["max_steps=3", "lr=0.05", "warmup_steps=1", "batch_size=1", "eval_every=3", "save_every=3",
              "seed=3", "threads=1", "lora.dropout=0.0", f"model={tiny_model}"]
    one = subprocess.run([sys.executable, "-m", "kubedistill", "train", "--corpus", str(corpus), "--out",
                          str(tmp_path / "one"), "--no-progress", "grad_accum=2", *common,
                          "share_prefix=false"],  # DDP runs the textbook step; fp32 Adam amplifies rounding
                         capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--master_port", str(_free_port()), "-m", "kubedistill", "train", "--corpus", str(corpus),
                          "--out", str(tmp_path / "two"),
                          "--no-progress", "grad_accum=1", *common],
                         capture_output=True, text=True, timeout=600)
    assert two.returncode == 0, two.stderr[-3000:]
    saved = json.loads((tmp_path / "two" / "training_config.json").read_text())
    assert saved["final"]["processes"] == 2
    rows = [json.loads(line) for line in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]  # one writer, not one per process
    a = safetensors.load_file(str(tmp_path / "one" / "adapter" / "adapter_model.safetensors"))
    b = safetensors.load_file(str(tmp_path / "two" / "adapter" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    assert any(float(t.abs().sum()) > 0 for k, t in b.items() if "lora_B" in k)


def _grads(tiny_model, examples, way: str, batch_size: int = 1):
    """LoRA gradients of one accumulated step over ``examples`` (float64): the textbook way (transformers' own
    loss on full logits), answer-only logits, or answer-only logits with the shared prefix run once."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from kubedistill.train.data import collate
    from kubedistill.train.step import Prefix, answer_loss, shared_prefix

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float64),
                           LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, task_type="CAUSAL_LM",
                                      target_modules=LoraSettings().target_modules, init_lora_weights=False))
    groups = [examples[i:i + batch_size] for i in range(0, len(examples), batch_size)]
    prefix = Prefix(model, shared_prefix(examples), "cpu") if way == "shared" else None
    for group in groups:
        batch = collate(group, 0)
        loss = (model(**batch).loss if way == "textbook" else answer_loss(model, batch, prefix)) / len(groups)
        loss.backward()
    if prefix is not None:
        prefix.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("batch_size", [1, 2])
def test_shared_prefix_step_gives_the_textbook_gradient(tiny_model, batch_size):
    from transformers import AutoTokenizer

    from kubedistill.train.step import shared_prefix

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    examples = [encode(tokenizer, pair, "strict", 2048) for pair in PAIRS] + \
        [encode(tokenizer, {**PAIRS[0], "instruction": "Create a ConfigMap named app-config with debug logs."},
                "strict", 2048)]
    prefix = shared_prefix(examples)
    first_label = min(e["labels"].index(next(x for x in e["labels"] if x != IGNORE)) for e in examples)
    assert 0 < len(prefix) < first_label and all(e["input_ids"][:len(prefix)] == prefix for e in examples)
    textbook, answer_only, shared = (_grads(tiny_model, examples, way, batch_size)
                                     for way in ("textbook", "answer-only", "shared"))
    assert textbook.keys() == shared.keys() and any(float(g.abs().sum()) > 0 for g in textbook.values())
    # transformers computes its loss (and rotary tables) in fp32 even for a float64 model: fp32-class tolerances;
    # a misplaced position or label would be off by whole percents
    for name in textbook:
        assert torch.allclose(textbook[name], answer_only[name], rtol=1e-5, atol=1e-8), name
        assert torch.allclose(answer_only[name], shared[name], rtol=1e-6, atol=1e-10), name


def test_shared_prefix_stops_before_the_first_answer_token():
    from kubedistill.train.step import shared_prefix

    same = {"input_ids": [1, 2, 3, 4], "labels": [IGNORE, IGNORE, 3, 4]}
    assert shared_prefix([same, same]) == [1]  # position 1 predicts the first label: it must stay in the suffix
    other = {"input_ids": [1, 9, 3, 4], "labels": [IGNORE, IGNORE, 3, 4]}
    assert shared_prefix([same, other]) == [1] and shared_prefix([]) == []
    assert shared_prefix([same, {"input_ids": [5, 2], "labels": [IGNORE, 2]}]) == []


def test_init_adapter_continues_from_the_saved_weights(tiny_model, corpus, tmp_path):
    from peft import get_peft_model_state_dict

    from kubedistill.train.lora import setup

    fit(_config(tiny_model, max_steps=3), corpus, tmp_path / "stage1", progress=False)
    saved = safetensors.load_file(str(tmp_path / "stage1" / "adapter" / "adapter_model.safetensors"))
    model = setup(_config(tiny_model, init_adapter=str(tmp_path / "stage1")), corpus)[0]
    loaded = {k: t.cpu() for k, t in get_peft_model_state_dict(model).items()}
    assert saved.keys() == loaded.keys() and all(torch.equal(saved[k], loaded[k]) for k in saved)
    assert any(float(t.abs().sum()) > 0 for k, t in loaded.items() if "lora_B" in k)  # not a fresh LoRA (B = 0)
    fit(_config(tiny_model, max_steps=2, init_adapter=str(tmp_path / "stage1" / "adapter")), corpus,
        tmp_path / "stage2", progress=False)
    assert "Continued from the adapter" in (tmp_path / "stage2" / "README.md").read_text()


def test_init_adapter_with_other_lora_settings_or_no_adapter_is_a_clear_error(tiny_model, corpus, tmp_path):
    fit(_config(tiny_model, max_steps=1), corpus, tmp_path / "stage1", progress=False)
    with pytest.raises(UserError, match="differ from this config"):
        fit(_config(tiny_model, max_steps=1, init_adapter=str(tmp_path / "stage1"),
                    lora=LoraSettings(r=8, alpha=16)), corpus, tmp_path / "r8", progress=False)
    with pytest.raises(UserError, match="no adapter at"):
        fit(_config(tiny_model, max_steps=1, init_adapter=str(tmp_path / "nothing")), corpus, tmp_path / "x",
            progress=False)


def _poison(monkeypatch, bad_calls):
    """A unit-test seam: the loss of the micro-batches numbered in ``bad_calls`` (from 1) becomes NaN, as a
    diverging step's does; its gradient is then NaN too."""
    from kubedistill.train import lora

    calls = {"n": 0}
    original = lora.answer_loss

    def answer_loss(model, batch, prefix=None):
        calls["n"] += 1
        loss = original(model, batch, prefix)
        return loss * float("nan") if bad_calls(calls["n"]) else loss

    monkeypatch.setattr(lora, "answer_loss", answer_loss)


def test_a_step_with_a_nan_gradient_is_skipped_not_taken(tiny_model, corpus, tmp_path, monkeypatch, capsys):
    _poison(monkeypatch, lambda n: n in (4, 5, 6))  # the three micro-batches of step 2 (grad_accum 3)
    fit(_config(tiny_model, max_steps=2, save_every=1), corpus, tmp_path / "run", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["grad_norm"] > 0 and "skipped" not in rows[0]
    assert rows[1]["skipped"] is True and rows[1]["grad_norm"] is None
    assert "step 2: the gradient is NaN or infinite" in capsys.readouterr().err
    after_one = torch.load(tmp_path / "run" / "checkpoints" / "step-0000001" / "state.pt", weights_only=False)
    final = safetensors.load_file(str(tmp_path / "run" / "adapter" / "adapter_model.safetensors"))
    assert all(bool(torch.isfinite(t).all()) for t in final.values())
    # the skipped step left the weights of step 1 as they were
    assert final.keys() == after_one["adapter"].keys()
    assert all(torch.equal(final[k], after_one["adapter"][k]) for k in final)


def test_a_run_of_nan_gradients_stops_training_without_an_adapter(tiny_model, corpus, tmp_path, monkeypatch):
    from kubedistill.train import lora

    monkeypatch.setattr(lora, "MAX_NON_FINITE_STEPS", 3)
    _poison(monkeypatch, lambda n: n > 6)  # steps 1-2 are fine, every later one is NaN
    with pytest.raises(UserError, match=r"diverged: .* 3 optimizer steps in a row \(steps 3-5\)") as caught:
        fit(_config(tiny_model, max_steps=20, save_every=2), corpus, tmp_path / "run", progress=False)
    assert "step-0000004" in caught.value.hint
    assert not (tmp_path / "run" / "adapter").exists()


def test_training_on_a_gpu_turns_off_the_cudnn_attention_kernel_and_leaves_a_cpu_alone(monkeypatch):
    from kubedistill.train.lora import attention_kernels

    calls = []
    monkeypatch.setattr(torch.backends.cuda, "enable_cudnn_sdp", calls.append)
    attention_kernels("cpu")
    attention_kernels(torch.device("cpu"))
    assert calls == []
    attention_kernels("cuda")
    attention_kernels(torch.device("cuda", 0))
    assert calls == [False, False]


def test_a_run_resumed_from_a_nan_checkpoint_saves_no_adapter(tiny_model, corpus, tmp_path):
    from kubedistill.train import lora

    original = lora._checkpoint

    def stop_after_step_two(model, optimizer, scheduler, step, out):
        original(model, optimizer, scheduler, step, out)
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lora, "_checkpoint", stop_after_step_two)
        with pytest.raises(KeyboardInterrupt):
            fit(_config(tiny_model, max_steps=3), corpus, tmp_path / "run", progress=False)
    state_file = tmp_path / "run" / "checkpoints" / "step-0000002" / "state.pt"
    state = torch.load(state_file, weights_only=False)
    for tensor in state["adapter"].values():  # as a checkpoint of the days before non-finite steps were skipped
        tensor.fill_(float("nan"))
    torch.save(state, state_file)
    with pytest.raises(UserError, match=r"the trained adapter holds NaN or infinity \(\d+ tensors"):
        fit(_config(tiny_model, max_steps=3), corpus, tmp_path / "run", resume=True, progress=False)
    assert not (tmp_path / "run" / "adapter").exists()


def test_an_adapter_holding_nan_is_refused_where_it_is_loaded(tiny_model, corpus, tmp_path):
    from kubedistill.inference.backend import ModelRef, TransformersBackend

    fit(_config(tiny_model, max_steps=1), corpus, tmp_path / "stage1", progress=False)
    path = tmp_path / "stage1" / "adapter" / "adapter_model.safetensors"
    tensors = safetensors.load_file(str(path))
    name = sorted(tensors)[0]
    tensors[name][0, 0] = float("nan")
    safetensors.save_file(tensors, str(path))
    with pytest.raises(UserError, match=f"1 tensors hold NaN or infinity, e.g. {name}"):
        fit(_config(tiny_model, max_steps=1, init_adapter=str(tmp_path / "stage1")), corpus, tmp_path / "s2",
            progress=False)
    with pytest.raises(UserError, match="hold NaN or infinity"):
        TransformersBackend(ModelRef(model=str(tiny_model), adapter=str(tmp_path / "stage1")))
    path.write_bytes(path.read_bytes()[:100])  # a copy cut short
    with pytest.raises(UserError, match="cannot read it"):
        TransformersBackend(ModelRef(model=str(tiny_model), adapter=str(tmp_path / "stage1")))


SPEC_PAIR = {"instruction": "Create a ConfigMap named app-config with LOG_LEVEL=debug.",
             "manifest": PAIRS[0]["manifest"],
             "spec": {"objects": [{"kind": "ConfigMap", "name": "app-config", "fields": {"/data/LOG_LEVEL": "debug"}}]}}


def test_emphasis_weighs_the_tokens_of_the_requested_values(tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    plain = encode(tokenizer, SPEC_PAIR, "strict", 2048)
    example = encode(tokenizer, SPEC_PAIR, "strict", 2048, emphasis=3.0)
    assert "weights" not in plain and example["input_ids"] == plain["input_ids"]
    heavy = [t for t, w in zip(example["input_ids"], example["weights"], strict=True) if w == 3.0]
    # the value's line and the key it sits under; nothing of the prompt, nor the lines the spec does not ask for
    assert tokenizer.decode(heavy) == "data:\n  LOG_LEVEL: debug"
    first_answer = example["labels"].index(next(x for x in example["labels"] if x != IGNORE))
    assert set(example["weights"][:first_answer]) == {1.0}


def test_weighted_loss_is_the_weighted_mean_and_the_shared_prefix_keeps_it_exact(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kubedistill.train.data import collate
    from kubedistill.train.step import answer_loss

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    examples = [encode(tokenizer, SPEC_PAIR, "strict", 2048, emphasis=3.0),
                encode(tokenizer, {**SPEC_PAIR, "instruction": "A ConfigMap app-config, LOG_LEVEL debug."}, "strict",
                       2048, emphasis=3.0)]
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float64)
    batch = collate(examples[:1], 0)
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"]).logits[0, :-1].float()
        labels, weights = batch["labels"][0, 1:], batch["weights"][0, 1:]
        keep = labels != IGNORE
        each = torch.nn.functional.cross_entropy(logits[keep], labels[keep], reduction="none")
        expected = float((each * weights[keep]).sum() / weights[keep].sum())
        assert float(answer_loss(model, batch)) == pytest.approx(expected, rel=1e-6)
        assert expected != pytest.approx(float(each.mean()), rel=1e-5)  # the weights changed the loss
        ones = {**batch, "weights": torch.ones_like(batch["weights"])}
        plain = {k: v for k, v in batch.items() if k != "weights"}
        assert float(answer_loss(model, ones)) == pytest.approx(float(answer_loss(model, plain)), rel=1e-9)
    answer_only, shared = (_grads(tiny_model, examples, way) for way in ("answer-only", "shared"))
    for name in answer_only:
        assert torch.allclose(answer_only[name], shared[name], rtol=1e-6, atol=1e-10), name


def test_emphasis_below_one_is_refused():
    assert any("emphasis" in p for p in TrainConfig(emphasis=0.5).problems())
    assert not any("emphasis" in p for p in TrainConfig(emphasis=3).problems())


def test_emphasis_with_a_tokenizer_without_offsets_is_a_clear_error(tiny_model):
    from transformers import AutoTokenizer

    class Slow:  # a slow tokenizer: no character offsets
        is_fast = False

        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

    tokenizer = Slow(AutoTokenizer.from_pretrained(tiny_model))
    assert encode(tokenizer, SPEC_PAIR, "strict", 2048) is not None  # the plain loss needs no offsets
    with pytest.raises(UserError, match="fast tokenizer"):
        encode(tokenizer, SPEC_PAIR, "strict", 2048, emphasis=2.0)


@pytest.mark.parametrize("line, said", [
    ("{not json", "not a JSON line"),
    ("[1, 2]", "a training pair needs instruction and manifest"),
    (json.dumps({"instruction": "a ConfigMap"}), "a training pair needs instruction and manifest"),
])
def test_a_bad_split_line_is_named_by_file_and_line(tmp_path, line, said):
    good = json.dumps({"instruction": "a ConfigMap", "manifest": "kind: ConfigMap\n"})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text(f"{good}\n\n{line}\n")
    with pytest.raises(UserError, match=rf"train\.jsonl:3: {said}"):
        read_split(tmp_path, "train")
    (tmp_path / "data" / "train.jsonl").write_text(f"{good}\n\n{good}\n")
    assert len(read_split(tmp_path, "train")) == 2
