// The rollout engine: batched sampling from a decoder policy through its KV cache, shared by the
// RL objectives (GRPO, RLOO, PPO) and the generate evaluator, so sslx has one sampler.
//
// Prompts are left-padded to a common width P, so every row's last prompt token sits at column
// P - 1 and one forward step per new token serves the whole batch; padding is masked out of
// attention and positions count real tokens only (a left-padded row computes what it would
// alone). Responses are right-padded to N columns: a row stops after it emits EOS, which is part
// of its response and of its mask, or after max_new_tokens.
//
// Every row draws its uniforms from a random stream of its own, named by the caller, so a sample
// is a pure function of (seed, stream name): the same prompt gives the same response in any
// batch, and a resumed run samples exactly what an uninterrupted one did.
//
// Dimensions: B rows, P prompt width, N response width, L = P + N, V vocabulary.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "architectures/architecture.h"
#include "data/special_tokens.h"
#include "rollout/sampling.h"

namespace sslx::rollout {

// The policy as the engine sees it: named inputs -> logits (B, T, V). It must be a decoder:
// token_ids, key_valid (B, C + T), position_ids (B, T) and cache are what it is given.
using LogitsFunction = std::function<at::Tensor(const arch::ArchitectureInputs&)>;

struct RolloutOptions {
  std::int64_t max_new_tokens = 40;
  SamplingOptions sampling = {};
  std::optional<data::TokenId> eos = std::nullopt;  // a row ends after emitting it
  data::TokenId pad = 0;                            // left of prompts and right of ended responses
  std::int64_t max_positions = 0;  // P + N at most (the model's positions); 0: no limit
  // Hugging Face's repetition penalty (Keskar et al. 2019): before sampling, the logit of every
  // token already in the row (prompt and response; an encoder_decoder's response only) is
  // divided by it when positive and multiplied by it when negative. 1: off.
  double repetition_penalty = 1.0;
  // EOS cannot be drawn before this many tokens (its logit is -inf until then). 0: off.
  std::int64_t min_new_tokens = 0;
  // Set for an encoder_decoder: the prompts are the encoder's input and the decoder starts from
  // this token (its objectives' and T5's: pad). P and N are then each within max_positions.
  std::optional<data::TokenId> decoder_start = std::nullopt;
  // Called after every step with the tokens drawn (B) int64 and the rows that drew them while
  // active (B) bool: to show tokens as they come. Returning false stops every row there.
  std::function<bool(const at::Tensor& tokens, const at::Tensor& active)> on_step = {};
};

struct Rollout {
  at::Tensor sequences;     // (B, L) int64: left-padded prompts, then right-padded responses
  at::Tensor valid;         // (B, L) bool: real prompt tokens and response tokens
  at::Tensor position_ids;  // (B, L) int64: positions counting real tokens only (0 on padding)
  std::int64_t prompt_width = 0;  // P
  at::Tensor responses;           // (B, N) int64 = sequences[:, P:]
  at::Tensor response_mask;       // (B, N) bool: the generated tokens, up to and including EOS
  // (B, N) float32: log-probability of each generated token under the distribution the policy
  // is trained as (policy_log_probs: temperature applied), 0 outside the mask.
  at::Tensor log_probs;
  at::Tensor lengths;         // (B) int64: response tokens, EOS included
  at::Tensor ended_with_eos;  // (B) bool
  bool stopped = false;       // on_step asked to stop before every row ended

  std::int64_t batch() const { return sequences.size(0); }
  std::int64_t response_width() const { return responses.size(1); }
};

// Samples one response for each prompt (each at least one token). `streams[i]` names row i's
// random stream under `seed`. Runs without gradients. For an encoder_decoder (decoder_start set)
// `sequences`, `valid` and `position_ids` hold the encoder's prompt and the decoder's response
// side by side: response_logits() and the policy objectives take decoders only.
Rollout generate(const LogitsFunction& policy,
                 const std::vector<std::vector<data::TokenId>>& prompts,
                 const RolloutOptions& options, std::uint64_t seed,
                 const std::vector<std::string>& streams);

// The rows `rows` (int64) of a rollout, every tensor alike (mini-batches of PPO).
Rollout select_rows(const Rollout& rollout, const at::Tensor& rows);

// A fresh forward pass over whole sequences (with gradients when enabled): logits (B, N, V) of
// the positions that predict the response tokens (columns P - 1 .. L - 2).
at::Tensor response_logits(const LogitsFunction& policy, const Rollout& rollout);

// log_probs (B, N) of `tokens` (B, N) under logits (B, N, V) at `temperature`.
at::Tensor token_log_probs(const at::Tensor& logits, const at::Tensor& tokens, double temperature);

// Per-token entropy (B, N) of the distribution at `temperature`.
at::Tensor token_entropy(const at::Tensor& logits, double temperature);

// Each row's real tokens (prompt, then response) moved to the left, padding after them: the
// layout models trained on right-padded batches expect (a reward model, a fresh scorer).
struct PackedSequences {
  at::Tensor token_ids;  // (B, L) int64
  at::Tensor valid;      // (B, L) bool
};
PackedSequences right_padded(const Rollout& rollout);

// The response tokens of row `row` without padding and without a final EOS (for decoding text).
std::vector<data::TokenId> response_text_tokens(const Rollout& rollout, std::int64_t row);

}  // namespace sslx::rollout
