#!/usr/bin/env bash
# The small decoder in sslx (bench_architectures) and in PyTorch eager
# (bench/pytorch_baseline.py), back to back on this machine with the same thread count;
# prints tokens/s of both and the ratio sslx / PyTorch for forward, forward+backward and a train
# step (AdamW). Checks that both models have the same parameter count.
#
# Usage: bench/run_decoder_vs_pytorch.sh [BUILD_DIR] [THREADS] [MIN_TIME_SECONDS]
# (defaults: build, 2, 2). Run from the repository root.
set -euo pipefail

build_dir=${1:-build}
threads=${2:-2}
min_time=${3:-2}
python=/usr/bin/python3  # Debian's python3-torch, not a pyenv interpreter
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$build_dir/bench/bench_architectures" --threads="$threads" \
  --benchmark_filter='^(Forward|ForwardBackward|TrainStep)/decoder/real_time$' \
  --benchmark_min_time="$min_time" \
  --benchmark_out="$out/sslx.json" --benchmark_out_format=json
"$python" "$here/pytorch_baseline.py" --threads="$threads" --min-time="$min_time" \
  | tee "$out/pytorch.json"

"$python" - "$out/sslx.json" "$out/pytorch.json" <<'PY'
import json
import sys

sslx = {b["name"].split("/")[0]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
torch = json.load(open(sys.argv[2]))
if set(sslx) != {"Forward", "ForwardBackward", "TrainStep"}:
    sys.exit(f"expected the three decoder benchmarks of sslx, got {sorted(sslx)}")
for name, b in sslx.items():
    if "error_message" in b:
        sys.exit(f"sslx {name}: {b['error_message']}")
if {int(b["parameters"]) for b in sslx.values()} != {torch["parameters"]}:
    sys.exit(f"parameter counts differ: sslx {sslx['Forward']['parameters']:.0f}, "
             f"PyTorch {torch['parameters']}")
print(f"\nparameters: {torch['parameters']} in both; threads: {torch['threads']}")
print(f"{'':18}{'sslx tokens/s':>15}{'PyTorch tokens/s':>18}{'sslx/PyTorch':>14}")
for ours, theirs in (("Forward", "forward"), ("ForwardBackward", "forward_backward"),
                     ("TrainStep", "train_step")):
    a, b = sslx[ours]["tokens/s"], torch[theirs]["tokens_per_second"]
    print(f"{theirs:18}{a:15.0f}{b:18.0f}{a / b:14.2f}")
PY
