#!/usr/bin/env bash
# Generation at the small preset in sslx (bench_rollout: the rollout engine with its KV cache, and
# the whole forward pass re-run per token) next to the same two loops in PyTorch eager
# (bench/pytorch_generation_baseline.py), on this machine with the same thread count. Prints new
# tokens/s, the speed-up of the cache in each, and sslx / PyTorch.
#
# Usage: bench/run_generation_vs_pytorch.sh [BUILD_DIR] [THREADS] [MIN_TIME_SECONDS]
# (defaults: build, 2, 2). Run from the repository root.
set -euo pipefail

build_dir=${1:-build}
threads=${2:-2}
min_time=${3:-2}
python=/usr/bin/python3  # Debian's python3-torch, not a pyenv interpreter
here=$(cd "$(dirname "$0")" && pwd)
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "run_generation_vs_pytorch.sh: the PyTorch baseline needs Debian's python3-torch:" >&2
  echo "  apt-get install python3-torch" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$build_dir/bench/bench_rollout" --threads="$threads" --benchmark_min_time="$min_time" \
  --benchmark_out="$out/sslx.json" --benchmark_out_format=json >/dev/null 2>"$out/sslx.err" ||
  { cat "$out/sslx.err" >&2; exit 1; }
(cd "$here" && "$python" pytorch_generation_baseline.py --threads="$threads" \
  --min-time="$min_time") >"$out/pytorch.json"

"$python" - "$out/sslx.json" "$out/pytorch.json" <<'PY'
import json
import sys

sslx = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if "error_message" in b:
        sys.exit(f"sslx {b['name']}: {b['error_message']}")
    _, loop, batch, _ = b["name"].split("/")
    sslx[f"{loop}/{batch}"] = b["new_tokens/s"]
torch = json.load(open(sys.argv[2]))
print(f"threads: {torch['threads']}; PyTorch {torch['torch']}; small preset, prompt 32, "
      f"64 new tokens, temperature 1")
print(f"{'':12}{'sslx cache':>12}{'sslx no cache':>15}{'speed-up':>10}"
      f"{'PyTorch cache':>15}{'PyTorch no cache':>18}{'speed-up':>10}{'sslx/PyTorch':>14}")
for batch in (1, 16):
    a, b = sslx[f"kv_cache/{batch}"], sslx[f"recompute/{batch}"]
    c, d = torch[f"kv_cache/{batch}"], torch[f"recompute/{batch}"]
    print(f"{'batch ' + str(batch):12}{a:12.0f}{b:15.0f}{a / b:10.1f}{c:15.0f}{d:18.0f}"
          f"{c / d:10.1f}{a / c:14.2f}")
PY
