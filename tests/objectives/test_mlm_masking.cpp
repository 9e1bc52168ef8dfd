#include <catch2/catch.hpp>

#include <set>

#include "data/byte_tokenizer.h"
#include "objectives/mlm_masking.h"

using namespace sslx;
using namespace sslx::objectives;
using MaskingVariant = MaskingOptions::Variant;

namespace {
// [CLS] w w w ... [SEP] pad pad: `words` tokens of text between cls and sep.
std::vector<TokenId> sequence(const data::SpecialTokens& specials, int words, int padding) {
  std::vector<TokenId> tokens{specials.require_cls()};
  for (int i = 0; i < words; ++i)
    tokens.push_back(100 + i % 50);
  tokens.push_back(specials.require_sep());
  tokens.insert(tokens.end(), padding, specials.require_pad());
  return tokens;
}

std::int64_t chosen_count(const MaskedExample& example) {
  return std::count_if(example.labels.begin(), example.labels.end(),
                       [](TokenId label) { return label != kIgnore; });
}
}  // namespace

TEST_CASE("exact count: min(max_predictions, max(1, round(n * rate))), n counting CLS and SEP") {
  const data::ByteTokenizer tokenizer;
  const auto& specials = tokenizer.specials();
  RngStream rng(5);
  struct Case {
    int words;
    double rate;
    std::int64_t max;
    std::int64_t expected;
  };
  // n = words + 2. 18 * 0.25 = 4.5 rounds to 4 (half to even); 2 * 0.15 = 0.3 gives the minimum 1.
  for (const Case c : {Case{126, 0.15, 20, 19}, Case{16, 0.25, 20, 4}, Case{0, 0.15, 20, 1},
                       Case{510, 0.15, 80, 77}, Case{510, 0.15, 20, 20}, Case{40, 0.5, 100, 21}}) {
    const auto tokens = sequence(specials, c.words, 5);
    const auto length = static_cast<std::int64_t>(tokens.size()) - 5;
    if (c.words == 0) {
      // Nothing eligible: nothing can be chosen, whatever the target.
      const auto example = mask_tokens(tokens, length, {}, specials,
                                       {.rate = c.rate, .max_predictions = c.max}, rng);
      CHECK(chosen_count(example) == 0);
      continue;
    }
    const auto example =
        mask_tokens(tokens, length, {}, specials, {.rate = c.rate, .max_predictions = c.max}, rng);
    INFO("words " << c.words << " rate " << c.rate);
    CHECK(chosen_count(example) == c.expected);
    // Special tokens and padding are never chosen; labels hold the originals.
    CHECK(example.labels.front() == kIgnore);
    CHECK(example.labels[length - 1] == kIgnore);
    for (std::size_t i = length; i < tokens.size(); ++i)
      CHECK(example.labels[i] == kIgnore);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (example.labels[i] != kIgnore) CHECK(example.labels[i] == tokens[i]);
    }
  }
}

TEST_CASE("80/10/10: mask, random, unchanged in the configured proportions") {
  const data::ByteTokenizer tokenizer;
  const auto& specials = tokenizer.specials();
  RngStream rng(9);
  std::int64_t masked = 0, unchanged = 0, other = 0, total = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const auto tokens = sequence(specials, 126, 0);
    const auto example = mask_tokens(tokens, 128, {}, specials, {}, rng);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (example.labels[i] == kIgnore) {
        CHECK(example.inputs[i] == tokens[i]);  // unchosen positions are untouched
        continue;
      }
      ++total;
      if (example.inputs[i] == specials.require_mask()) {
        ++masked;
      } else if (example.inputs[i] == tokens[i]) {
        ++unchanged;
      } else {
        ++other;
      }
    }
  }
  REQUIRE(total == 400 * 19);
  // 7600 draws: standard deviations ~0.46% (80%) and ~0.34% (10%); bounds at ~4 sigma. A random
  // token can equal the original (1/363), which moves a little mass from "random" to "unchanged".
  CHECK(static_cast<double>(masked) / total == Approx(0.8).margin(0.02));
  CHECK(static_cast<double>(unchanged) / total == Approx(0.1).margin(0.015));
  CHECK(static_cast<double>(other) / total == Approx(0.1).margin(0.015));
}

TEST_CASE("independent variant: each eligible token with probability rate, no cap") {
  const data::ByteTokenizer tokenizer;
  const auto& specials = tokenizer.specials();
  RngStream rng(3);
  std::int64_t chosen = 0;
  const int trials = 300;
  for (int trial = 0; trial < trials; ++trial) {
    const auto tokens = sequence(specials, 200, 0);
    chosen += chosen_count(mask_tokens(
        tokens, 202, {}, specials, {.variant = MaskingVariant::kIndependent, .rate = 0.4}, rng));
  }
  // Mean 80 per sequence (above the exact-count cap of 20); sd of the total ~120.
  CHECK(static_cast<double>(chosen) / trials == Approx(80.0).margin(2.0));
}

TEST_CASE("whole-word masking chooses whole words only") {
  const data::ByteTokenizer tokenizer;
  const auto& specials = tokenizer.specials();
  // Words of 3 pieces each: starts at 1, 4, 7, ...
  const auto tokens = sequence(specials, 60, 0);
  std::vector<bool> starts(tokens.size(), false);
  for (std::size_t i = 1; i + 1 < tokens.size(); i += 3)
    starts[i] = true;
  RngStream rng(1);
  for (int trial = 0; trial < 50; ++trial) {
    const auto example = mask_tokens(tokens, 62, starts, specials, {.rate = 0.3}, rng);
    CHECK(chosen_count(example) == 18);  // round(62 * 0.3) = 19 is not a multiple of 3: 6 words
    for (std::size_t word = 1; word + 2 < tokens.size(); word += 3) {
      const bool first = example.labels[word] != kIgnore;
      CHECK((example.labels[word + 1] != kIgnore) == first);
      CHECK((example.labels[word + 2] != kIgnore) == first);
    }
  }
}
