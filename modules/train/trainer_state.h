// Everything besides tensors that a checkpoint must restore for a resumed run to continue exactly
// as an uninterrupted one: counters, every RNG stream's state and the data sampler's position.
// Stored as TOML (trainer_state.toml) so a person can read it.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>

#include "data/sampler.h"

namespace sslx::train {

inline constexpr std::int64_t kCheckpointFormat = 1;

struct TrainerState {
  std::int64_t step = 0;           // optimizer steps taken
  std::int64_t tokens_seen = 0;    // target tokens trained on
  std::int64_t skipped_steps = 0;  // steps skipped for a non-finite loss or gradient
  double elapsed_seconds = 0;      // training time before this process
  std::map<std::string, std::uint64_t> rng_states;  // stream name -> RngStream state
  data::SamplerState sampler;
  double best_metric = 0;  // for keep-best and early stopping
  bool has_best = false;
  std::int64_t best_step = -1;       // the step of the best evaluation; -1: none yet
  std::int64_t evaluated_step = -1;  // the step of the last evaluation logged; -1: none yet
  std::int64_t evaluations_without_improvement = 0;
  // An objective's tensors (cached reference log-probabilities, ...): objective.pt in a
  // checkpoint, not part of the TOML.
  std::map<std::string, at::Tensor> tensors;

  // The state of random stream `name`; throws an sslx::Error naming the stream and the streams
  // the state has when it is missing (a checkpoint of another objective, or an edited file).
  std::uint64_t rng_state(const std::string& name) const;

  std::string to_toml() const;
  static TrainerState from_toml(const std::string& text, const std::string& source);
};

}  // namespace sslx::train
