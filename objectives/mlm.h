// Masked language modelling (BERT cloze) on an encoder, with the corruption of mlm_masking.h.
//
// Data: documents packed with EOS into blocks of sequence_length tokens (no [CLS]/[SEP] framing:
// the EOS between documents is the separator). The EOS tokens are specials, so they are never
// chosen, but they count in n for the exact-count variant, as [CLS]/[SEP] do in BERT. The loss
// is the summed NLL at the chosen positions only (labels are kIgnore elsewhere), returned with
// their count; "accuracy" is the accuracy at the chosen positions.
//
// Whole-word masking (byte tokenizer only): a token starts a word when it is the first of the
// block, follows a whitespace byte (space, tab, newline, carriage return) or follows a special
// token; all bytes of a word are chosen together.
//
// Masking draws from the RngStream "mlm_masking", saved in checkpoints; evaluation batch i of a
// split draws from its own stream, so every evaluation sees the same corruption.
#pragma once

#include "data/packing.h"
#include "objectives/block_lm_objective.h"
#include "objectives/mlm_masking.h"

namespace sslx::objectives {

// One flag per token: true where a word starts (see above).
std::vector<bool> byte_word_starts(const std::vector<TokenId>& tokens,
                                   const data::SpecialTokens& specials);

class MlmObjective : public BlockLmObjective<data::PackedBlocks> {
 public:
  MlmObjective(const config::Node& options, const ObjectiveContext& context);

  std::string name() const override { return "mlm"; }
  double training_flops_per_token() const override;
  // (B, L, E): only the chosen positions carry labels, nothing is shifted.
  at::Tensor hidden_states(const train::Batch& batch) override;

 private:
  train::Batch batch_of(const data::PackedBlocks& blocks, const std::vector<std::int64_t>& indices,
                        RngStream& rng) const override;

  MaskingOptions masking_;
  bool whole_word_;
  const data::SpecialTokens& specials_;
};

void register_mlm();

}  // namespace sslx::objectives
