// BERT's masked-LM corruption, in both reference variants:
//   kExactCount (BERT's create_pretraining_data): exactly
//       min(max_predictions, max(1, round(n * rate)))   positions, n counting [CLS]/[SEP],
//     chosen among non-special positions by whole words when word starts are given (a word is
//     skipped when it would exceed the count), round() half-to-even as in Python;
//   kIndependent (Hugging Face's DataCollatorForLanguageModeling): each eligible position
//     independently with probability `rate`, no cap.
// Of the chosen positions: `mask_fraction` (0.8) become <mask>; of the rest, `random_fraction` of
// them (0.5, i.e. 10% overall) a token drawn uniformly from the whole vocabulary (as both
// references do), the others stay unchanged. Special tokens and padding are never chosen.
// Labels hold the original token at chosen positions and kIgnore elsewhere.
#pragma once

#include <cstdint>
#include <vector>

#include "data/special_tokens.h"
#include "util/rng.h"

namespace sslx::objectives {

using data::TokenId;
inline constexpr TokenId kIgnore = -100;

struct MaskingOptions {
  enum class Variant { kExactCount, kIndependent };
  Variant variant = Variant::kExactCount;
  double rate = 0.15;
  std::int64_t max_predictions = 20;  // kExactCount only (BERT: 20 per 128, 80 per 512)
  double mask_fraction = 0.8;         // of the chosen: replaced by <mask>
  double random_fraction = 0.5;       // of the chosen and not masked: replaced by a random token
};

struct MaskedExample {
  std::vector<TokenId> inputs;
  std::vector<TokenId> labels;  // original token at chosen positions, kIgnore elsewhere
};

// `length`: positions [length, tokens.size()) are padding and never chosen. `word_starts`
// (empty, or one flag per token) groups sub-word pieces into whole words.
MaskedExample mask_tokens(const std::vector<TokenId>& tokens, std::int64_t length,
                          const std::vector<bool>& word_starts, const data::SpecialTokens& specials,
                          const MaskingOptions& options, RngStream& rng);

}  // namespace sslx::objectives
