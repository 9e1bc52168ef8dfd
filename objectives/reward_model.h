// Reward model for RLHF: a backbone and a ScalarHead read at the last non-padding token of each
// sequence, trained on preference pairs (Bradley-Terry, as InstructGPT).
//
// Data (the objective's own JSONL files, not [data]): {"prompt","chosen","rejected"} or
// {"chosen","rejected"}, with an optional numeric "margin" per pair. A sequence is the prompt's
// tokens, then the response's, then EOS unless the response already ends with it, so that the
// reward is always read at the same kind of token. A pair with a sequence longer than
// trainer.sequence_length is dropped and counted, never truncated (truncation would cut the part
// that tells the two responses apart). A batch holds the B chosen sequences, then the B rejected
// ones, right-padded and masked by length.
//
// Loss per pair: -log σ(r_c − r_r − margin) + center_coef · (r_c + r_r)², returned as
// (sum over pairs, number of pairs). Metrics: accuracy = mean(r_c > r_r) (strict, ties count as
// wrong) and margin = mean(r_c − r_r).
//
// Backbones: encoder, decoder, and encoder_decoder (whose encoder and decoder both read the
// sequence; the reward is read from the decoder's last valid position).
// init_from: a checkpoint directory of a run that trained a LanguageModel; its model.pt is loaded
// strictly into a LanguageModel of the same [model] section ("backbone.*", "lm_head.*"), whose
// "backbone.*" is then copied key for key into this model's "backbone.*"; the LM head is dropped
// and "reward_head.*" starts fresh.
#pragma once

#include <vector>

#include "architectures/heads.h"
#include "data/jsonl_reader.h"
#include "data/tokenizer.h"
#include "objectives/file_split_objective.h"

namespace sslx::objectives {

class RewardModelImpl : public torch::nn::Module {
 public:
  RewardModelImpl(const config::Node& model, std::int64_t vocab_size);

  // token_ids (B, T), key_valid (B, T) bool -> rewards (B)
  at::Tensor forward(const at::Tensor& token_ids, const at::Tensor& key_valid);

  std::shared_ptr<arch::Architecture> backbone;
  arch::ScalarHead reward_head{nullptr};
};
TORCH_MODULE(RewardModel);

// The loss terms of rewards `chosen` (B) and `rejected` (B) with `margin` (B).
train::LossTerms reward_pair_loss(const at::Tensor& chosen, const at::Tensor& rejected,
                                  const at::Tensor& margin, double center_coef);

struct PairSequences {
  std::vector<data::TokenId> chosen;
  std::vector<data::TokenId> rejected;
  std::int64_t prompt_length = 0;  // tokens of the prompt, the start of both sequences
  double margin = 0;
};

struct PairCounts {
  std::int64_t kept = 0;
  std::int64_t dropped = 0;  // a sequence longer than the maximum length
};

// The chosen and rejected sequences of every pair of `files` (see above), at most `max_length`
// tokens each. Shared with objectives that train on preference pairs (DPO).
std::vector<PairSequences> read_preference_sequences(const std::vector<std::string>& files,
                                                     const data::JsonlOptions& jsonl,
                                                     const data::Tokenizer& tokenizer,
                                                     std::int64_t max_length, PairCounts& counts);

class RewardModelObjective : public FileSplitObjective<PairSequences, PairCounts> {
 public:
  RewardModelObjective(const config::Node& options, const ObjectiveContext& context);

  std::string name() const override { return "reward_model"; }
  std::vector<std::string> metric_names() const override { return {"accuracy", "margin"}; }
  torch::nn::Module& model() override { return *model_; }
  double training_flops_per_token() const override;
  train::LossTerms loss(const train::Batch& batch) override;

 private:
  train::Batch batch_of(data::Split split, const std::vector<std::int64_t>& indices) override;

  double center_coef_;
  data::TokenId pad_;
  RewardModel model_{nullptr};
};

// A (2B, T) batch of the chosen rows then the rejected rows of `pairs`[indices]: "input_ids",
// "key_valid", "margin" (B) float, "prompt_length" (B); n_targets = B pairs.
// The pairs of `files_key` of an objective's options (prompt_field, chosen_field, rejected_field,
// margin_field where the schema has one, skip_malformed), counted and reported under `objective`;
// an error when no pair fits `max_length`.
std::vector<PairSequences> read_preference_split(const config::Node& options,
                                                 const std::string& files_key,
                                                 const data::Tokenizer& tokenizer,
                                                 std::int64_t max_length,
                                                 const std::string& objective, PairCounts& counts);
// Adds train_files, validation_files, skip_malformed, prompt_field, chosen_field, rejected_field.
void add_preference_fields(config::Schema& schema);

train::Batch preference_batch(const std::vector<PairSequences>& pairs,
                              const std::vector<std::int64_t>& indices, data::TokenId pad);

void register_reward_model();

}  // namespace sslx::objectives
