#!/usr/bin/env bash
# Set-up (install, configure, build), the whole test suite, then a short run of every fuzz harness.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
(cd "${SSLX_BUILD_DIR:-build}" && ctest --output-on-failure -j 2 --timeout 900)
# Every parser of user input under libFuzzer with sanitizers, 2,000 inputs each (docs/fuzzing.md).
scripts/fuzz.sh 2000
