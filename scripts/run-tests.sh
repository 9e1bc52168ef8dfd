#!/usr/bin/env bash
# Set-up (install, configure, build) and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd "${SSLX_BUILD_DIR:-build}"
ctest --output-on-failure -j 2 --timeout 900
