#!/usr/bin/env bash
# Set-up (install, configure, build), then the main job: experiments/bert_vs_gpt.toml. It trains
# a BERT-style encoder (masked LM) and a GPT-style decoder (causal LM) on the embedded fortune
# corpus, 3 seeds each, evaluates them side by side, prints the comparison table and writes
# runs/bert_vs_gpt/report.md (docs/experiments.md). Running it again skips finished jobs. Extra
# arguments are overrides for the run, e.g. `budget=paper`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec "${SSLX_BUILD_DIR:-build}/sslx" run experiments/bert_vs_gpt.toml "$@"
