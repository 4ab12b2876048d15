#!/usr/bin/env bash
# Bring one adapter that bench/gpu_stages.sh trained back from the warm GPU machine, a few 15 MiB pieces per call
# (at most 64 MiB come back from one call; a rank-32 adapter in float32 is 67 MiB).
#
#   bash bench/gpu_fetch.sh RUN FIRST COUNT     e.g. bash bench/gpu_fetch.sh r32-s2 0 4, then r32-s2 4 4
# Then, here: cat RUN.tar.* | tar -xf - -C runs/gpu-RUN, and evaluate runs/gpu-RUN as --adapter.
set -eu
[ $# -ge 3 ] || { echo "usage: bash bench/gpu_fetch.sh RUN FIRST COUNT" >&2; exit 2; }
run=$1 first=$2 count=$3
[ -f "/root/t/$run/adapter/adapter_model.safetensors" ] || { echo "no adapter in /root/t/$run (bench/gpu_stages.sh did not finish it)" >&2; exit 2; }
mkdir -p /root/f && cd /root/f
[ -e "$run.tar.00" ] || tar -C "/root/t/$run" -cf - adapter/adapter_model.safetensors adapter/adapter_config.json \
    training_config.json metrics.jsonl README.md | split -b 15m -d - "$run.tar."
ls "$run".tar.* | tail -n +$((first + 1)) | head -n "$count" | xargs -I{} cp {} "$OUT/"
ls "$run".tar.*
