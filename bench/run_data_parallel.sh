#!/usr/bin/env bash
# Data-parallel scaling on this machine: the CLM train step at the small preset (E 256, 4 layers,
# batch 8 x 256 tokens per rank, SentencePiece 8k, the fortune corpus; bench/objective_step.toml)
# run by `sslx run` as
#   1 rank  x 1 thread,  batch 8   (one core: the baseline of the scaling efficiency)
#   1 rank  x 2 threads, batch 16  (the same global batch on the same two cores, one process)
#   2 ranks x 1 thread,  batch 8   (`--nproc 2`: c10d Gloo all-reduce of the gradients)
# and prints tokens/s (mean over the steps after the first WARMUP; tokens of every rank), the
# scaling efficiency tokens/s(2 ranks) / (2 x tokens/s(1 rank, 1 thread)) and the ratio to one
# process using both cores.
#
# Usage: bench/run_data_parallel.sh [BUILD_DIR] [STEPS]   (defaults: build, 40). From the repo root.
set -euo pipefail

build_dir=${1:-build}
steps=${2:-40}
warmup=5
python=/usr/bin/python3  # Debian's python3-h5py, not a pyenv interpreter
if ! "$python" -c "import h5py" 2>/dev/null; then
  echo "run_data_parallel.sh: needs Debian's python3-h5py: apt-get install python3-h5py" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {  # NAME THREADS BATCH NPROC
  echo "$1: $steps steps..." >&2
  SSLX_THREADS=$2 "$build_dir/sslx" run bench/objective_step.toml --out "$out/$1" --no-report \
    --nproc "$4" trainer.batch_size="$3" trainer.max_steps="$steps" trainer.log_every=1 \
    trainer.eval_every=0 trainer.eval_batches=1 trainer.checkpoint_every=100000 "eval.tasks=[]" \
    >"$out/$1.log" 2>&1 || { tail -30 "$out/$1.log" >&2; exit 1; }
}
run one_core 1 8 1
run one_process 2 16 1
run two_ranks 2 8 2

"$python" - "$out" "$warmup" <<'PY'
import os
import sys

import h5py
import numpy as np

out, warmup = sys.argv[1], int(sys.argv[2])

def tokens_per_second(name):
    with h5py.File(os.path.join(out, name, "base", "log.h5"), "r") as log:
        return float(np.asarray(log["metrics/train/tokens_per_second/value"])[warmup:].mean())

one_core = tokens_per_second("one_core")
one_process = tokens_per_second("one_process")
two_ranks = tokens_per_second("two_ranks")
print("| run | ranks x threads | batch per rank | tokens/s |")
print("|---|---:|---:|---:|")
print(f"| one core | 1 x 1 | 8 | {one_core:,.0f} |")
print(f"| one process, both cores | 1 x 2 | 16 | {one_process:,.0f} |")
print(f"| data-parallel (`--nproc 2`) | 2 x 1 | 8 | {two_ranks:,.0f} |")
print()
print(f"scaling efficiency 1 -> 2 ranks: {two_ranks / (2 * one_core):.2f} "
      f"(tokens/s of 2 ranks / 2 x one core); 2 ranks / one process on both cores: "
      f"{two_ranks / one_process:.2f}")
PY
