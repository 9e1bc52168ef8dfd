#!/usr/bin/env bash
# A real single-node Slurm for the tests: munged with its own key and socket, slurmctld and
# slurmd from Debian's slurm-wlm, configured in a directory of their own on private ports, run
# as root (SlurmUser=root). Source it, then:
#   slurm_start DIR   starts the daemons (state, logs, pids under DIR), exports SLURM_CONF, and
#                     waits until the node is idle
#   slurm_stop DIR    kills the cluster's jobs, then stops every daemon it started, by the pids
#                     in DIR
set -euo pipefail

slurm_start() {
  local dir=$1
  mkdir -p "$dir"/{spool,state,log,run}
  local host
  host=$(hostname -s)
  mungekey --create --keyfile="$dir/munge.key" --force 2>/dev/null ||
    dd if=/dev/urandom of="$dir/munge.key" bs=1 count=1024 status=none
  chmod 600 "$dir/munge.key"
  munged --key-file="$dir/munge.key" --socket="$dir/run/munge.socket" \
    --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/run/munge.seed" --force
  # Ports from the directory's inode: two tests at once do not share a controller.
  local base=$((20000 + $(stat -c %i "$dir") % 20000))
  cat >"$dir/slurm.conf" <<CONF
ClusterName=sslxtest
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/run/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MinJobAge=600
KillWait=10
SchedulerType=sched/backfill
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  for _ in $(seq 1 300); do
    if sinfo -h -o %T 2>/dev/null | grep -q idle; then return 0; fi
    sleep 0.2
  done
  echo "slurm_start: the node did not become idle; slurmctld log:" >&2
  tail -20 "$dir/log/slurmctld.log" >&2
  return 1
}

slurm_stop() {
  local dir=$1 pid
  # This cluster's jobs first (their slurmstepd would outlive slurmd), then the daemons.
  if [[ -f "$dir/slurm.conf" ]]; then
    SLURM_CONF=$dir/slurm.conf scancel --full --signal=KILL --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 1 50); do
      [[ -z $(SLURM_CONF=$dir/slurm.conf squeue -h 2>/dev/null) ]] && break
      sleep 0.2
    done
  fi
  for name in slurmd slurmctld munged; do
    if [[ -f "$dir/run/$name.pid" ]]; then
      pid=$(cat "$dir/run/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}
