// Padding-based batching for objectives that need whole examples (SFT, preference pairs): each
// sequence is right-padded to the longest of the batch, and its true length is kept. Masks are
// built from lengths, never by comparing ids with the pad id (pad may equal EOS).
#pragma once

#include <cstdint>
#include <vector>

#include "data/special_tokens.h"

namespace sslx::data {

struct PaddedBatch {
  std::int64_t batch = 0;             // B
  std::int64_t length = 0;            // T, the longest sequence
  std::vector<TokenId> tokens;        // (B, T) row-major, pad after each sequence
  std::vector<std::int64_t> lengths;  // (B)
  bool is_padding(std::int64_t row, std::int64_t column) const { return column >= lengths[row]; }
};

PaddedBatch pad_batch(const std::vector<std::vector<TokenId>>& sequences, TokenId pad);

// Sequences longer than `max_length`: either cut to it (`truncate`) or dropped; either way counted.
struct LengthPolicy {
  std::int64_t max_length = 0;
  bool truncate = true;
};
struct LengthReport {
  std::int64_t truncated = 0;
  std::int64_t dropped = 0;
};
std::vector<std::vector<TokenId>> apply_length_policy(std::vector<std::vector<TokenId>> sequences,
                                                      const LengthPolicy& policy,
                                                      LengthReport& report);

}  // namespace sslx::data
