#include "objectives/span_corruption_noise.h"

#include <algorithm>
#include <cfenv>
#include <cmath>

#include "util/error.h"

namespace sslx::objectives {
namespace {

// num_items split into num_segments positive parts, uniformly among all such splits: choose
// num_segments - 1 of the num_items - 1 gaps as segment starts (the reference shuffles an
// indicator vector; any uniform choice of the gaps is the same distribution).
std::vector<std::int64_t> random_segmentation(std::int64_t num_items, std::int64_t num_segments,
                                              RngStream& rng) {
  std::vector<bool> starts(static_cast<std::size_t>(num_items - 1), false);
  for (std::int64_t i = 0; i < num_segments - 1; ++i)
    starts[i] = true;
  for (std::int64_t i = num_items - 2; i > 0; --i) {  // Fisher-Yates
    const auto j = static_cast<std::int64_t>(rng.uniform_below(static_cast<std::uint64_t>(i + 1)));
    const bool swap = starts[i];
    starts[i] = starts[j];
    starts[j] = swap;
  }
  std::vector<std::int64_t> lengths{1};
  for (bool start : starts) {
    if (start) {
      lengths.push_back(1);
    } else {
      ++lengths.back();
    }
  }
  return lengths;
}

}  // namespace

std::int64_t round_half_even(double value) {
  // nearbyint honours the rounding mode, whose default is round-to-nearest-even.
  if (std::fegetround() != FE_TONEAREST) std::fesetround(FE_TONEAREST);
  return static_cast<std::int64_t>(std::nearbyint(value));
}

SpanLengths span_lengths_for(std::int64_t raw_tokens, double noise_density, double mean_span) {
  const std::int64_t noise = round_half_even(static_cast<double>(raw_tokens) * noise_density);
  const std::int64_t spans = round_half_even(static_cast<double>(noise) / mean_span);
  return {raw_tokens, raw_tokens - noise + spans + 1, noise + spans + 1};
}

SpanLengths expanded_lengths(std::int64_t inputs_length, double noise_density, double mean_span) {
  if (inputs_length < 2) throw Error("span corruption needs an input length of at least 2");
  std::int64_t raw = inputs_length - 1;
  while (span_lengths_for(raw + 1, noise_density, mean_span).inputs <= inputs_length)
    ++raw;
  SpanLengths lengths = span_lengths_for(raw, noise_density, mean_span);
  // The reference's adjustment so that targets fit the inputs length at density 0.5.
  if (noise_density == 0.5 && lengths.targets > lengths.inputs) {
    lengths.raw_tokens -= 1;
    lengths.targets -= 1;
  }
  return lengths;
}

std::vector<bool> random_spans_noise_mask(std::int64_t length, double noise_density,
                                          double mean_span, RngStream& rng) {
  if (length < 2)
    throw Error("a noise mask needs at least 2 tokens, got " + std::to_string(length));
  std::int64_t noise = round_half_even(static_cast<double>(length) * noise_density);
  noise = std::min(std::max<std::int64_t>(noise, 1), length - 1);
  const std::int64_t spans =
      std::max<std::int64_t>(round_half_even(static_cast<double>(noise) / mean_span), 1);
  // The reference assumes s <= n and s <= T - n. Where a setting breaks that (a mean span below
  // 1, or a density near 1 on short sequences), sslx uses the most spans that can interleave.
  const std::int64_t usable_spans = std::min({spans, noise, length - noise});
  const auto noise_lengths = random_segmentation(noise, usable_spans, rng);
  const auto clean_lengths = random_segmentation(length - noise, usable_spans, rng);
  std::vector<bool> mask;
  mask.reserve(static_cast<std::size_t>(length));
  for (std::int64_t span = 0; span < usable_spans; ++span) {
    mask.insert(mask.end(), static_cast<std::size_t>(clean_lengths[span]), false);
    mask.insert(mask.end(), static_cast<std::size_t>(noise_lengths[span]), true);
  }
  return mask;
}

std::vector<TokenId> noise_span_to_sentinels(const std::vector<TokenId>& tokens,
                                             const std::vector<bool>& noise,
                                             const data::SpecialTokens& specials) {
  if (tokens.size() != noise.size()) {
    throw Error("noise mask has " + std::to_string(noise.size()) + " positions for " +
                std::to_string(tokens.size()) + " tokens");
  }
  std::vector<TokenId> out;
  std::int32_t span = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (!noise[i]) {
      out.push_back(tokens[i]);
    } else if (i == 0 || !noise[i - 1]) {
      out.push_back(specials.sentinel(span++));
    }
  }
  return out;
}

CorruptedExample corrupt_spans(const std::vector<TokenId>& tokens, const std::vector<bool>& noise,
                               const data::SpecialTokens& specials) {
  std::vector<bool> inverted(noise.size());
  for (std::size_t i = 0; i < noise.size(); ++i)
    inverted[i] = !noise[i];
  CorruptedExample example{noise_span_to_sentinels(tokens, noise, specials),
                           noise_span_to_sentinels(tokens, inverted, specials)};
  example.inputs.push_back(specials.require_eos());
  example.targets.push_back(specials.require_eos());
  return example;
}

std::vector<TokenId> reconstruct(const CorruptedExample& example,
                                 const data::SpecialTokens& specials) {
  const auto is_sentinel = [&specials](TokenId id) {
    return id >= specials.vocab_size - specials.sentinel_count && id < specials.vocab_size;
  };
  const TokenId eos = specials.require_eos();
  std::vector<TokenId> original;
  for (std::size_t i = 0; i < example.inputs.size() && example.inputs[i] != eos; ++i) {
    const TokenId id = example.inputs[i];
    if (!is_sentinel(id)) {
      original.push_back(id);
      continue;
    }
    // The tokens that follow the same sentinel in the targets, up to the next sentinel or EOS.
    bool copying = false;
    for (TokenId target : example.targets) {
      if (target == eos) break;
      if (is_sentinel(target)) {
        if (copying) break;
        copying = target == id;
        continue;
      }
      if (copying) original.push_back(target);
    }
  }
  return original;
}

}  // namespace sslx::objectives
