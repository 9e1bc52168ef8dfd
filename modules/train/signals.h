// SIGINT/SIGTERM/SIGUSR1 during training: the first asks the trainer to checkpoint and stop
// cleanly at the end of the current step; a second SIGINT exits at once (exit code 130). SIGUSR1
// is what Slurm sends before a job's time limit (sbatch --signal) and `scancel --signal=USR1`.
#pragma once

namespace sslx::train {

class StopRequest {
 public:
  StopRequest();   // installs the handlers
  ~StopRequest();  // restores the previous ones
  StopRequest(const StopRequest&) = delete;
  StopRequest& operator=(const StopRequest&) = delete;
  bool requested() const;
};

}  // namespace sslx::train
