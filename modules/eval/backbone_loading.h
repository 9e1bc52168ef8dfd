// Backbones from checkpoints, and pooled features of labelled examples, for the probe and
// fine-tune evaluators.
//
// Dimensions: B batch, T positions (the longest example of a batch), E model width, N examples.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "architectures/architecture.h"
#include "architectures/pooling.h"
#include "config/node.h"
#include "data/tokenizer.h"

namespace sslx::eval {

// Why model.pt of `checkpoint` holds no backbone (no "backbone.*" tensors), or nullopt.
std::optional<std::string> backbone_missing(const std::filesystem::path& checkpoint);
// Why model.pt of `checkpoint` is not a language model (tensors other than backbone.* and
// lm_head.*, e.g. a reward head), or nullopt.
std::optional<std::string> not_a_language_model(const std::filesystem::path& checkpoint);

// The backbone of the job's [model] section with the "backbone.*" tensors of
// `checkpoint`/model.pt, loaded strictly (same key set and shapes, or an error naming the key),
// in eval mode. Other tensors of the file (LM head, reward head) are not used.
std::shared_ptr<arch::Architecture> load_backbone(const config::Node& model,
                                                  std::int64_t vocab_size,
                                                  const std::filesystem::path& checkpoint);

// Examples `indices` of `tokens`, right-padded: token_ids (B, T) int64, key_valid (B, T) bool.
struct PaddedBatch {
  at::Tensor token_ids;
  at::Tensor key_valid;
};
PaddedBatch pad_batch(const std::vector<std::vector<data::TokenId>>& tokens,
                      const std::vector<std::int64_t>& indices);

// Hidden states (B, T, E) of a padded batch: the encoder's or decoder's states, and for an
// encoder_decoder the encoder's (its input is the text; the decoder has nothing to read yet).
at::Tensor hidden_states(arch::Architecture& backbone, const PaddedBatch& batch);

// Pooled features (N, E) of every example, without gradients, `batch_size` at a time.
at::Tensor pooled_features(arch::Architecture& backbone,
                           const std::vector<std::vector<data::TokenId>>& tokens,
                           arch::Pooling pooling, std::int64_t batch_size);

}  // namespace sslx::eval
