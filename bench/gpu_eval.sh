#!/usr/bin/env bash
# Evaluate the adapters that bench/gpu_stages.sh left in /root/t on the same warm GPU machine: the test split,
# strict prompt, greedy, 768 new tokens, no repair (the first answer: #6's measure), several adapters side by side.
# A screen, not the reference figure: bfloat16 on a GPU with the whole split in one left-padded batch takes other
# kernels than the CPU's batches of 20, so a greedy answer can differ here and there; the chosen adapter is
# evaluated again on the CPU (bench/gpu_fetch.sh brings it back).
#
#   bash bench/gpu_eval.sh DEADLINE_S RUN ...        e.g. bash bench/gpu_eval.sh 240 r16-s2 r32-s2 r64-s2
#
# Each evaluation of the 0.5B base holds about 17 GB of GPU memory at batch 200: four fit on an 80 GB H100, a fifth
# and sixth ran out of memory (2026-11-27: six started, four finished side by side in 214 s; the other two then took 157 s).
# T (where the adapters are, default /root/t) and EXTRA (more eval options, e.g. --limit 2) are for trying it out.
# Comes back under $OUT: log.txt and eval.tar (each run's summary.json, report.md, results.jsonl and log).
set -u
[ $# -ge 2 ] || { echo "usage: bash bench/gpu_eval.sh DEADLINE_S RUN ..." >&2; exit 2; }
start=$(date +%s)
deadline=$1; shift
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/src:/root/site HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec > >(tee "$OUT/log.txt") 2>&1
mkdir -p /root/e
for run in "$@"; do
    python3 -m kubedistill eval --corpus runs/corpus --split test --backend transformers --dtype bfloat16 \
        --batch-size 200 --no-progress --model "${MODEL:-qwen2.5-coder-0.5b-instruct}" --adapter "${T:-/root/t}/$run" \
        --prompt strict --repair 0 --max-new-tokens 768 --out "/root/e/$run" ${EXTRA:-} > "/root/e/$run.log" 2>&1 &
done
while [ -n "$(jobs -rp)" ] && [ $(( $(date +%s) - start )) -lt "$deadline" ]; do sleep 3; done
[ -n "$(jobs -rp)" ] && { echo "deadline: stopping $(jobs -rp | wc -l) evals"; pkill -f "kubedistill eval"; }
for run in "$@"; do
    echo "$run: $(tail -1 "/root/e/$run.log")"
    python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print({k: v for k, v in s.items() if not isinstance(v, (dict, list))})" "/root/e/$run/summary.json" 2>/dev/null
done
(cd /root/e && tar -cf "$OUT/eval.tar" --ignore-failed-read ./*.log ./*/summary.json ./*/report.md ./*/results.jsonl)
echo "done after $(( $(date +%s) - start )) s"
