// Attention masks: which key positions each query position may attend to.
//
// Dimensions: B batch, T query positions, S key positions.
// The parts below combine by AND into one boolean tensor "allowed" of shape (B, 1, T, S), true
// where query t may attend key s (the 1 broadcasts over heads). A query whose row is all false
// (e.g. a padding query in a sequence of only padding) gets a zero output, never NaN.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>

namespace sslx::nn {

// A mask in the form the scores use: made once for a whole stack of layers (resolve_mask), so
// that each layer adds it to its scores instead of combining the mask's parts again.
struct ScoreMask {
  // (B, 1, T, S) in the scores' dtype: 0 where query t may attend key s, -inf where it may not;
  // 0 across a row with no allowed key (a finite softmax, zeroed by row_has_key). Undefined when
  // nothing is masked.
  at::Tensor bias = {};
  // (B, 1, T, 1) bool: whether each query has an allowed key. Undefined when every query has
  // one, the common case (causal attention without left padding), which then needs no pass
  // over the (B, H, T, S) probabilities.
  at::Tensor row_has_key = {};
  // Whether this was made by resolve_mask (an unresolved, empty ScoreMask is all defaults).
  bool resolved = false;
};

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
  // The parts above already resolved by resolve_mask for this (B, T, S) and dtype; when
  // `resolved.resolved` is set, attention reads it and not the parts above. A stack resolves
  // its masks once per forward pass and hands every layer the result.
  ScoreMask resolved = {};
  // The "= {}" initializers let designated initializers leave these out without GCC warnings.
};

// (B, 1, T, S) bool, or an undefined tensor when `mask` restricts nothing. Throws (c10::Error)
// naming the actual sizes when a part does not match (B, T, S).
at::Tensor allowed_positions(const AttentionMask& mask, std::int64_t batch,
                             std::int64_t query_length, std::int64_t key_length,
                             c10::Device device);

// The mask as additive scores (see ScoreMask) for scores of `dtype` on `device`. One pass over
// the (B, 1, T, S) mask and one host synchronisation (whether every row has a key), once per
// stack instead of once per layer. A mask already resolved is returned as it is, after checking
// that it was resolved for (B, T, S).
ScoreMask resolve_mask(const AttentionMask& mask, std::int64_t batch, std::int64_t query_length,
                       std::int64_t key_length, c10::ScalarType dtype, c10::Device device);

// The same from an allowed tensor, broadcastable to (B, 1, T, S) bool, or undefined.
ScoreMask score_mask(const at::Tensor& allowed, c10::ScalarType dtype);

}  // namespace sslx::nn
