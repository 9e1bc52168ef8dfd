// Supervised fine-tuning (SFT): next-token prediction on a decoder with the loss only on the
// completion (or assistant) tokens.
//
// Data (the objective's own JSONL files, not [data]): {"prompt","completion"}, {"messages"}
// rendered by a ChatTemplate, or {"text"} (every token trained). Each example is a list of
// segments marked trainable or not, tokenized segment by segment, so the prompt boundary is exact
// (never found again by searching the token stream). An EOS is appended to every trainable run
// (a completion, an assistant turn) that does not already end with one, or the model never learns
// to stop. The shift happens here, in the data, as in clm: inputs = tokens[0 .. n-1), labels[t] =
// tokens[t + 1] where that token is trainable, else ignored. Sequences longer than
// sequence_length + 1 tokens are truncated; an example with no trainable label left is dropped
// and counted. Batches are right-padded and masked by length (key_valid), never by comparing ids
// with the pad id (pad may equal EOS).
//
// init_from: a checkpoint directory of a run that trained a LanguageModel (clm, mlm, ...); its
// model.pt is loaded strictly, key for key ("backbone.*" -> "backbone.*", "lm_head.*" ->
// "lm_head.*").
#pragma once

#include <optional>
#include <vector>

#include "data/chat_template.h"
#include "data/sampler.h"
#include "data/tokenizer.h"
#include "objectives/language_model.h"
#include "objectives/objective_registry.h"

namespace sslx::objectives {

// Tokens of an example and, for each, whether it is trained on.
struct TokenizedExample {
  std::vector<data::TokenId> tokens;
  std::vector<bool> trainable;
};

// Tokenizes segment by segment; appends `eos` after every trainable run not ending with it.
TokenizedExample tokenize_segments(const std::vector<data::Segment>& segments,
                                   const data::Tokenizer& tokenizer, data::TokenId eos);

// One training sequence: inputs (n) and labels (n) with kIgnore where no loss is taken.
struct SftSequence {
  std::vector<data::TokenId> inputs;
  std::vector<data::TokenId> labels;
};

struct SftCounts {
  std::int64_t kept = 0;
  std::int64_t truncated = 0;
  std::int64_t dropped = 0;  // no trainable label left after truncation
};

// Shifts and truncates to at most `sequence_length` inputs; nullopt when every label is ignored.
std::optional<SftSequence> sft_sequence(const TokenizedExample& example,
                                        std::int64_t sequence_length, SftCounts& counts);

class SftObjective : public train::Objective {
 public:
  SftObjective(const config::Node& options, const ObjectiveContext& context);

  std::string name() const override { return "sft"; }
  std::vector<std::string> metric_names() const override { return {"accuracy"}; }
  torch::nn::Module& model() override { return *model_; }
  double training_flops_per_token() const override;
  train::Batch train_batch() override;
  bool eval_batch(data::Split split, std::int64_t index, train::Batch& batch) override;
  train::LossTerms loss(const train::Batch& batch) override;
  void save_state(train::TrainerState& state) const override;
  void load_state(const train::TrainerState& state) override;

  const SftCounts& train_counts() const { return train_counts_; }
  const SftCounts& validation_counts() const { return validation_counts_; }

 private:
  train::Batch batch_of(const std::vector<SftSequence>& sequences,
                        const std::vector<std::int64_t>& indices) const;

  std::int64_t batch_size_;
  std::int64_t sequence_length_;
  data::TokenId pad_;
  LanguageModel model_{nullptr};
  SftCounts train_counts_, validation_counts_;
  std::vector<SftSequence> train_, validation_;
  data::Sampler sampler_;
};

void register_sft();

}  // namespace sslx::objectives
