#!/usr/bin/env bash
# Train the two-stage LoRA students of configs/train/qwen05-cpu-{epoch,stage2}.yaml on a lent GPU, several LoRA
# ranks (or other first-stage settings) at once, and leave their adapters on the machine for bench/gpu_eval.sh (the
# test split there) and bench/gpu_fetch.sh (an adapter back here, for the CPU's reference evaluation).
#
# Why this shape: the model cannot be fetched on the GPU machine (no network there) and one call carries at most
# 64 MiB, so the base travels as the raw GGUF that `kubedistill models pull` assembles here (0.5B: 491 MB in nine
# pieces; 1.5B: 1,117 MB in nineteen), cut with `split -n N -d -a 2 --numeric-suffixes=1 <gguf> .w/c`, one piece
# per call on the same warm machine, each moved to /root/w. This script, run last, joins them; `models pull`
# checks the sha256 and converts exactly as on a CPU machine. A batch-1 step on that GPU is bound by kernel
# launches (bench/results/train_shapes_h100), so every candidate runs micro-batch 2 without accumulation: the same
# pairs per optimizer step, the same number of steps and the same learning-rate schedule as the CPU recipe's
# batch 1 x accumulation 2.
#
#   bash bench/gpu_stages.sh DEADLINE_S NAME:R[:ALPHA[:OVERRIDE,...]] ...
#   e.g. bash bench/gpu_stages.sh 430 r16:16:32 r32:32:64 r16e2:16:32:epochs=2
# OVERRIDEs (config KEY=VALUE, comma-separated) apply to the first stage. MODEL (a registry name, default
# qwen2.5-coder-0.5b-instruct) picks the base; STAGE2=0 stops each chain after its first stage.
#
# The calls, as run on 2026-11-27 (device tool; each within 30 s of the last, or the machine goes back):
#   here:    echo /.w/ >> .git/info/exclude; mkdir -p .w .whl; split the GGUF as above
#            pip download --no-deps -d .whl gguf==0.19.0 kubernetes-validate==1.37.0 jsonschema
#              jsonschema-specifications referencing attrs datasketch importlib-resources, and rpds-py and yaml-rs
#              for each CPython the image might have (--only-binary=:all: --python-version 3.1x; it has 3.12)
#   call 1:  carry .whl (27 MB; with a piece it passes 64 MiB): mkdir -p /root/w /root/site && python3 -m pip
#            install -q --no-index --no-deps --no-compile --upgrade --target /root/site --find-links .whl <those>
#   call 2-9: carry .w/cNN:      mv .w/cNN /root/w/
#   call 10: carry .w/c09 runs/corpus/data runs/corpus-stage2/data:
#            mv .w/c09 /root/w/ && bash bench/gpu_stages.sh 430 r16:16:32 r32:32:64 r64:64:128
#   then:    bash bench/gpu_eval.sh ..., bash bench/gpu_fetch.sh ... (their headers)
#
# What comes back under $OUT: log.txt and train.tar (each run's log, metrics.jsonl, training_config.json and
# README.md). The adapters stay in /root/t: r=32 and up do not fit in one call's 64 MiB.
#
# Runs (H100, torch 2.11.0+cu130; bench/results/gpu_stages_h100*):
# - First (r4, r8, r16): model ready in 87 s, three chains side by side in 320 s; but every weight went NaN at step
#   180: cuDNN's attention backward (pytorch/pytorch#196678), since fixed in train/lora.py's attention_kernels
#   and guarded by fit's skip of non-finite steps.
# - Second (r16, r32, r64): model ready in 79 s, stage 1 of all three in 240 s, stage 2 done at 312 s; no NaN and
#   no skipped step (the fix holds).
# W (where the pieces are, default /root/w) and EXTRA (more overrides, e.g. max_steps=2 for a dry run on a
# CPU) are for trying the script out.
set -u
[ $# -ge 2 ] || { echo "usage: bash bench/gpu_stages.sh DEADLINE_S NAME:R[:ALPHA[:OVERRIDE,...]] ..." >&2; exit 2; }
start=$(date +%s)
deadline=$1; shift
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/src:/root/site HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec > >(tee "$OUT/log.txt") 2>&1
mkdir -p ~/.cache/kubedistill/gguf /root/t
model=${MODEL:-qwen2.5-coder-0.5b-instruct}
cat "${W:-/root/w}"/c?? > ~/.cache/kubedistill/gguf/$model.gguf
python3 -m kubedistill models pull "$model" || { echo "pull failed"; exit 3; }
echo "model ready after $(( $(date +%s) - start )) s"

stage() {  # NAME STAGE R ALPHA [OVERRIDE,...]: one training run; 0 when its adapter is complete
    local name=$1 s=$2 r=$3 alpha=$4 config corpus extra=()
    if [ "$s" = s1 ]; then config=configs/train/qwen05-cpu-epoch.yaml; corpus=runs/corpus
        [ -n "${5:-}" ] && IFS=, read -r -a extra <<<"$5"
    else config=configs/train/qwen05-cpu-stage2.yaml; corpus=runs/corpus-stage2; extra=(init_adapter=/root/t/$name-s1)
    fi
    python3 -m kubedistill train --config "$config" --corpus "$corpus" --out "/root/t/$name-$s" --no-progress model="$model" \
        batch_size=2 grad_accum=1 export_gguf=false save_every=100000 "lora.r=$r" "lora.alpha=$alpha" "${extra[@]}" ${EXTRA:-} \
        > "/root/t/$name-$s.log" 2>&1
    local rc=$?
    echo "$name $s exit $rc after $(( $(date +%s) - start )) s: $(tail -1 "/root/t/$name-$s.log")"
    return $rc
}

chain() {  # NAME R ALPHA [OVERRIDES]: stage 1, then (unless STAGE2=0) stage 2 from its adapter
    stage "$1" s1 "$2" "$3" "${4:-}" && touch "/root/t/$1-s1.done" && [ "${STAGE2:-1}" = 1 ] && stage "$1" s2 "$2" "$3" && touch "/root/t/$1-s2.done"
}

names=()
for spec in "$@"; do
    IFS=: read -r name r alpha overrides <<<"$spec"
    names+=("$name")
    chain "$name" "$r" "${alpha:-$((2 * r))}" "${overrides:-}" &
done
nvidia-smi --query-gpu=name,memory.used,utilization.gpu --format=csv
while [ -n "$(jobs -rp)" ] && [ $(( $(date +%s) - start )) -lt "$deadline" ]; do sleep 5; done
[ -n "$(jobs -rp)" ] && { echo "deadline: stopping $(jobs -rp | wc -l) chains"; kill $(jobs -rp) 2>/dev/null; pkill -f "kubedistill train"; }
# The adapters stay in /root/t for bench/gpu_eval.sh and bench/gpu_fetch.sh (r=32 and up do not fit in one call's
# 64 MiB); what comes back now is each run's record.
(cd /root/t && tar -cf "$OUT/train.tar" --ignore-failed-read ./*.log ./*/metrics.jsonl ./*/training_config.json ./*/README.md)
for name in "${names[@]}"; do tail -2 "/root/t/$name-s1.log"; done
echo "done after $(( $(date +%s) - start )) s"
ls -la "$OUT"
