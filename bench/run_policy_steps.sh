#!/usr/bin/env bash
# One PPO iteration, one GRPO step and one RLOO step at the small preset (E 256, 4 layers, 4
# heads, FF 1024, SentencePiece vocabulary 8192, fp32), each broken down into the phases the
# objectives log: generation (the rollout through the KV cache), scoring (reward model, reference
# and, for PPO, value passes) and update (the gradient steps), with response tokens/s for each;
# and PyTorch eager's generation loop at the same shapes (rows, prompt tokens, new tokens) beside
# it (bench/pytorch_generation_baseline.py).
#
# The policies come from experiments/alignment.toml's stages, run briefly at this size:
# pretraining, SFT and a reward model (a few steps each: their quality does not change the cost of
# a step), then STEPS policy steps of each method. Seconds are the mean over the steps after the first.
#
# Usage: bench/run_policy_steps.sh [BUILD_DIR] [STEPS] [THREADS]   (defaults: build, 12, 2)
# Run from the repository root.
set -euo pipefail

build_dir=${1:-build}
steps=${2:-12}
threads=${3:-2}
python=/usr/bin/python3  # Debian's python3-torch and python3-h5py, not a pyenv interpreter
here=$(cd "$(dirname "$0")" && pwd)
for module in torch h5py; do
  if ! "$python" -c "import $module" 2>/dev/null; then
    echo "run_policy_steps.sh: needs Debian's python3-$module: apt-get install python3-$module" >&2
    exit 1
  fi
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "pretrain, SFT and reward model briefly at the small preset," \
  "then $steps steps of ppo, grpo, rloo..." >&2
SSLX_THREADS=$threads "$build_dir/sslx" run experiments/alignment.toml --out "$out/run" -j 1 \
  --no-report seed=1 vars.alignment.d_model=256 vars.alignment.n_layers=4 \
  vars.alignment.d_ff=1024 tokenizer.vocab_size=8192 vars.alignment.pretrain_steps=20 \
  vars.alignment.sft_steps=20 vars.alignment.warmup_steps=1 \
  vars.alignment.reward_steps=10 vars.alignment.policy_steps="$steps" vars.alignment.dpo_steps=2 \
  vars.alignment.eval_every=1000 "eval.tasks=[]" "data.cache_dir=$out/cache" \
  >"$out/run.log" 2>&1 || { tail -30 "$out/run.log" >&2; exit 1; }

"$python" - "$out/run" "$threads" "$here" <<'PY'
import json
import os
import subprocess
import sys

import h5py
import numpy as np

run, threads, here = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows_of = {"ppo": 16, "grpo": 4 * 4, "rloo": 4 * 4}  # alignment.toml: prompts x group size
new_tokens = 32  # objective.max_new_tokens in alignment.toml
prompt_tokens = None
table = []
for method in ("ppo", "grpo", "rloo"):
    with h5py.File(os.path.join(run, method, "log.h5"), "r") as log:
        series = lambda name: np.asarray(log[f"metrics/train/{name}/value"])[1:]
        phases = {p: series(f"time_{p}").mean() for p in ("generation", "scoring", "update")}
        response = series("response_length").mean() * rows_of[method]
    table.append((method, phases, response))

# PyTorch eager generates exactly `new_tokens` per row; its prompts have the fortune prompts'
# length ("A fortune about computers:\n" is 6-8 SentencePiece tokens).
torch_json = subprocess.run(
    [sys.executable, "pytorch_generation_baseline.py", f"--threads={threads}", "--min-time=3",
     "--prompt=8", f"--new={new_tokens}", "--vocab=8192", "--batches=16", "--loops=kv_cache"],
    cwd=here, check=True, capture_output=True, text=True).stdout
torch_tokens_per_s = json.loads(torch_json)["kv_cache/16"]

print(f"policy steps at the small preset, {threads} threads, 16 responses of at most {new_tokens} "
      "tokens per step (mean over the steps after the first)")
print()
print("| method | generation s | scoring s | update s | step s | response tokens | "
      "generation tok/s | scoring tok/s | update tok/s |")
print("|---|---|---|---|---|---|---|---|---|")
for method, phases, response in table:
    step = sum(phases.values())
    print(f"| {method} | {phases['generation']:.3f} | {phases['scoring']:.3f} | "
          f"{phases['update']:.3f} | {step:.3f} | {response:.0f} | "
          f"{response / phases['generation']:.0f} | {response / phases['scoring']:.0f} | "
          f"{response / phases['update']:.0f} |")
print()
print(f"PyTorch eager, the same model, 16 rows x {new_tokens} new tokens with a KV cache: "
      f"{torch_tokens_per_s:.0f} new tokens/s ({16 * new_tokens / torch_tokens_per_s:.3f} s per "
      "rollout; sslx's rollout stops early when every row has ended with EOS)")
PY
