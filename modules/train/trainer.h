// The trainer: one loop for every objective. Per optimizer step it sets the scheduled learning
// rate, gathers the step's micro-batches, divides the summed loss once by the step's target
// count, clips, steps AdamW; it logs to the run's HDF5 file, evaluates, checkpoints and resumes.
//
// Data-parallel (dist::world_group() set): every rank runs this loop in lockstep on its shard of
// the data; the target count of a step is summed over the ranks before the division and the
// gradients are summed after backward, so W ranks with batch b make the same update as one
// process with batch W*b. Evaluation batches are split between the ranks and their sums
// combined; stopping (budget, signals) is agreed on; rank 0 alone writes the log and the
// checkpoints, which carry every rank's sampler position and random streams.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "dist/process_group.h"
#include "log/run_log.h"
#include "train/objective.h"
#include "train/optimizer.h"
#include "train/schedule.h"
#include "train/trainer_options.h"

namespace sslx::train {

struct RunPaths {
  std::filesystem::path log;          // log.h5
  std::filesystem::path checkpoints;  // checkpoints/
};

class GradientReducer;

enum class RunOutcome { kCompleted, kInterrupted, kEarlyStopped };

class Trainer {
 public:
  Trainer(Objective& objective, const TrainerOptions& options,
          const OptimizerOptions& optimizer_options, std::unique_ptr<LrSchedule> schedule,
          RunPaths paths, std::string config_text);
  ~Trainer();

  // Trains until the budget is spent, resuming from the latest checkpoint when there is one.
  RunOutcome run();

  const TrainerState& state() const { return state_; }
  torch::optim::Optimizer& optimizer() { return *optimizer_; }

 private:
  StepReport standard_step();
  // The objective's own step (Objective::train_step), its counts and metrics summed over ranks.
  StepReport objective_step();
  // Mean loss and metrics over the split's evaluation batches.
  Metrics evaluate(data::Split split);
  // Evaluates the validation split at the current step and logs it (rank 0: `log`); returns
  // whether its loss is the best so far, which it then records as the best step.
  bool validate(log::RunLogWriter* log);
  bool budget_spent(double elapsed) const;
  // `flags` with each entry true when it is true on any rank (itself in a single process).
  std::vector<bool> agreed(std::vector<bool> flags);
  // `log` is null on ranks other than 0, which write no files.
  void checkpoint(log::RunLogWriter* log);
  // Rank 0: `best` names the checkpoint just saved.
  void mark_best();
  // The run's log: new, reopened, or restored from the latest checkpoint when unreadable.
  log::RunLogWriter open_log();
  void resume(log::RunLogWriter* log);
  bool is_main() const { return group_ == nullptr || group_->rank() == 0; }

  Objective& objective_;
  TrainerOptions options_;
  OptimizerOptions optimizer_options_;
  std::unique_ptr<LrSchedule> schedule_;
  RunPaths paths_;
  std::string config_text_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  TrainerState state_;
  std::filesystem::path best_checkpoint_;
  // The step last saved by this process: an evaluation that improves on a checkpoint step saves
  // it once, not a second time over the directory that `latest` and `best` name.
  std::int64_t checkpointed_step_ = -1;
  dist::ProcessGroup* group_ = nullptr;  // null in a single process
  std::vector<at::Tensor> parameters_;   // distinct, in the same order on every rank
  // Data-parallel standard steps: gradients summed while backward runs (null otherwise).
  std::unique_ptr<GradientReducer> reducer_;
  bool reported_buckets_ = false;
  c10::Device device_{c10::kCPU};  // trainer.device, resolved
};

}  // namespace sslx::train
