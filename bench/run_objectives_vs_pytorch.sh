#!/usr/bin/env bash
# Every objective's whole train step in sslx (bench_objectives, one process each so that peak
# memory is per objective) next to the same decoder + CLM step in PyTorch eager
# (bench/pytorch_decoder_baseline.py with sslx's vocabulary and gradient clipping), on this
# machine with the same thread count. Prints tokens/s, model GFLOP/s, peak memory, and the ratio
# of each objective's tokens/s to the PyTorch CLM step.
#
# Usage: bench/run_objectives_vs_pytorch.sh [BUILD_DIR] [THREADS] [MIN_TIME_SECONDS]
# (defaults: build, 2, 3). Run from the repository root (the token cache is .cache/sslx).
set -euo pipefail

build_dir=${1:-build}
threads=${2:-2}
min_time=${3:-3}
python=/usr/bin/python3  # Debian's python3-torch, not a pyenv interpreter
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

objectives=(clm clm_document_mask mlm span_corruption prefix_lm sft reward_model)
for objective in "${objectives[@]}"; do
  "$build_dir/bench/bench_objectives" --threads="$threads" \
    --benchmark_filter="^TrainStep/$objective/real_time\$" --benchmark_min_time="$min_time" \
    --benchmark_out="$out/$objective.json" --benchmark_out_format=json >/dev/null
done
vocab=$("$python" -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["benchmarks"][0]["vocab"]))' "$out/clm.json")
"$python" "$here/pytorch_decoder_baseline.py" --threads="$threads" --min-time="$min_time" \
  --vocab="$vocab" --clip-grad-norm=1.0 >"$out/pytorch.json"

"$python" - "$out" "${objectives[@]}" <<'PY'
import json
import os
import sys

out, objectives = sys.argv[1], sys.argv[2:]
torch = json.load(open(os.path.join(out, "pytorch.json")))
baseline = torch["train_step"]["tokens_per_second"]
print(f"threads: {torch['threads']}; PyTorch {torch['torch']}; batch 8 x 256 tokens, "
      f"small preset")
print(f"{'':22}{'tokens/s':>10}{'GFLOP/s':>9}{'peak MiB':>10}{'params':>10}"
      f"{'/ PyTorch CLM':>15}")
clm_params = None
for objective in objectives:
    b = json.load(open(os.path.join(out, objective + ".json")))["benchmarks"][0]
    if "error_message" in b:
        sys.exit(f"{objective}: {b['error_message']}")
    if objective == "clm":
        clm_params = int(b["parameters"])
    print(f"{objective:22}{b['tokens/s']:10.0f}{b['GFLOP/s']:9.2f}{b['peak_rss_MiB']:10.0f}"
          f"{int(b['parameters']):10d}{b['tokens/s'] / baseline:15.2f}")
print(f"{'PyTorch eager CLM':22}{baseline:10.0f}{'':9}{torch['peak_rss_mib']:10.0f}"
      f"{torch['parameters']:10d}{1.0:15.2f}")
if clm_params != torch["parameters"]:
    print(f"warning: parameter counts of the CLM steps differ: sslx {clm_params}, "
          f"PyTorch {torch['parameters']}")
PY
