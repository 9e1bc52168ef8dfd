// T5's span corruption, exactly as the reference (t5.data.preprocessors) defines it:
//   lengths:  for T raw tokens, n = round(T * density) noise tokens, s = round(n / mean_span)
//             spans; inputs = T - n + s + 1, targets = n + s + 1 (the +1 is EOS). round() is
//             round-half-to-even, as in the reference's Python/NumPy.
//   mask:     n clamped to [1, T-1], s = max(round(n / mean_span), 1); n and T - n are each split
//             into s positive parts uniformly at random and interleaved non-noise, noise, ...,
//             so the mask starts with non-noise and ends with noise.
//   sentinels: each noise span becomes one sentinel in the inputs, the first span the highest id
//             (<extra_id_0> = vocab_size - 1); targets are built the same way from the inverted
//             mask: <extra_id_0> span0 <extra_id_1> span1 ... EOS.
#pragma once

#include <cstdint>
#include <vector>

#include "data/special_tokens.h"
#include "util/rng.h"

namespace sslx::objectives {

using data::TokenId;

// Round half to even (banker's rounding), the reference's round(); std::round would differ.
std::int64_t round_half_even(double value);

struct SpanLengths {
  std::int64_t raw_tokens = 0;  // T: tokens taken from the corpus per example
  std::int64_t inputs = 0;      // encoder input length, EOS included
  std::int64_t targets = 0;     // target length, EOS included
};

// Inputs and targets lengths for T raw tokens.
SpanLengths span_lengths_for(std::int64_t raw_tokens, double noise_density, double mean_span);
// The largest T whose inputs fit `inputs_length` (T5's random_spans_helper, including its
// adjustment for density 0.5). Reference: 512 -> T = 568, targets 114.
SpanLengths expanded_lengths(std::int64_t inputs_length, double noise_density, double mean_span);

// A noise mask of `length` positions (true = noise).
std::vector<bool> random_spans_noise_mask(std::int64_t length, double noise_density,
                                          double mean_span, RngStream& rng);

// Replaces each noise span by one sentinel (first span: specials.sentinel(0), ...) and drops
// the rest of the span's tokens.
std::vector<TokenId> noise_span_to_sentinels(const std::vector<TokenId>& tokens,
                                             const std::vector<bool>& noise,
                                             const data::SpecialTokens& specials);

struct CorruptedExample {
  std::vector<TokenId> inputs;   // non-noise tokens and sentinels, then EOS
  std::vector<TokenId> targets;  // sentinels and noise tokens, then EOS
};
CorruptedExample corrupt_spans(const std::vector<TokenId>& tokens, const std::vector<bool>& noise,
                               const data::SpecialTokens& specials);

// Rebuilds the original tokens from inputs and targets (the inverse of corrupt_spans).
std::vector<TokenId> reconstruct(const CorruptedExample& example,
                                 const data::SpecialTokens& specials);

}  // namespace sslx::objectives
