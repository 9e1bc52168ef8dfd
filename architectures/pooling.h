// One vector per sequence from a backbone's hidden states, for sequence-level heads.
//
// Dimensions: B batch, T positions, E model width.
#pragma once

#include <ATen/core/Tensor.h>

#include <string_view>

namespace sslx::arch {

enum class Pooling {
  first,  // position 0 ([CLS] in BERT)
  last,   // the last valid position of each sequence (GPT-style reward and value models)
  mean,   // mean over valid positions
};
// "first", "last" or "mean"; throws (c10::Error) otherwise.
Pooling pooling_from_name(std::string_view name);

// hidden: (B, T, E); key_valid: (B, T) bool or undefined (all valid) -> (B, E). Every sequence
// needs at least one valid position for last and mean.
at::Tensor pool(const at::Tensor& hidden, const at::Tensor& key_valid, Pooling pooling);

}  // namespace sslx::arch
