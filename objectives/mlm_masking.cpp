#include "objectives/mlm_masking.h"

#include <algorithm>

#include "objectives/span_corruption_noise.h"
#include "util/error.h"

namespace sslx::objectives {
namespace {

// Eligible positions grouped into words: each group is one word (or one token without
// word_starts).
std::vector<std::vector<std::int64_t>> candidate_words(const std::vector<TokenId>& tokens,
                                                       std::int64_t length,
                                                       const std::vector<bool>& word_starts,
                                                       const data::SpecialTokens& specials) {
  std::vector<std::vector<std::int64_t>> words;
  for (std::int64_t i = 0; i < length; ++i) {
    if (specials.is_special(tokens[i])) continue;
    const bool continues =
        !word_starts.empty() && !word_starts[i] && !words.empty() && words.back().back() == i - 1;
    if (continues) {
      words.back().push_back(i);
    } else {
      words.push_back({i});
    }
  }
  return words;
}

}  // namespace

MaskedExample mask_tokens(const std::vector<TokenId>& tokens, std::int64_t length,
                          const std::vector<bool>& word_starts, const data::SpecialTokens& specials,
                          const MaskingOptions& options, RngStream& rng) {
  if (length < 0 || length > static_cast<std::int64_t>(tokens.size())) {
    throw Error("mask_tokens: length " + std::to_string(length) + " for " +
                std::to_string(tokens.size()) + " tokens");
  }
  if (!word_starts.empty() && word_starts.size() != tokens.size()) {
    throw Error("mask_tokens: word_starts must have one flag per token");
  }
  const TokenId mask_id = specials.require_mask();
  MaskedExample example{tokens, std::vector<TokenId>(tokens.size(), kIgnore)};
  auto words = candidate_words(tokens, length, word_starts, specials);

  std::vector<std::int64_t> chosen;
  if (options.variant == MaskingOptions::Variant::kExactCount) {
    const std::int64_t target = std::min(
        options.max_predictions,
        std::max<std::int64_t>(1, round_half_even(static_cast<double>(length) * options.rate)));
    for (std::size_t i = words.size(); i > 1; --i) {  // shuffle words (Fisher-Yates)
      std::swap(words[i - 1], words[rng.uniform_below(i)]);
    }
    for (const auto& word : words) {
      if (static_cast<std::int64_t>(chosen.size()) >= target) break;
      if (static_cast<std::int64_t>(chosen.size() + word.size()) > target) continue;
      chosen.insert(chosen.end(), word.begin(), word.end());
    }
  } else {
    for (const auto& word : words) {
      if (rng.uniform01() < options.rate) chosen.insert(chosen.end(), word.begin(), word.end());
    }
  }

  for (std::int64_t position : chosen) {
    example.labels[position] = tokens[position];
    if (rng.uniform01() < options.mask_fraction) {
      example.inputs[position] = mask_id;
    } else if (rng.uniform01() < options.random_fraction) {
      example.inputs[position] =
          static_cast<TokenId>(rng.uniform_below(static_cast<std::uint64_t>(specials.vocab_size)));
    }
  }
  return example;
}

}  // namespace sslx::objectives
