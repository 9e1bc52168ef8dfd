// Supervised fine-tuning (SFT): next-token prediction on a decoder with the loss only on the
// completion (or assistant) tokens.
//
// Packing (objective.packing = true): examples are packed in order into rows of up to
// sequence_length positions (pack_sequences) instead of one example per row padded to the longest
// of its batch; batch_size then counts rows. The loss is the same sum over the same labels; only
// the padding, which costs compute and trains nothing, goes.
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
#include "data/tokenizer.h"
#include "objectives/file_split_objective.h"
#include "objectives/language_model.h"

namespace sslx::objectives {

// Tokens of an example and, for each, whether it is trained on.
struct TokenizedExample {
  std::vector<data::TokenId> tokens;
  std::vector<bool> trainable;
};

// Tokenizes segment by segment; appends `eos` after every trainable run not ending with it.
TokenizedExample tokenize_segments(const std::vector<data::Segment>& segments,
                                   const data::Tokenizer& tokenizer, data::TokenId eos);

// One training sequence: inputs (n) and labels (n) with kIgnore where no loss is taken. A packed
// row (objective.packing) holds several examples one after the other, with each position's
// example (segment_ids, 0, 1, ...) and its position inside that example (position_ids); both are
// empty in a sequence of one example.
struct SftSequence {
  std::vector<data::TokenId> inputs;
  std::vector<data::TokenId> labels;
  std::vector<std::int64_t> segment_ids;
  std::vector<std::int64_t> position_ids;
};

struct SftCounts {
  std::int64_t kept = 0;
  std::int64_t truncated = 0;
  std::int64_t dropped = 0;  // no trainable label left after truncation
  std::int64_t rows = 0;     // packed rows (objective.packing), else 0
};

// Shifts and truncates to at most `sequence_length` inputs; nullopt when every label is ignored.
std::optional<SftSequence> sft_sequence(const TokenizedExample& example,
                                        std::int64_t sequence_length, SftCounts& counts);

// Packs `sequences` in order into rows of at most `sequence_length` positions: a sequence joins
// the current row while it fits, else starts the next row. Each example was shifted on its own,
// so no label predicts across examples; with segment_ids and position_ids attention and positions
// stay inside each example too, and the summed loss of a row is the sum of its examples' losses.
std::vector<SftSequence> pack_sequences(const std::vector<SftSequence>& sequences,
                                        std::int64_t sequence_length);

class SftObjective : public FileSplitObjective<SftSequence, SftCounts> {
 public:
  SftObjective(const config::Node& options, const ObjectiveContext& context);

  std::string name() const override { return "sft"; }
  std::vector<std::string> metric_names() const override { return {"accuracy"}; }
  torch::nn::Module& model() override { return *model_; }
  double training_flops_per_token() const override;
  train::LossTerms loss(const train::Batch& batch) override;

 private:
  train::Batch batch_of(data::Split split, const std::vector<std::int64_t>& indices) override;

  data::TokenId pad_;
  train::TokenLossOptions token_loss_;
  LanguageModel model_{nullptr};
};

void register_sft();

}  // namespace sslx::objectives
