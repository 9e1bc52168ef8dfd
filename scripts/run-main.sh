#!/usr/bin/env bash
# Set-up (install, configure, build), then the main job.
#
# Until experiments/bert_vs_gpt.toml exists, the main job trains a small GPT on the embedded
# fortune corpus (experiments/gpt_fortunes.toml: trains the SentencePiece tokenizer, tokenizes
# and caches the corpus, trains, evaluates, checkpoints; a few minutes on two cores) and shows its
# log. Running it again skips the finished job. Extra arguments are overrides for the run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
sslx=${SSLX_BUILD_DIR:-build}/sslx
if [[ -f experiments/bert_vs_gpt.toml ]]; then
  exec "$sslx" run experiments/bert_vs_gpt.toml "$@"
fi
"$sslx" run experiments/gpt_fortunes.toml "$@"
"$sslx" log show runs/gpt_fortunes/base/log.h5
