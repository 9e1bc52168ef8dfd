// Attention masks: which key positions each query position may attend to.
//
// Dimensions: B batch, T query positions, S key positions.
// The parts below combine by AND into one boolean tensor "allowed" of shape (B, 1, T, S), true
// where query t may attend key s (the 1 broadcasts over heads). A query whose row is all false
// (e.g. a padding query in a sequence of only padding) gets a zero output, never NaN.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>

namespace sslx::nn {

struct AttentionMask {
  // Query t may attend key s only if s <= t + (S - T): the queries are the last T of the S key
  // positions (S == T in plain self-attention; S > T when earlier keys come from a cache).
  bool causal = false;
  // (B) integer; requires causal. Keys s < prefix_length[b] are visible to every query of
  // sequence b: a prefix LM, bidirectional over the prefix and causal after it.
  at::Tensor prefix_length = {};
  // (B, S) bool: true where the key is a real token, false where it is padding.
  at::Tensor key_valid = {};
  // (B, T) integer: the document of each query position in packed sequences. A query attends
  // only keys of its own document (block-diagonal mask).
  at::Tensor segment_ids = {};
  // (B, S) integer: the documents of the keys; when undefined, segment_ids (requires S == T).
  at::Tensor key_segment_ids = {};
  // The "= {}" initializers let designated initializers leave these out without GCC warnings.
};

// (B, 1, T, S) bool, or an undefined tensor when `mask` restricts nothing. Throws (c10::Error)
// naming the actual sizes when a part does not match (B, T, S).
at::Tensor allowed_positions(const AttentionMask& mask, std::int64_t batch,
                             std::int64_t query_length, std::int64_t key_length,
                             c10::Device device);

}  // namespace sslx::nn
