// Sampling continuations from a decoder language model through the rollout engine (batched, KV
// cache): every prompt of a call in one batch, each row drawing from a random stream of its own,
// so a sample depends only on (seed, stream) and not on the other prompts of the batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "rollout/rollout.h"

namespace sslx::objectives {
class LanguageModelImpl;
}

namespace sslx::eval {

// prompts: each at least one token; streams: one name per prompt. Returns the new tokens of each
// prompt, without the EOS that ended it (options.eos).
std::vector<std::vector<data::TokenId>> generate(
    objectives::LanguageModelImpl& model, const std::vector<std::vector<data::TokenId>>& prompts,
    const rollout::RolloutOptions& options, std::uint64_t seed,
    const std::vector<std::string>& streams);

}  // namespace sslx::eval
