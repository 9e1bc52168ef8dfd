// Where this process stands in a data-parallel job, read from the environment the way the
// common launchers describe it: torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT; `sslx run --nproc N` sets the same ones), else Slurm's (srun:
// SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, with MASTER_ADDR/MASTER_PORT from the batch
// script). No LibTorch here: the launcher and the config checks read it too.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace sslx::dist {

struct Rendezvous {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;
  std::string source;  // "torchrun" or "slurm": which variables it came from
};

// The rendezvous that `environment` describes (name -> value; pass environment_variables()),
// or nullopt when it describes none (a plain single process). Throws sslx::Error naming the
// variable when one is present but malformed or inconsistent (RANK >= WORLD_SIZE, a
// WORLD_SIZE > 1 without MASTER_PORT, ...).
std::optional<Rendezvous> rendezvous_from(const std::map<std::string, std::string>& environment);

// This process's environment as a map (the variables above only).
std::map<std::string, std::string> environment_variables();

// The variables a child process of rank `rank` needs to join `rendezvous`'s group (the launcher
// of `--nproc` sets them).
std::map<std::string, std::string> rank_environment(const Rendezvous& rendezvous, int rank);

// A TCP port on the loopback interface that was free a moment ago (for a local launcher).
int free_local_port();

}  // namespace sslx::dist
