#!/usr/bin/env bash
# Every objective's whole train step in sslx (bench_objectives, one process each so that peak
# memory is per objective) next to the same decoder + CLM step in PyTorch eager
# (bench/pytorch_decoder_baseline.py with sslx's vocabulary and gradient clipping), on this
# machine with the same thread count. Prints tokens/s, model GFLOP/s, peak memory, page faults
# and kernel time per step, and two ratios of each objective's tokens/s to the PyTorch CLM step:
#   as run:       sslx as users run it (it sets OMP_WAIT_POLICY and malloc for itself,
#                 modules/util/process_tuning.h) / PyTorch eager in the default environment;
#   like for like: the same sslx / PyTorch eager started with the same settings
#                 (OMP_WAIT_POLICY=PASSIVE and glibc malloc tunables that keep freed memory),
#                 so the framework's own work shows apart from the environment.
# A third line runs sslx with SSLX_PROCESS_TUNING=0 (LibTorch's defaults) for the CLM step.
#
# Usage: bench/run_objectives_vs_pytorch.sh [BUILD_DIR] [THREADS] [MIN_TIME_SECONDS]
# (defaults: build, 2, 3). Run from the repository root (the token cache is .cache/sslx) on an
# otherwise idle machine. Needs Debian's python3-torch (apt-get install python3-torch).
set -euo pipefail

build_dir=${1:-build}
threads=${2:-2}
min_time=${3:-3}
python=/usr/bin/python3  # Debian's python3-torch, not a pyenv interpreter
here=$(cd "$(dirname "$0")" && pwd)
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "error: the PyTorch baseline needs Debian's python3-torch for $python:" \
    "apt-get install python3-torch" >&2
  exit 1
fi
if [[ ! -x "$build_dir/bench/bench_objectives" ]]; then
  echo "error: $build_dir/bench/bench_objectives is missing: ninja -C $build_dir bench_objectives" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# What sslx sets for itself, as the environment of the like-for-like PyTorch run.
same_settings=(OMP_WAIT_POLICY=PASSIVE
  GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647)

bench_step() {  # OBJECTIVE OUTPUT [ENV...]
  local objective=$1 output=$2
  shift 2
  env "$@" "$build_dir/bench/bench_objectives" --threads="$threads" \
    --benchmark_filter="^TrainStep/$objective/real_time\$" --benchmark_min_time="$min_time" \
    --benchmark_out="$output" --benchmark_out_format=json >/dev/null
}

objectives=(clm clm_document_mask mlm span_corruption prefix_lm sft sft_packed reward_model)
for objective in "${objectives[@]}"; do
  echo "sslx $objective ..." >&2
  bench_step "$objective" "$out/$objective.json" -u OMP_WAIT_POLICY
done
echo "sslx clm, SSLX_PROCESS_TUNING=0 ..." >&2
bench_step clm "$out/clm_untuned.json" -u OMP_WAIT_POLICY SSLX_PROCESS_TUNING=0
vocab=$("$python" -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["benchmarks"][0]["vocab"]))' "$out/clm.json")
echo "PyTorch eager clm, default environment ..." >&2
env -u OMP_WAIT_POLICY -u GLIBC_TUNABLES "$python" "$here/pytorch_decoder_baseline.py" \
  --threads="$threads" --min-time="$min_time" --vocab="$vocab" --clip-grad-norm=1.0 \
  >"$out/pytorch.json"
echo "PyTorch eager clm, sslx's settings ..." >&2
env "${same_settings[@]}" "$python" "$here/pytorch_decoder_baseline.py" \
  --threads="$threads" --min-time="$min_time" --vocab="$vocab" --clip-grad-norm=1.0 \
  >"$out/pytorch_same.json"

"$python" - "$out" "${objectives[@]}" <<'PY'
import json
import os
import sys

out, objectives = sys.argv[1], sys.argv[2:]
torch = json.load(open(os.path.join(out, "pytorch.json")))
same = json.load(open(os.path.join(out, "pytorch_same.json")))
as_run = torch["train_step"]["tokens_per_second"]
like = same["train_step"]["tokens_per_second"]
print(f"threads: {torch['threads']}; PyTorch {torch['torch']}; batch 8 x 256 tokens, "
      f"small preset")
print(f"{'':24}{'tokens/s':>9}{'GFLOP/s':>8}{'peak MiB':>9}{'faults/step':>12}"
      f"{'sys s/step':>11}{'params':>9}{'as run':>8}{'like/like':>10}")


def row(name, tokens, gflops, peak, faults, sys_s, params, ratios):
    gflops = f"{gflops:8.2f}" if gflops is not None else " " * 8
    print(f"{name:24}{tokens:9.0f}{gflops}{peak:9.0f}{faults:12.0f}{sys_s:11.3f}{params:9d}"
          + "".join(f"{r:8.2f}" if i == 0 else f"{r:10.2f}" for i, r in enumerate(ratios)))


clm_params = None
for objective in objectives + ["clm_untuned"]:
    b = json.load(open(os.path.join(out, objective + ".json")))["benchmarks"][0]
    if "error_message" in b:
        sys.exit(f"{objective}: {b['error_message']}")
    if objective == "clm":
        clm_params = int(b["parameters"])
    name = "clm (LibTorch defaults)" if objective == "clm_untuned" else objective
    row(name, b["tokens/s"], b["GFLOP/s"], b["peak_rss_MiB"], b["page_faults/step"],
        b["sys_s/step"], int(b["parameters"]), [b["tokens/s"] / as_run, b["tokens/s"] / like])
for label, result, base in (("PyTorch eager CLM", torch, as_run),
                            ("PyTorch, sslx settings", same, like)):
    step = result["train_step"]
    row(label, step["tokens_per_second"], None, result["peak_rss_mib"],
        step["page_faults_per_step"], step["sys_seconds_per_step"], result["parameters"],
        [step["tokens_per_second"] / as_run, step["tokens_per_second"] / like])
print("as run: / PyTorch eager in its default environment; like/like: / PyTorch eager with "
      "OMP_WAIT_POLICY=PASSIVE and malloc keeping freed memory, as sslx runs")
if clm_params != torch["parameters"]:
    print(f"warning: parameter counts of the CLM steps differ: sslx {clm_params}, "
          f"PyTorch {torch['parameters']}")
PY
