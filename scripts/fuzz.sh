#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/) with clang-14 in build-fuzz/ and runs each for a fixed
# number of inputs from its checked-in seed corpus (fuzz/corpus/<target>), then prints
# executions, executions per second and findings per target. Exits 1 on any finding; the input
# that caused it is kept in build-fuzz/findings/<target>/ to reproduce with
#   build-fuzz/fuzz/fuzz_<target> build-fuzz/findings/<target>/<file>
#
# Usage: scripts/fuzz.sh [RUNS] [TARGET...]   (default: 20000 inputs each, every target)
# New inputs that reach new code go to build-fuzz/corpus/<target>/ (kept between runs, not
# checked in). With SSLX_FUZZ_SEED=N the run is reproducible: libFuzzer's random seed N and only
# the checked-in seeds; scripts/run-tests.sh runs SSLX_FUZZ_SEED=1 with 2000 inputs each.
# docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-20000}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(config override experiment_plan jsonl text run_log sentencepiece safetensors checkpoint)
fi
for tool in clang-14 clang++-14; do
  if ! command -v "$tool" >/dev/null; then
    echo "fuzz: $tool is missing: apt-get install clang-14 libfuzzer-14-dev (scripts/setup.sh" \
      "installs both)" >&2
    exit 1
  fi
done

build_dir=${SSLX_FUZZ_BUILD_DIR:-build-fuzz}
if [[ ! -f "$build_dir/build.ninja" ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSSLX_FUZZ=ON -DSSLX_BUILD_TESTS=OFF -DSSLX_BUILD_BENCHMARKS=OFF >/dev/null
fi
echo "fuzz: building the harnesses in $build_dir ..." >&2
if ! cmake --build "$build_dir" -j "${SSLX_JOBS:-2}" --target fuzz_all >"$build_dir/build.log" 2>&1; then
  echo "fuzz: building the harnesses failed; the errors ($build_dir/build.log):" >&2
  grep -E -A3 'error|FAILED' "$build_dir/build.log" | head -40 >&2
  exit 1
fi

# A size read from a corrupted file may ask malloc for terabytes: as in a normal build, malloc
# then returns null and the reader reports the error (AddressSanitizer would abort instead).
export ASAN_OPTIONS="allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# Where a finding happened: "libhdf5" when the first frame of its stack outside the sanitizer
# runtime and libFuzzer (both inside the harness), libc and libstdc++ is in Debian's HDF5
# library, else "sslx". HDF5 1.10 has memory errors, hangs and huge allocations on corrupted
# files that sslx cannot fix (docs/fuzzing.md): those are printed and kept, and do not fail the
# run; the target stops there.
finding_origin() {  # LOG HARNESS
  local frame
  frame=$(grep -E '^ +#[0-9]+ 0x' "$1" | grep -v -F "$(basename "$2")+0x" |
    grep -v -E '(libc\.so|libstdc\+\+\.so|libgcc_s\.so)' | head -1)
  if [[ $frame == *libhdf5* ]]; then echo libhdf5; else echo sslx; fi
}

failed=()
printf '%-16s %10s %10s %9s  %s\n' target inputs "execs/s" findings "new coverage corpus"
for target in "${targets[@]}"; do
  harness="$build_dir/fuzz/fuzz_$target"
  seeds="fuzz/corpus/$target"
  if [[ ! -x "$harness" || ! -d "$seeds" ]]; then
    echo "fuzz: unknown target $target (no $harness or no $seeds)" >&2
    exit 2
  fi
  corpus="$build_dir/corpus/$target"
  seed_flags=()
  if [[ -n ${SSLX_FUZZ_SEED:-} ]]; then
    corpus="$build_dir/corpus-seed-$SSLX_FUZZ_SEED/$target"
    rm -rf "$corpus"
    seed_flags=(-seed="$SSLX_FUZZ_SEED")
  fi
  findings="$build_dir/findings/$target"
  rm -rf "$findings"  # this run's findings only
  mkdir -p "$corpus" "$findings"
  log="$build_dir/findings/$target.log"
  status=0
  # -timeout: an input that takes 10 s is a finding (a hang); -rss_limit_mb: so is 2 GB.
  start=$(date +%s.%N)
  "$harness" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${seed_flags[@]}" \
    -artifact_prefix="$findings/" "$corpus" "$seeds" >"$log" 2>&1 || status=$?
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(awk -v n="${executions:-0}" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
  found=$(find "$findings" -maxdepth 1 -type f | wc -l)
  origin=""
  if ((status != 0 || found > 0)); then origin=$(finding_origin "$log" "$harness"); fi
  printf '%-16s %10s %10s %9s  %s\n' "$target" "${executions:-?}" "${speed:-?}" \
    "$found${origin:+ ($origin)}" "$(find "$corpus" -type f | wc -l) files"
  if [[ $origin == libhdf5 ]]; then
    echo "fuzz: $target: stopped at a defect inside libhdf5 (not failing); input and report:" \
      "$findings/, $log" >&2
    grep -E '^SUMMARY' "$log" >&2 || true
  elif [[ -n $origin ]]; then
    failed+=("$target")
    echo "fuzz: $target: exit $status; the end of $log:" >&2
    grep -v '^#\|^INFO\|^stat::' "$log" | tail -25 >&2
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: findings in ${failed[*]}; inputs in $build_dir/findings/<target>/" >&2
  exit 1
fi
