// Rewards for policy optimisation: what scores a sampled response. A registry ([objective.reward],
// chosen by `name`), so a researcher can plug in a verifiable, programmatic reward as a plugin
// .so, the way objectives are added. Built in: `reward_model`, the scalar of a trained reward
// model (a reward_model run's checkpoint).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/node.h"
#include "data/tokenizer.h"
#include "registry/registry.h"
#include "rollout/rollout.h"

namespace sslx::objectives {

// What a reward sees of a batch of responses.
struct RewardQuery {
  const rollout::Rollout& rollout;            // token ids, masks, EOS flags (rollout.h)
  const std::vector<std::string>& prompts;    // prompt texts, one per row
  const std::vector<std::string>& responses;  // response texts without the final EOS
};

class Reward {
 public:
  virtual ~Reward() = default;
  // One score per row (B) float32, without gradients.
  virtual at::Tensor score(const RewardQuery& query) = 0;
};

// What a reward factory gets: the policy's [model] section and tokenizer (a reward model must
// share the vocabulary), and the longest sequence it will be asked to score.
struct RewardContext {
  const config::Node& policy_model;
  const data::Tokenizer& tokenizer;
  std::int64_t max_length = 0;
};

using RewardRegistry = registry::Registry<Reward, const RewardContext&>;
RewardRegistry& reward_registry();

// Registers the built-in rewards (idempotent).
void register_builtin_rewards();

}  // namespace sslx::objectives
