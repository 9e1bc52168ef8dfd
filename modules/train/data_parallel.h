// What the trainer does differently when its job runs on several ranks (dist/process_group.h):
// gradients summed over the ranks in buckets, step counters and metrics summed, the per-rank
// parts of a checkpoint (sampler position, random streams) carried to rank 0, which writes it.
// In a single process every function here returns at once.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "dist/process_group.h"
#include "train/objective.h"
#include "train/trainer_state.h"

namespace sslx::train {

// The distinct trained parameters of `model` (a tied weight once), in registration order: the
// same order on every rank.
std::vector<at::Tensor> distinct_parameters(const torch::nn::Module& model);

// Sums every parameter's gradient over the ranks (a missing gradient counts as zeros), packed
// into flat buckets of about `bucket_bytes`, all sent before the first is waited for.
void all_reduce_gradients(dist::ProcessGroup& group, const std::vector<at::Tensor>& parameters,
                          std::size_t bucket_bytes = std::size_t{25} << 20);

// Every parameter and buffer of `model` set to rank 0's values.
void broadcast_model(dist::ProcessGroup& group, torch::nn::Module& model);

// Sums the values (e.g. counts of targets) over the ranks, in one message.
std::vector<double> all_reduce_sum(dist::ProcessGroup& group, std::vector<double> values);

// Sums sum and count of each named metric over the ranks; `names` is the same list on every
// rank (a metric a rank did not report counts as 0 / 0); names whose count stays 0 are dropped.
Metrics all_reduce_metrics(dist::ProcessGroup& group, const Metrics& metrics,
                           const std::vector<std::string>& names);

// What an objective with a step of its own (Objective::train_step) calls to train data-parallel
// as the trainer's standard step does, through this process's group (dist::world_group()); in a
// single process every call returns at once with its input. The contract of such a step:
//   - its loss is normalised by counts over the whole data-parallel batch (global_counts), so N
//     ranks x batch b make the update of one process x batch N * b;
//   - gradients are summed over the ranks (sum_gradients) before they are clipped;
//   - every decision (skip a step, adapt a coefficient) is taken on values summed over the
//     ranks, so the ranks never take different branches around a collective;
//   - its StepReport's loss and grad_norm are the whole batch's (the same on every rank), while
//     n_targets, n_tokens and metrics are the rank's own: the trainer sums those.
class DataParallelStep {
 public:
  // `rank_mean`: trainer.data_parallel_loss = "rank_mean".
  explicit DataParallelStep(bool rank_mean = false) : rank_mean_(rank_mean) {}

  bool distributed() const { return dist::world_group() != nullptr; }
  // The rank's counts summed over the ranks, each at least 1; with rank_mean the rank's own
  // counts times the world size instead (PyTorch DDP's mean of per-rank means).
  std::vector<double> global_counts(std::vector<double> own) const;
  // The values summed over the ranks (one message).
  std::vector<double> sum(std::vector<double> values) const;
  // The gradients of `parameters` (distinct tensors, the same list on every rank) summed.
  void sum_gradients(const std::vector<at::Tensor>& parameters) const;
  // Every parameter and buffer of `module` set to rank 0's values.
  void broadcast(torch::nn::Module& module) const;

 private:
  bool rank_mean_;
};

// The files of rank `rank`'s own part of a checkpoint: rank_<r>.toml (its sampler position and
// random streams; the objective's tensors are rank 0's) and rank_<r>.torch_rng (LibTorch's
// generator, which draws dropout masks).
std::map<std::string, std::string> rank_state_files(int rank, const TrainerState& state);
// Rank `rank`'s part restored from `checkpoint` into `state` and LibTorch's generator. Throws
// sslx::Error when the checkpoint was written by fewer ranks.
void load_rank_state(const std::filesystem::path& checkpoint, int rank, TrainerState& state);

// Rank 0: the rank_state_files of ranks 1.. for the checkpoint of `step`, sent through the store
// (rank 0's own part is the checkpoint's trainer_state.toml and torch_rng.pt); other ranks: send
// theirs. Returns what rank 0 writes into the checkpoint (empty on other ranks). Called by every
// rank at the same saves.
std::map<std::string, std::string> gather_rank_states(dist::ProcessGroup& group, std::int64_t step,
                                                      const TrainerState& own_state);

}  // namespace sslx::train
