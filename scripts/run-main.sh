#!/usr/bin/env bash
# Set-up (install, configure, build), then the main job.
#
# Until the trainer lands, the main job prepares the embedded default corpus (trains the
# SentencePiece tokenizer, tokenizes, splits and caches the fortune collection), then runs the
# experiment machinery on a sweep experiment: composes and checks every job and shows one job's
# resolved config with where each value came from. When experiments/bert_vs_gpt.toml exists,
# this runs it instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
sslx=${SSLX_BUILD_DIR:-build}/sslx
if [[ -f experiments/bert_vs_gpt.toml ]]; then
  exec "$sslx" run experiments/bert_vs_gpt.toml "$@"
fi
"$sslx" data prepare experiments/fortunes_data.toml
echo
"$sslx" run experiments/lr_schedule_sweep.toml --dry-run "$@"
echo
"$sslx" config show experiments/lr_schedule_sweep.toml --defaults-tree "$@"
