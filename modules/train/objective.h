// The Objective interface: what the trainer knows about a training objective.
//
// An objective owns the model it trains (a backbone with heads, and any extra models such as a
// frozen reference), turns data into micro-batches deterministically, and returns its loss as
// (loss_sum, n_targets): the trainer divides once by the targets of the whole optimizer step,
// so gradient accumulation never changes the update (the summed loss of a step is divided by
// the number of valid targets of the whole step, not by the number of micro-batches).
// Objectives whose step is not "one loss on one batch" (PPO, DPO, GRPO) override train_step().
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/split.h"
#include "train/trainer_state.h"

namespace sslx::train {

// One micro-batch: named tensors, how many loss targets it has and how many tokens it feeds in.
struct Batch {
  std::map<std::string, at::Tensor> tensors;
  std::int64_t n_targets = 0;
  std::int64_t n_tokens = 0;
  const at::Tensor& at(const std::string& name) const;
  // The same batch with every tensor on `device` (objectives build batches on the CPU).
  Batch to(const c10::Device& device) const;
};

// A metric accumulated as a sum and a count; its value is sum / count.
struct Metric {
  double sum = 0;
  double count = 0;
  void add(const Metric& other) {
    sum += other.sum;
    count += other.count;
  }
};
using Metrics = std::map<std::string, Metric>;

struct LossTerms {
  at::Tensor loss_sum;  // scalar: the loss summed over targets, not averaged
  std::int64_t n_targets = 0;
  Metrics metrics;  // keys from metric_names()
};

// What an overriding train_step() reports back to the trainer.
struct StepReport {
  double loss = 0;  // mean over the step's targets
  std::int64_t n_targets = 0;
  std::int64_t n_tokens = 0;
  Metrics metrics;
  double grad_norm = 0;  // of the update (before clipping), as the trainer logs it
  bool skipped = false;  // a non-finite loss or gradient: no update was made
};

// What held-out bits per byte need to know of a loss: whether it is next-token prediction over
// the packed corpus stream (every token but the first of each block), which makes loss x stream
// tokens / bytes the stream's bits per byte.
struct StreamPrediction {
  bool next_token = false;
  std::string gap;  // why some tokens of the stream are not predicted; "" when none
};

class Objective {
 public:
  virtual ~Objective() = default;

  virtual std::string name() const = 0;
  // Metrics besides "loss" that loss() reports, declared before training so that logs and
  // reports know them up front.
  virtual std::vector<std::string> metric_names() const = 0;
  // Every trained parameter (and buffer) lives under this module; its state is the checkpoint.
  virtual torch::nn::Module& model() = 0;
  // trainer.device: whether this objective trains on a GPU when one is chosen (false: "auto"
  // means the CPU, and "cuda" is refused), and moving it there before the optimizer is made:
  // model() and every other model it owns (a frozen reference, say).
  virtual bool trains_on_accelerators() const { return true; }
  virtual void to_device(const c10::Device& device) { model().to(device); }
  // Model FLOPs per input token of a training step (forward + backward), for model FLOP/s.
  virtual double training_flops_per_token() const = 0;

  // The next training micro-batch; advances the objective's sampler and random streams.
  virtual Batch train_batch() = 0;
  // Evaluation micro-batch `index` of a split: a pure function of the index, so every
  // evaluation sees the same data. Returns false past the end of the split.
  virtual bool eval_batch(data::Split split, std::int64_t index, Batch& batch) = 0;
  virtual LossTerms loss(const Batch& batch) = 0;

  // Sampler positions, random-stream states and tensors (state.tensors, e.g. cached reference
  // log-probabilities), saved in checkpoints.
  virtual void save_state(TrainerState& state) const = 0;
  virtual void load_state(const TrainerState& state) = 0;

  // Objectives that own several models or take several passes per step override this; the
  // trainer then calls it instead of its standard step, with the optimizer over model() whose
  // learning rate it has already set for this step (the trainer still owns the schedule,
  // logging, evaluation and checkpoints). Data-parallel, such a step follows the contract of
  // train::DataParallelStep (train/data_parallel.h); its metrics are those of metric_names().
  virtual bool overrides_step() const { return false; }
  virtual StepReport train_step(torch::optim::Optimizer& optimizer);

  // Texts of the evaluation that just ran (a policy's sampled responses, say), name -> text:
  // the trainer logs them under the evaluation's step (/eval/texts/step_<N>). Cleared by the call.
  virtual std::map<std::string, std::string> take_evaluation_texts() { return {}; }

  // See StreamPrediction; the default: not a next-token prediction of the stream.
  virtual StreamPrediction stream_prediction() const { return {}; }
};

}  // namespace sslx::train
