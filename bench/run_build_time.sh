#!/usr/bin/env bash
# How long a newcomer waits for the build: a clean configure + build of this checkout into a fresh
# directory, ccache off, the way scripts/setup.sh builds (RelWithDebInfo, Ninja, -j JOBS). Prints
# the wall time, then from Ninja's log the compile time summed per target and the heaviest
# translation units (a unity batch is one unit: Unity/unity_N_cxx.cxx).
#
# Usage: bench/run_build_time.sh [JOBS] [CMAKE_ARGS...]
# (default JOBS: 2). For example `bench/run_build_time.sh 2 -DSSLX_UNITY_BUILD=OFF` measures the
# build without unity batches. Run from the repository root on an otherwise idle machine; the
# build directory is removed afterwards.
set -euo pipefail

jobs=${1:-2}
shift || true
build_dir=$(mktemp -d /tmp/sslx-build-time.XXXXXX)
trap 'rm -rf "$build_dir"' EXIT

export CCACHE_DISABLE=1
start=$(date +%s)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
configured=$(date +%s)
echo "building into $build_dir with -j $jobs (ccache off) ..." >&2
cmake --build "$build_dir" -j "$jobs" >"$build_dir/build.log" 2>&1 || {
  tail -40 "$build_dir/build.log" >&2
  echo "error: the build failed (log above)" >&2
  exit 1
}
end=$(date +%s)

/usr/bin/python3 - "$build_dir/.ninja_log" "$jobs" "$((configured - start))" "$((end - configured))" <<'PY'
import collections
import re
import sys

log, jobs, configure_s, build_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
units = {}
for line in open(log):
    if line.startswith("#"):
        continue
    start_ms, end_ms, _, output, _ = line.rstrip("\n").split("\t")
    units[output] = (int(end_ms) - int(start_ms)) / 1000

def target_of(output):
    match = re.search(r"CMakeFiles/([^/]+)\.dir/", output)
    return match.group(1) if match else "(link and other steps)"

per_target = collections.defaultdict(lambda: [0.0, 0])
for output, seconds in units.items():
    per_target[target_of(output)][0] += seconds
    per_target[target_of(output)][1] += 1
total = sum(seconds for seconds, _ in per_target.values())

print(f"configure {configure_s} s, build {build_s / 60:.1f} min wall with -j {jobs} "
      f"({total / 60:.1f} min of steps summed)\n")
print("| target | steps | seconds (summed) | share |")
print("|---|---:|---:|---:|")
for target, (seconds, count) in sorted(per_target.items(), key=lambda item: -item[1][0]):
    if seconds >= 10:
        print(f"| {target} | {count} | {seconds:.0f} | {100 * seconds / total:.0f}% |")
print("\nheaviest steps:\n")
print("| step | seconds |")
print("|---|---:|")
for output, seconds in sorted(units.items(), key=lambda item: -item[1])[:12]:
    print(f"| {output} | {seconds:.0f} |")
PY
