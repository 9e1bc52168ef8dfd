// Prefix language modelling: a random split point per sequence; the tokens before it are a
// prefix the model reads bidirectionally, the tokens from it on are predicted causally, and only
// they are labels.
//
// Data: documents packed with EOS into blocks of sequence_length + 1 tokens (L = sequence_length).
// The split point p is uniform in [1, L - 1]: block tokens [0, p) are the prefix and never labels,
// tokens [p, L] (n = L + 1 - p of them, 2 .. L) are the targets.
//   decoder: shifted as CLM does (input_ids = block[0 .. L), labels = block[1 .. L]) with a
//     bidirectional prefix (prefix_length = p); the labels at positions t >= p - 1 are kept
//     (position p - 1, the prefix's last, predicts the first target without seeing it: position
//     p is outside the prefix).
//   encoder_decoder: the prefix is the encoder's input and the targets the decoder's, as T5
//     splits a sequence: input_ids (B, L) = block[0 .. p) then <pad>, key_valid = t < p (also
//     masks the padding for cross-attention); decoder_input_ids (B, L) = <pad> (the start token,
//     as T5) then block[p .. L), then <pad>; labels (B, L) = block[p .. L] then ignored. The
//     decoder is causal, so its right padding never reaches a target.
// Both forms predict the same targets from the same split points (same seed), so their losses
// are comparable. The loss is the summed NLL over the targets; "accuracy" is their accuracy.
// Split points draw from the RngStream "prefix_lm_split", saved in checkpoints; evaluation batch
// i draws from its own stream.
#pragma once

#include "data/packing.h"
#include "objectives/block_lm_objective.h"

namespace sslx::objectives {

class PrefixLmObjective : public BlockLmObjective<data::PackedBlocks> {
 public:
  PrefixLmObjective(const config::Node& options, const ObjectiveContext& context);

  std::string name() const override { return "prefix_lm"; }
  double training_flops_per_token() const override;
  at::Tensor hidden_states(const train::Batch& batch) override {
    return hidden_states(batch, true);
  }
  // (B, L, E) and logits (B, L, V) of a batch as loss() computes them. For tests' negative
  // controls, with `with_masks` false: without the prefix (a plain causal decoder), or on
  // encoder_decoder without the encoder's padding mask.
  at::Tensor hidden_states(const train::Batch& batch, bool with_masks);
  at::Tensor logits(const train::Batch& batch, bool with_masks = true) {
    return model_->lm_head(hidden_states(batch, with_masks));
  }

 private:
  train::Batch batch_of(const data::PackedBlocks& blocks, const std::vector<std::int64_t>& indices,
                        RngStream& rng) const override;
  // The encoder_decoder form of the rows `blocks` (each L + 1 tokens) split at `splits`.
  train::Batch encoder_decoder_batch(const std::vector<data::PackedBlock>& blocks,
                                     const std::vector<std::int64_t>& splits) const;

  bool encoder_decoder_;
  data::TokenId pad_ = 0;  // the decoder's start token and padding (encoder_decoder)
};

void register_prefix_lm();

}  // namespace sslx::objectives
