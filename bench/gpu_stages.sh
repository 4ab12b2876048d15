#!/usr/bin/env bash
# Train the two-stage LoRA students of configs/train/qwen05-cpu-{epoch,stage2}.yaml on a lent GPU, several LoRA
# ranks at once, and hand back each student's adapter for evaluation on the CPU (the reference backend).
#
# Why this shape: the model cannot be fetched on the GPU machine (no network there) and one call carries at most
# 64 MiB, so the 0.5B base travels as the raw GGUF that `kubedistill models pull` assembles here (491 MB), cut in
# nine pieces (`split -n 9 -d --numeric-suffixes=1 <gguf> .w/c`), one piece per call on the same warm machine,
# each moved to /root/w. This script, run last, joins them; `models pull` checks the sha256 and converts exactly
# as on a CPU machine. A batch-1 step on that GPU is bound by kernel launches (bench/results/train_shapes_h100),
# so every candidate runs micro-batch 2 without accumulation: the same pairs per optimizer step, the same number
# of steps and the same learning-rate schedule as the CPU recipe's batch 1 x accumulation 2.
#
#   bash bench/gpu_stages.sh DEADLINE_S NAME:R[:ALPHA] ...     e.g. bash bench/gpu_stages.sh 520 r4:4 r8:8 r16:16
#
# The calls, as run on 2026-11-27 (device tool; each within 30 s of the last, or the machine goes back):
#   here:    echo /.w/ >> .git/info/exclude; mkdir -p .w .whl
#            split -n 9 -d -a 2 --numeric-suffixes=1 ~/.cache/kubedistill/gguf/qwen2.5-coder-0.5b-instruct.gguf .w/c
#            pip download gguf==0.19.0 --no-deps -d .whl        (runs/corpus-stage2: see bench/stage2_pairs.py)
#   call 1:  carry .w/c01 .whl:  mkdir -p /root/w /root/site && mv .w/c01 /root/w/ && python3 -m pip install -q
#            --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /root/site .whl/*.whl
#   call 2-8: carry .w/cNN:      mv .w/cNN /root/w/
#   call 9:  carry .w/c09 runs/corpus/data runs/corpus-stage2/data:
#            mv .w/c09 /root/w/ && bash bench/gpu_stages.sh 550 r4:4 r8:8 r16:16
# Then, here: cat NAME-s2.tar.* | tar -xf - -C runs/gpu-NAME, and evaluate runs/gpu-NAME as --adapter.
#
# What comes back under $OUT: log.txt, and per candidate NAME-s2.tar.* (or NAME-s1.tar.* when stage 2 did not end
# before DEADLINE_S): the adapter's weights and config (the tokenizer stays: evaluation takes the base model's),
# training_config.json, metrics.jsonl and README.md, split in 15 MiB pieces. At most 8 files and 64 MiB come back:
# r4 + r8 + r16 in float32 is 61 MB in 6 pieces.
#
# First run (2026-11-27, H100, torch 2.11.0+cu130): the nine pieces took 40 s of device time, the conversion 87 s,
# and three chains (r4, r8, r16) ran side by side in 320 s (stage 1: 597 steps in about 230 s, 2,800-3,400
# tokens/s each; stage 2: 149 steps in 87 s), against 2 h 28 min + 50 min for one chain on 2 CPU cores. But every
# weight went NaN at step 180: cuDNN's attention backward (pytorch/pytorch#196678), fixed in train/lora.py's
# attention_kernels and guarded by fit's skip of non-finite steps; this script has not run since that fix.
# W (where the pieces are, default /root/w) and EXTRA (more overrides, e.g. max_steps=2 for a dry run on a
# CPU) are for trying the script out.
set -u
start=$(date +%s)
deadline=$1; shift
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/src:/root/site HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec > >(tee "$OUT/log.txt") 2>&1
mkdir -p ~/.cache/kubedistill/gguf /root/t
cat "${W:-/root/w}"/c?? > ~/.cache/kubedistill/gguf/qwen2.5-coder-0.5b-instruct.gguf
python3 -m kubedistill models pull qwen2.5-coder-0.5b-instruct || { echo "pull failed"; exit 3; }
echo "model ready after $(( $(date +%s) - start )) s"

stage() {  # NAME STAGE R ALPHA: one training run; 0 when its adapter is complete
    local name=$1 s=$2 r=$3 alpha=$4 config corpus extra=()
    if [ "$s" = s1 ]; then config=configs/train/qwen05-cpu-epoch.yaml; corpus=runs/corpus
    else config=configs/train/qwen05-cpu-stage2.yaml; corpus=runs/corpus-stage2; extra=(init_adapter=/root/t/$name-s1)
    fi
    python3 -m kubedistill train --config "$config" --corpus "$corpus" --out "/root/t/$name-$s" --no-progress \
        batch_size=2 grad_accum=1 export_gguf=false save_every=100000 "lora.r=$r" "lora.alpha=$alpha" "${extra[@]}" ${EXTRA:-} \
        > "/root/t/$name-$s.log" 2>&1
    local rc=$?
    echo "$name $s exit $rc after $(( $(date +%s) - start )) s: $(tail -1 "/root/t/$name-$s.log")"
    return $rc
}

chain() {  # NAME R ALPHA: stage 1, then stage 2 from its adapter
    stage "$1" s1 "$2" "$3" && touch "/root/t/$1-s1.done" && stage "$1" s2 "$2" "$3" && touch "/root/t/$1-s2.done"
}

names=()
for spec in "$@"; do
    IFS=: read -r name r alpha <<<"$spec"
    names+=("$name")
    chain "$name" "$r" "${alpha:-$((2 * r))}" &
done
nvidia-smi --query-gpu=name,memory.used,utilization.gpu --format=csv
while [ -n "$(jobs -rp)" ] && [ $(( $(date +%s) - start )) -lt "$deadline" ]; do sleep 5; done
[ -n "$(jobs -rp)" ] && { echo "deadline: stopping $(jobs -rp | wc -l) chains"; kill $(jobs -rp) 2>/dev/null; }
for name in "${names[@]}"; do
    for s in s2 s1; do
        if [ -e "/root/t/$name-$s.done" ]; then
            tar -C "/root/t/$name-$s" -cf - adapter/adapter_model.safetensors adapter/adapter_config.json \
                training_config.json metrics.jsonl README.md \
                | split -b 15m -d - "$OUT/$name-$s.tar."
            echo "packed $name-$s"; break
        fi
    done
    tail -3 "/root/t/$name-s1.log"
done
echo "done after $(( $(date +%s) - start )) s"
ls -la "$OUT"
