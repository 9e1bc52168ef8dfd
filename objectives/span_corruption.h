// T5 span corruption (span_corruption_noise.h holds the example construction).
//
// Data: documents concatenated without separator (as T5 does) and cut into blocks of T raw
// tokens, T = expanded_lengths(sequence_length, noise_density, mean_noise_span_length).raw_tokens;
// each block gets a fresh noise mask, sentinels and one EOS on inputs and targets, so every
// example has exactly the reference inputs and targets lengths and no padding.
//   encoder_decoder: encoder = inputs; decoder inputs = targets shifted right with <pad> as the
//     start token (T5); labels = targets.
//   decoder: one sequence inputs ++ targets with a bidirectional prefix over the inputs
//     (prefix_length); next-token labels only where the predicted token is a target token, so
//     the last input position (its EOS) predicts the first target.
// The loss is the summed NLL over target tokens (sentinels and EOS included, as in T5);
// "accuracy" is the target-token accuracy. Noise masks draw from the RngStream
// "span_corruption_noise", saved in checkpoints; evaluation batch i draws from its own stream.
#pragma once

#include "objectives/block_lm_objective.h"
#include "objectives/span_corruption_noise.h"

namespace sslx::objectives {

// A split's documents concatenated without separator and cut into blocks (last partial dropped).
class ContiguousBlocks {
 public:
  ContiguousBlocks(const data::TokenCorpus& corpus, std::int64_t block_size);
  std::int64_t size() const { return blocks_; }
  std::vector<TokenId> block(std::int64_t index) const;

 private:
  const data::TokenCorpus& corpus_;
  std::int64_t block_size_;
  std::int64_t blocks_ = 0;
  std::vector<std::int64_t> starts_;  // stream offset of each document, then the total
};

class SpanCorruptionObjective : public BlockLmObjective<ContiguousBlocks> {
 public:
  SpanCorruptionObjective(const config::Node& options, const ObjectiveContext& context);

  std::string name() const override { return "span_corruption"; }
  double training_flops_per_token() const override;

  const SpanLengths& lengths() const { return lengths_; }
  // The output positions of a batch as loss() computes them: (B, targets, E) on
  // encoder_decoder, (B, inputs + targets - 1, E) on decoder.
  at::Tensor hidden_states(const train::Batch& batch) override;

 private:
  train::Batch batch_of(const ContiguousBlocks& blocks, const std::vector<std::int64_t>& indices,
                        RngStream& rng) const override;

  double density_;
  double mean_span_;
  bool decoder_only_;
  const data::SpecialTokens& specials_;
  SpanLengths lengths_;
};

void register_span_corruption();

}  // namespace sslx::objectives
