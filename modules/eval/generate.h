// Sampling continuations from a decoder language model through its KV cache: the prompt in one
// forward pass, then one token per step, each drawn from sampling_distribution() (temperature,
// top-k, top-p) with a random stream of its own, so a sample depends only on (seed, stream).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "eval/sampling.h"

namespace sslx::objectives {
class LanguageModelImpl;
}

namespace sslx::eval {

struct GenerationOptions {
  std::int64_t max_new_tokens = 40;
  SamplingOptions sampling;
  std::optional<data::TokenId> stop;  // generation ends after this token (EOS), not included
  std::int64_t max_positions = 0;     // prompt + continuation at most; 0: no limit
};

// prompt: at least one token. Returns the new tokens only.
std::vector<data::TokenId> generate(objectives::LanguageModelImpl& model,
                                    const std::vector<data::TokenId>& prompt,
                                    const GenerationOptions& options, std::uint64_t seed,
                                    const std::string& stream);

}  // namespace sslx::eval
