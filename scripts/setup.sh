#!/usr/bin/env bash
# Installs what sslx needs on Debian 12 (only what is missing), then configures and builds
# incrementally. Quick when nothing changed. Used by run-main.sh and run-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each package is here for a reason (docs/dependencies.md).
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libopenblas0          # LibTorch; OpenBLAS, or matrix products use reference BLAS
  libgloo-dev                        # headers of c10d's Gloo process group (data parallelism)
  libhdf5-dev hdf5-tools             # run logs; h5dump/h5ls for users
  libtomlplusplus-dev                # TOML configs
  libboost-dev                       # Boost.DLL plugin loading (header-only)
  libcli11-dev                       # command line
  libsentencepiece-dev               # SentencePiece tokenizers (in an isolated bridge library)
  nlohmann-json3-dev                 # JSONL corpora
  catch2 libbenchmark-dev            # tests, benchmarks
  python3 python3-h5py python3-numpy # proof that logs load without sslx; the independent HF reader
  fortunes                           # the embedded default corpus
  gnuplot-nox                        # report plots (PNG via cairo, SVG)
  clang-14 libfuzzer-14-dev          # the fuzz harnesses (scripts/fuzz.sh, part of the tests)
  tmux                               # a real terminal for the `sslx generate --interactive` test
  chromium                           # a real browser for the report.html test
  slurm-wlm munge                    # a real single-node Slurm for the launcher = "slurm" test
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

build_dir=${SSLX_BUILD_DIR:-build}
if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
# Two cores here; LibTorch translation units take ~1 GB each.
cmake --build "$build_dir" -j "${SSLX_JOBS:-2}"
