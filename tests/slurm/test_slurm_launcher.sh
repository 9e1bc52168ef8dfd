#!/usr/bin/env bash
# `launcher = "slurm"` against a real Slurm (Debian's slurm-wlm and munge, started here as a
# single-node cluster by cluster.sh and stopped at the end): a two-stage experiment is submitted
# with sbatch, the second stage runs after the first (--dependency=afterok), the report job
# writes report.md, `sslx status` shows the Slurm states, and a second `sslx run` submits
# nothing. Then a running job gets SIGUSR1 (`scancel --signal=USR1`, what Slurm sends before the
# time limit), and another SIGTERM (what preemption sends): each checkpoints, requeues itself,
# starts again, resumes and completes. Last, a batch script that starts two ranks with srun (the
# multi-node recipe, on one node) trains exactly as `sslx run --nproc 2`.
#
# Usage: test_slurm_launcher.sh SSLX_BINARY SOURCE_DIR   (as root: slurmd runs jobs as root)
set -euo pipefail
sslx=$1
source_dir=$2
python=/usr/bin/python3

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[[ $(id -u) -eq 0 ]] || fail "this test starts slurmctld and slurmd as root (SlurmUser=root)"
for tool in munged mungekey slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
  command -v "$tool" >/dev/null || fail "$tool is missing: scripts/setup.sh installs slurm-wlm and munge"
done

tmp=$(mktemp -d /tmp/sslx-slurm-XXXXXX)
# shellcheck source=cluster.sh
source "$source_dir/tests/slurm/cluster.sh"
cleanup() {
  slurm_stop "$tmp/slurm"
  rm -rf "$tmp"
}
trap cleanup EXIT
slurm_start "$tmp/slurm"
cd "$tmp"

# Hang guards (not timing checks): a wait that outlasts this many polls fails with what it
# waited for, and the EXIT trap still stops the cluster (ctest's timeout would kill the script
# and leave the daemons running).
max_polls=3000  # x 0.2-0.3 s

# Runs "$@" (a test) every 0.2 s until it succeeds; fails naming $1 after max_polls tries.
poll() {
  local what=$1
  shift
  for _ in $(seq 1 "$max_polls"); do
    "$@" && return 0
    sleep 0.2
  done
  fail "gave up waiting for $what"
}

# Waits until Slurm says job $1 reached $2 (a JobState), failing on a final state other than it.
wait_for_state() {
  local id=$1 wanted=$2 state
  for _ in $(seq 1 "$max_polls"); do
    state=$(scontrol -o show job "$id" | tr ' ' '\n' | sed -n 's/^JobState=//p')
    [[ $state == "$wanted" ]] && return 0
    case $state in
      FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | PREEMPTED | BOOT_FAIL | DEADLINE)
        fail "slurm job $id is $state; its log: $(tail -20 "${3:-/dev/null}" 2>/dev/null)" ;;
    esac
    sleep 0.3
  done
  fail "slurm job $id never reached $wanted (last state: $state); its log: $(tail -20 "${3:-/dev/null}" 2>/dev/null)"
}

cat >stages.toml <<'TOML'
defaults = [{ model = "tiny" }]
seed = 3
[experiment]
name = "stages"
[data]
source = "markov"
documents = 60
document_length = 60
states = 8
[trainer]
max_steps = 6
batch_size = 4
sequence_length = 24
eval_every = 3
eval_batches = 1
checkpoint_every = 3
[schedule]
name = "constant"
lr = 0.003
[eval]
tasks = []
[variants.pretrain]
[variants.finetune]
init_from = "pretrain"
objective.name = "sft"
objective.train_files = ["SFT_FILE"]
objective.validation_files = ["SFT_FILE"]
schedule.lr = 0.001
TOML
sed -i "s#SFT_FILE#$source_dir/tests/data/sft_prompt_completion.jsonl#" stages.toml

echo "== a two-stage experiment through sbatch"
"$sslx" run stages.toml --config-dir "$source_dir/configs" --launcher slurm --out runs \
  >submit.txt 2>&1 || { cat submit.txt; fail "sslx run --launcher slurm failed"; }
cat submit.txt
pretrain_id=$(cat runs/pretrain/slurm_job_id)
finetune_id=$(cat runs/finetune/slurm_job_id)
report_id=$(cat runs/report_slurm_job_id)
grep -q "submitted finetune: slurm job $finetune_id (after $pretrain_id)" submit.txt ||
  fail "the second stage was not submitted after the first"
grep -q -- "--dependency=afterok:$pretrain_id" runs/finetune/slurm.sbatch ||
  fail "runs/finetune/slurm.sbatch has no afterok dependency on $pretrain_id"
wait_for_state "$pretrain_id" COMPLETED runs/pretrain/output.log
wait_for_state "$finetune_id" COMPLETED runs/finetune/output.log
wait_for_state "$report_id" COMPLETED runs/report.log
[[ -f runs/report.md ]] || fail "the report job wrote no runs/report.md"
"$python" - runs <<'PY' || fail "the stages did not run one after the other"
import sys
import h5py

def times(job):
    with h5py.File(f"{sys.argv[1]}/{job}/log.h5", "r") as log:
        attribute = lambda name: log.attrs[name].decode() if isinstance(log.attrs[name], bytes) else str(log.attrs[name])
        return attribute("status"), attribute("start_time"), attribute("end_time")

pretrain, finetune = times("pretrain"), times("finetune")
print("pretrain", pretrain, "finetune", finetune)
assert pretrain[0] == "completed" and finetune[0] == "completed"
assert finetune[1] >= pretrain[2], "finetune started before pretrain ended"
PY
grep -q "init_from: loaded .*runs/pretrain/checkpoints" runs/finetune/output.log ||
  fail "the second stage did not start from the first one's checkpoint"
"$sslx" status runs >status.txt
cat status.txt
grep -q "slurm job $pretrain_id COMPLETED" status.txt || fail "sslx status shows no Slurm state"
"$sslx" run stages.toml --config-dir "$source_dir/configs" --launcher slurm --out runs --no-report \
  >again.txt 2>&1
grep -q "0 submitted, 0 already queued or running, 2 completed, of 2 jobs" again.txt ||
  { cat again.txt; fail "a second sslx run submitted finished jobs again"; }

echo "== SIGUSR1 before the time limit: checkpoint, requeue, resume"
cat >long.toml <<'TOML'
defaults = [{ model = "tiny" }]
seed = 4
[data]
source = "markov"
documents = 60
document_length = 60
states = 8
[trainer]
max_steps = 600
batch_size = 4
sequence_length = 24
eval_every = 0
eval_batches = 1
checkpoint_every = 25
log_every = 50
[schedule]
name = "constant"
lr = 0.003
[eval]
tasks = []
TOML
"$sslx" run long.toml --config-dir "$source_dir/configs" --launcher slurm --out long --no-report \
  >long_submit.txt 2>&1 || { cat long_submit.txt; fail "submitting long.toml failed"; }
id=$(cat long/base/slurm_job_id)
poll "long/base/checkpoints/latest" test -f long/base/checkpoints/latest
# --full: to the batch shell too, which passes it on (sslx runs the ranks of a one-node job).
scancel --full --signal=USR1 "$id"
requeued() {  # LOG: the job said it requeues itself (and had not finished before the signal)
  grep -q "step 600/600" "$1" 2>/dev/null && fail "the job finished before the signal reached it"
  grep -q "requeueing slurm job $id" "$1" 2>/dev/null
}
poll "the requeue of slurm job $id" requeued long/base/output.log
# Slurm holds a requeued job back for a while (Reason=BeginTime, about two minutes): start it now.
wait_for_state "$id" PENDING long/base/output.log
scontrol update JobId="$id" StartTime=now
wait_for_state "$id" COMPLETED long/base/output.log
restarts=$(scontrol -o show job "$id" | tr ' ' '\n' | sed -n 's/^Restarts=//p')
[[ $restarts -ge 1 ]] || fail "slurm job $id was not requeued (Restarts=$restarts)"
grep -q "resuming from .*long/base/checkpoints/step-" long/base/output.log ||
  fail "the requeued job did not resume from its checkpoint"
"$python" - long/base/log.h5 <<'PY' || fail "the resumed run's log is not one run of 600 steps"
import sys
import h5py
import numpy as np

with h5py.File(sys.argv[1], "r") as log:
    status = log.attrs["status"]
    status = status.decode() if isinstance(status, bytes) else str(status)
    steps = np.asarray(log["metrics/train/loss/step"])
print("status", status, "rows", len(steps), "last step", steps[-1])
assert status == "completed"
assert steps[-1] == 600 and np.all(np.diff(steps) > 0), "a step logged twice or out of order"
PY

echo "== SIGTERM (preemption): checkpoint, requeue, resume"
"$sslx" run long.toml --config-dir "$source_dir/configs" --launcher slurm --out preempted \
  --no-report >preempt_submit.txt 2>&1 || { cat preempt_submit.txt; fail "submitting failed"; }
id=$(cat preempted/base/slurm_job_id)
poll "preempted/base/checkpoints/latest" test -f preempted/base/checkpoints/latest
# --full: the batch shell gets it too (as on preemption); its trap waits for the ranks.
scancel --full --signal=TERM "$id"
poll "the requeue of slurm job $id" requeued preempted/base/output.log
wait_for_state "$id" PENDING preempted/base/output.log
scontrol update JobId="$id" StartTime=now
wait_for_state "$id" COMPLETED preempted/base/output.log
grep -q "resuming from .*preempted/base/checkpoints/step-" preempted/base/output.log ||
  fail "the job requeued after SIGTERM did not resume from its checkpoint"

echo "== srun: each task is a rank (SLURM_PROCID, SLURM_NTASKS), as on several machines"
# The batch script of docs/scaling.md's multi-node example, with two tasks on this one node; the
# job must train exactly as `sslx run --nproc 2` does here (same ranks, threads and streams).
sed -e '/^\[variants/,$d' stages.toml >one.toml
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')
cat >srun_job.sh <<SH
#!/bin/bash
#SBATCH --ntasks=2 --cpus-per-task=1 --output=$tmp/srun.out
export MASTER_ADDR=\$(scontrol show hostnames "\$SLURM_JOB_NODELIST" | head -n 1)
export MASTER_PORT=$port
srun "$sslx" run one.toml --config-dir "$source_dir/configs" --out srun_runs --no-report \
  trainer.world_size=2 trainer.threads=1
SH
id=$(sbatch --parsable srun_job.sh)
wait_for_state "$id" COMPLETED srun.out
grep -q "rank 1 of 2 (pid [0-9]*): joining the group at .* (slurm environment)" srun.out ||
  fail "srun's second task did not join as rank 1 of 2: $(tail -20 srun.out)"
"$sslx" run one.toml --config-dir "$source_dir/configs" --out nproc_runs --no-report --nproc 2 \
  trainer.threads=1 >nproc.txt 2>&1 || { cat nproc.txt; fail "sslx run --nproc 2 failed"; }
"$python" - srun_runs/base/log.h5 nproc_runs/base/log.h5 <<'PY' || fail "srun's ranks trained otherwise than --nproc 2"
import sys
import h5py
import numpy as np

def series(path, name):
    with h5py.File(path, "r") as log:
        return np.asarray(log[f"metrics/{name}/step"]), np.asarray(log[f"metrics/{name}/value"])

for name in ("train/loss", "train/tokens", "val/loss"):
    (a_steps, a), (b_steps, b) = series(sys.argv[1], name), series(sys.argv[2], name)
    print(name, a.tolist(), b.tolist())
    assert np.array_equal(a_steps, b_steps) and np.array_equal(a, b), name
PY
echo "PASS"
