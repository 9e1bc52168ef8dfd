#!/usr/bin/env bash
# Every objective's whole train step in sslx (bench_objectives, one process each so that peak
# memory is per objective) next to the same step in PyTorch eager on the same architecture
# (bench/pytorch_baseline.py with sslx's vocabulary and gradient clipping): the decoder with a
# causal, document or prefix mask for clm, clm+document_mask and prefix_lm, the encoder for mlm,
# the encoder-decoder with sslx's encoder and decoder lengths for span_corruption; sft and
# reward_model against the decoder's CLM step. On this machine with the same thread count. Prints
# tokens/s, model GFLOP/s, peak memory, page faults and kernel time per step, and two ratios of
# each objective's tokens/s to its PyTorch baseline:
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
# span_corruption's encoder (I) and decoder (U) lengths: B (I + U) tokens and B U targets a step.
read -r encoder_length decoder_length < <("$python" -c '
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
rows = 8
print(round(b["tokens/step"] / rows - b["targets/step"] / rows), round(b["targets/step"] / rows))
' "$out/span_corruption.json")
# Each baseline's arguments, split into words where they are used.
declare -A baselines=(
  [decoder]="--arch decoder"
  [decoder_document]="--arch decoder --mask document"
  [decoder_prefix]="--arch decoder --mask prefix"
  [encoder]="--arch encoder --mask-rate 0.15"
  [encoder_decoder]="--arch encoder_decoder --context $encoder_length --decoder-length $decoder_length"
)
for baseline in decoder decoder_document decoder_prefix encoder encoder_decoder; do
  echo "PyTorch eager $baseline, default environment ..." >&2
  env -u OMP_WAIT_POLICY -u GLIBC_TUNABLES "$python" "$here/pytorch_baseline.py" \
    --threads="$threads" --min-time="$min_time" --vocab="$vocab" --clip-grad-norm=1.0 \
    ${baselines[$baseline]} >"$out/pytorch_$baseline.json"
  echo "PyTorch eager $baseline, sslx's settings ..." >&2
  env "${same_settings[@]}" "$python" "$here/pytorch_baseline.py" \
    --threads="$threads" --min-time="$min_time" --vocab="$vocab" --clip-grad-norm=1.0 \
    ${baselines[$baseline]} >"$out/pytorch_same_$baseline.json"
done

"$python" - "$out" "${objectives[@]}" <<'PY'
import json
import os
import sys

out, objectives = sys.argv[1], sys.argv[2:]
# The PyTorch step of the same architecture as each objective's.
baseline_of = {"clm": "decoder", "clm_document_mask": "decoder_document", "mlm": "encoder",
               "span_corruption": "encoder_decoder", "prefix_lm": "decoder_prefix",
               "clm_untuned": "decoder"}
torch, same = {}, {}
for name in set(baseline_of.values()):
    torch[name] = json.load(open(os.path.join(out, f"pytorch_{name}.json")))
    same[name] = json.load(open(os.path.join(out, f"pytorch_same_{name}.json")))
first = torch["decoder"]
print(f"threads: {first['threads']}; PyTorch {first['torch']}; batch 8 x 256 tokens, "
      f"small preset; ratios against PyTorch eager on the same architecture (sft and "
      f"reward_model: the decoder's CLM step)")
print(f"{'':34}{'tokens/s':>9}{'GFLOP/s':>8}{'peak MiB':>9}{'faults/step':>12}"
      f"{'sys s/step':>11}{'params':>10}{'as run':>8}{'like/like':>10}")


def row(name, tokens, gflops, peak, faults, sys_s, params, ratios):
    gflops = f"{gflops:8.2f}" if gflops is not None else " " * 8
    print(f"{name:34}{tokens:9.0f}{gflops}{peak:9.0f}{faults:12.0f}{sys_s:11.3f}{params:10d}"
          + "".join(f"{r:8.2f}" if i == 0 else f"{r:10.2f}" for i, r in enumerate(ratios)))


def rate(result):
    return result["train_step"]["tokens_per_second"]


params = {}
for objective in objectives + ["clm_untuned"]:
    b = json.load(open(os.path.join(out, objective + ".json")))["benchmarks"][0]
    if "error_message" in b:
        sys.exit(f"{objective}: {b['error_message']}")
    base = baseline_of.get(objective, "decoder")
    params.setdefault(base, int(b["parameters"]))
    name = "clm (LibTorch defaults)" if objective == "clm_untuned" else objective
    row(name, b["tokens/s"], b["GFLOP/s"], b["peak_rss_MiB"], b["page_faults/step"],
        b["sys_s/step"], int(b["parameters"]),
        [b["tokens/s"] / rate(torch[base]), b["tokens/s"] / rate(same[base])])
for name in ("decoder", "decoder_document", "decoder_prefix", "encoder", "encoder_decoder"):
    for label, result in ((f"PyTorch {name}", torch[name]), (f"PyTorch {name}, sslx settings",
                                                             same[name])):
        step = result["train_step"]
        row(label, step["tokens_per_second"], None, result["peak_rss_mib"],
            step["page_faults_per_step"], step["sys_seconds_per_step"], result["parameters"],
            [step["tokens_per_second"] / rate(torch[name]),
             step["tokens_per_second"] / rate(same[name])])
    if params.get(name) not in (None, torch[name]["parameters"]):
        print(f"warning: parameter counts differ for {name}: sslx {params[name]}, "
              f"PyTorch {torch[name]['parameters']}")
print("as run: / PyTorch eager in its default environment; like/like: / PyTorch eager with "
      "OMP_WAIT_POLICY=PASSIVE and malloc keeping freed memory, as sslx runs")
PY
