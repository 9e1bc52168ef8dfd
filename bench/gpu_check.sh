#!/usr/bin/env bash
# The GPU check of trainer.device and trainer.precision (docs/scaling.md), for a machine with a
# CUDA GPU and a PyTorch 2.x with CUDA in its python3:
#   1. builds sslx against that PyTorch's LibTorch in build-cuda/ (the Debian -dev packages sslx
#      also needs come from the system, or from .deb files unpacked into .gpu-prefix/);
#   2. trains the CLM step of bench/objective_step.toml (small preset, batch 8 x 256 tokens,
#      SentencePiece 8k, the fortune corpus) for STEPS steps on the GPU in fp32 and in bf16, and
#      for STEPS_CPU steps on the CPU, and compares the loss curves (the mean loss of every
#      10 steps, as the progress lines print it);
#   3. prints tokens/s and model FLOP/s of each run next to the same decoder in PyTorch eager and
#      torch.compile on the same GPU (bench/pytorch_baseline.py), fp32 and bf16.
#
# Usage:
#   bench/gpu_check.sh --fetch-debs DIR      on Debian 12 with its package mirror: downloads the
#                                            -dev packages (and the libraries they need) as .deb
#                                            files into DIR, for a GPU machine that lacks them
#   bench/gpu_check.sh [STEPS] [DEBS_DIR]    on the GPU machine, from the repository root
#                                            (STEPS default 300; STEPS_CPU = min(STEPS, 60))
# Environment: SSLX_GPU_CHECK_DEVICE (default cuda; "cpu" runs the whole check on the CPU, to try
# the script on a machine without a GPU), PYTHON (default python3).
set -euo pipefail

packages=(libhdf5-dev libtomlplusplus-dev libboost-dev libcli11-dev libsentencepiece-dev
  nlohmann-json3-dev libgloo-dev fortunes fortunes-min cmake cmake-data ninja-build)

if [[ ${1:-} == --fetch-debs ]]; then
  dir=${2:?usage: bench/gpu_check.sh --fetch-debs DIR}
  mkdir -p "$dir"
  # The packages and the libraries they depend on, two levels down, minus what every system has.
  depends() {
    for p in "$@"; do
      echo "$p"
      apt-cache depends --no-recommends --no-suggests "$p" 2>/dev/null |
        awk '/Depends:/ && $2 !~ /^</ { print $2 }'  # <virtual> packages: a real one is listed too
    done | grep -Ev '^(libc6|libgcc-s1|libstdc\+\+6|zlib1g|debconf|dpkg|perl.*|python3.*)$' | sort -u
  }
  mapfile -t wanted < <(depends $(depends "${packages[@]}"))
  (cd "$dir" && apt-get download "${wanted[@]}")
  echo "gpu_check: $(ls "$dir"/*.deb | wc -l) packages in $dir ($(du -sh "$dir" | cut -f1))"
  exit 0
fi

steps=${1:-300}
debs=${2:-}
steps_cpu=$((steps < 60 ? steps : 60))
device=${SSLX_GPU_CHECK_DEVICE:-cuda}
python=${PYTHON:-python3}
root=$(pwd)
fail() { echo "gpu_check: $*" >&2; exit 1; }
[[ -f bench/objective_step.toml ]] || fail "run it from the repository root"

# What the machine has.
"$python" - "$device" <<'PY' || fail "$python needs a PyTorch that sees the device (above)"
import sys
import torch
device = sys.argv[1]
print(f"gpu_check: PyTorch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"{torch.cuda.device_count()} GPU(s)"
      + (f": {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""))
if device.startswith("cuda") and not torch.cuda.is_available():
    sys.exit(1)
PY
torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')

# Debian's -dev packages from .deb files, when the machine lacks them.
prefix_args=()
if [[ -n $debs ]]; then
  prefix=$root/.gpu-prefix
  mkdir -p "$prefix"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
  export PATH=$prefix/usr/bin:$PATH
  export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
  export CPATH=$prefix/usr/include:${CPATH:-}
  export LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu:${LIBRARY_PATH:-}
  prefix_args=(-DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr")
  corpus=$prefix/usr/share/games/fortunes
else
  prefix_args=(-DCMAKE_PREFIX_PATH="$torch_prefix")
  corpus=/usr/share/games/fortunes
fi
[[ -d $corpus ]] || fail "no fortune corpus at $corpus (Debian's fortunes package)"
for tool in cmake ninja g++; do
  command -v "$tool" >/dev/null || fail "$tool is missing (install it, or pass DEBS_DIR)"
done

# 1. The build.
build=build-cuda
if [[ $device == cpu ]]; then build=build; fi
if [[ ! -x $build/sslx ]]; then
  echo "gpu_check: building sslx against $torch_prefix in $build/" >&2
  start=$(date +%s)
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSSLX_BUILD_TESTS=OFF \
    -DSSLX_BUILD_BENCHMARKS=OFF "${prefix_args[@]}" >"$build.configure.log" 2>&1 ||
    { tail -40 "$build.configure.log" >&2; fail "cmake failed ($build.configure.log)"; }
  cmake --build "$build" --target sslx -j "$(nproc)" >"$build.build.log" 2>&1 ||
    { grep -m 20 -A 5 'error' "$build.build.log" >&2; fail "the build failed ($build.build.log)"; }
  echo "gpu_check: built in $(($(date +%s) - start)) s" >&2
fi

# 2. The runs.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {  # NAME STEPS OVERRIDES...
  local name=$1 n=$2
  shift 2
  echo "gpu_check: $name, $n steps..." >&2
  "$build/sslx" run bench/objective_step.toml --out "$out/$name" --no-report \
    "data.directory=$corpus" trainer.max_steps="$n" trainer.log_every=10 trainer.eval_every=0 \
    trainer.eval_batches=1 trainer.checkpoint_every=100000 "eval.tasks=[]" "$@" \
    >"$out/$name.log" 2>&1 || { tail -30 "$out/$name.log" >&2; fail "$name failed"; }
}
run cpu "$steps_cpu" trainer.device=cpu
run gpu_fp32 "$steps" trainer.device="$device"
bf16=1
if [[ $device == cpu ]]; then bf16=0; else run gpu_bf16 "$steps" trainer.device="$device" trainer.precision=bf16; fi

# Mean loss and tokens/s of every progress line ("step N/M  loss L  lr R  T tok/s ...").
curve() { awk '/^step [0-9]+\// { split($2, s, "/"); print s[1], $4, $7 }' "$out/$1.log"; }
for name in cpu gpu_fp32 gpu_bf16; do
  [[ -f $out/$name.log ]] && curve "$name" >"$out/$name.curve"
done
flops=$("$build/sslx" log show "$out/gpu_fp32/base/log.h5" 2>/dev/null |
  awk '$1 == "train/model_flops_per_second" { mfs = $NF } $1 == "train/tokens_per_second" { tps = $NF }
       END { if (tps > 0) printf "%.6g", mfs / tps }')

# 3. PyTorch eager and torch.compile, fp32 and bf16, on the same device.
baseline() {  # NAME ARGS...
  local name=$1
  shift
  "$python" bench/pytorch_baseline.py --vocab 8000 --clip-grad-norm 1.0 \
    --device "$device" --threads "$(nproc)" --min-time 5 "$@" >"$out/$name.json" 2>"$out/$name.err" ||
    echo "{\"error\": \"$(tail -1 "$out/$name.err" | tr -d '"')\"}" >"$out/$name.json"
}
baseline eager_fp32
baseline compile_fp32 --compile
if ((bf16)); then
  baseline eager_bf16 --bf16
  baseline compile_bf16 --compile --bf16
fi

"$python" - "$out" "$steps_cpu" "${flops:-0}" <<'PY'
import json
import os
import sys

out, steps_cpu, flops_per_token = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

def curve(name):
    path = os.path.join(out, name + ".curve")
    if not os.path.exists(path):
        return {}
    rows = [line.split() for line in open(path) if line.strip()]
    return {int(step): (float(loss), float(tps)) for step, loss, tps in rows}

cpu = curve("cpu")
print("Loss curves (mean of every 10 steps): GPU against CPU over the CPU run's steps")
for name in ("gpu_fp32", "gpu_bf16"):
    gpu = curve(name)
    if not gpu:
        continue
    common = sorted(set(cpu) & set(gpu))
    worst = max((abs(gpu[s][0] - cpu[s][0]) for s in common), default=float("nan"))
    last = max(gpu)
    print(f"  {name}: max |loss - cpu loss| = {worst:.4f} over steps {common[0]}-{common[-1]}; "
          f"loss at step {last}: {gpu[last][0]:.4f}")

def mean_tps(c):
    values = [tps for step, (_, tps) in sorted(c.items())[1:]]  # the first window warms up
    return sum(values) / len(values) if values else float("nan")

print()
print("| run | tokens/s | model TFLOP/s |")
print("|---|---:|---:|")
for name in ("cpu", "gpu_fp32", "gpu_bf16"):
    c = curve(name)
    if c:
        tps = mean_tps(c)
        print(f"| sslx {name} | {tps:,.0f} | {tps * flops_per_token / 1e12:.2f} |")
for name in ("eager_fp32", "compile_fp32", "eager_bf16", "compile_bf16"):
    path = os.path.join(out, name + ".json")
    if not os.path.exists(path):
        continue
    result = json.load(open(path))
    if "error" in result:
        print(f"| PyTorch {name} | {result['error']} | |")
        continue
    tps = result["train_step"]["tokens_per_second"]
    print(f"| PyTorch {name} | {tps:,.0f} | {tps * flops_per_token / 1e12:.2f} |")
PY
