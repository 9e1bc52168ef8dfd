#!/usr/bin/env bash
# How the cost of sslx's CLM train step grows with the context T and the width d_model: tokens/s,
# milliseconds per step, model GFLOP/s (attention's T^2 term included in the FLOP count) and peak
# memory at T = 128, 256, 512, 1024 and d_model = 256, 512 (batch 8, 4 layers, d_ff = 4 d_model,
# heads of 64), each in its own process so that peak memory is per configuration. The process is
# set up as `sslx run` sets it up (docs/performance.md).
#
# Usage: bench/run_scaling.sh [BUILD_DIR] [THREADS] [MIN_TIME_SECONDS]
# (defaults: build, 2, 3). Run from the repository root on an otherwise idle machine.
set -euo pipefail

build_dir=${1:-build}
threads=${2:-2}
min_time=${3:-3}
python=/usr/bin/python3
if [[ ! -x "$build_dir/bench/bench_objectives" ]]; then
  echo "error: $build_dir/bench/bench_objectives is missing: ninja -C $build_dir bench_objectives" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

configs=()
for context in 128 256 512 1024; do
  for width in 256 512; do
    name="T=$context/E=$width"
    echo "sslx clm $name ..." >&2
    env -u OMP_WAIT_POLICY "$build_dir/bench/bench_objectives" --threads="$threads" \
      --benchmark_filter="^TrainStep/scaling/$name/real_time\$" --benchmark_min_time="$min_time" \
      --benchmark_out="$out/$context-$width.json" --benchmark_out_format=json >/dev/null
    configs+=("$context-$width")
  done
done

"$python" - "$out" "${configs[@]}" <<'PY'
import json
import os
import sys

out, configs = sys.argv[1], sys.argv[2:]
print(f"{'T':>6}{'d_model':>9}{'params':>11}{'tokens/s':>10}{'ms/step':>9}{'GFLOP/s':>9}"
      f"{'peak MiB':>10}")
for config in configs:
    context, width = config.split("-")
    b = json.load(open(os.path.join(out, config + ".json")))["benchmarks"][0]
    if "error_message" in b:
        sys.exit(f"T={context} d_model={width}: {b['error_message']}")
    print(f"{context:>6}{width:>9}{int(b['parameters']):>11,}{b['tokens/s']:10.0f}"
          f"{b['real_time']:9.0f}{b['GFLOP/s']:9.1f}{b['peak_rss_MiB']:10.0f}")
PY
