#include "rollout/rollout.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <limits>

#include "nn/kv_cache.h"
#include "util/error.h"
#include "util/rng.h"

namespace sslx::rollout {
namespace {

// Positions that count real tokens only: (B, T) bool -> (B, T) int64, 0 on leading padding.
at::Tensor positions_of(const at::Tensor& valid) {
  return (valid.to(at::kLong).cumsum(1) - 1).clamp_min(0);
}

}  // namespace

Rollout generate(const LogitsFunction& policy,
                 const std::vector<std::vector<data::TokenId>>& prompts,
                 const RolloutOptions& options, std::uint64_t seed,
                 const std::vector<std::string>& streams) {
  check_sampling_options(options.sampling);
  TORCH_CHECK(!prompts.empty() && streams.size() == prompts.size(), "rollout: ", prompts.size(),
              " prompts and ", streams.size(), " random streams; one stream per prompt");
  const torch::NoGradGuard no_grad;
  const auto B = static_cast<std::int64_t>(prompts.size());
  std::int64_t P = 0;
  for (const auto& prompt : prompts) {
    if (prompt.empty())
      throw Error("rollout: a prompt has no token", "start it with a token (EOS)");
    P = std::max(P, static_cast<std::int64_t>(prompt.size()));
  }
  const bool encoder_decoder = options.decoder_start.has_value();
  TORCH_CHECK(options.repetition_penalty > 0.0, "rollout: repetition_penalty must be > 0, got ",
              options.repetition_penalty);
  std::int64_t N = options.max_new_tokens;
  if (options.max_positions > 0 && encoder_decoder && P > options.max_positions) {
    throw Error("rollout: prompts of " + std::to_string(P) + " tokens exceed the model's " +
                    std::to_string(options.max_positions) + " positions",
                "use shorter prompts");
  }
  if (options.max_positions > 0)
    N = std::min(N, encoder_decoder ? options.max_positions : options.max_positions - P);
  if (N <= 0) {
    throw Error("rollout: prompts of " + std::to_string(P) + " tokens leave no room for a response",
                "the model has " + std::to_string(options.max_positions) +
                    " positions; use shorter prompts");
  }

  // Left-padded prompts: row b's tokens end at column P - 1.
  std::vector<std::int64_t> ids(static_cast<std::size_t>(B * P), options.pad);
  std::vector<std::uint8_t> real(static_cast<std::size_t>(B * P), 0);
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& prompt = prompts[static_cast<std::size_t>(b)];
    const std::int64_t offset = P - static_cast<std::int64_t>(prompt.size());
    for (std::size_t t = 0; t < prompt.size(); ++t) {
      ids[static_cast<std::size_t>(b * P + offset) + t] = prompt[t];
      real[static_cast<std::size_t>(b * P + offset) + t] = 1;
    }
  }
  const at::Tensor prompt_ids = at::tensor(ids, at::kLong).reshape({B, P});
  const at::Tensor prompt_valid = at::tensor(real, at::kByte).reshape({B, P}).to(at::kBool);
  at::Tensor next_position = prompt_valid.sum(1);  // (B): the position of each row's next token

  std::vector<RngStream> rngs;
  for (const auto& stream : streams)
    rngs.emplace_back(seed, stream);

  nn::KvCache cache;
  at::Tensor key_valid = prompt_valid;  // (B, C): every position in the cache
  at::Tensor logits;                    // (B, V): the distribution of the next token
  if (encoder_decoder) {
    logits = policy({.token_ids = prompt_ids,
                     .key_valid = prompt_valid,
                     .position_ids = positions_of(prompt_valid),
                     .decoder_token_ids = at::full({B, 1}, *options.decoder_start, at::kLong),
                     .cache = &cache})
                 .select(1, 0);
  } else {
    logits = policy({.token_ids = prompt_ids,
                     .key_valid = key_valid,
                     .position_ids = positions_of(prompt_valid),
                     .cache = &cache})
                 .select(1, P - 1);
  }
  // (B, V) bool: the tokens each row holds so far, for the repetition penalty.
  at::Tensor seen;
  if (options.repetition_penalty != 1.0) {
    seen = at::zeros_like(logits, at::kBool);
    if (!encoder_decoder) seen.scatter_(1, prompt_ids, prompt_valid);
  }
  at::Tensor active = at::ones({B}, at::kBool);
  at::Tensor ended = at::zeros({B}, at::kBool);
  bool stopped = false;
  std::vector<at::Tensor> tokens, masks, log_probs;
  std::vector<double> u(static_cast<std::size_t>(B));
  for (std::int64_t n = 0; n < N; ++n) {
    // Every row draws at every step, active or not: its stream never depends on other rows.
    for (std::size_t b = 0; b < rngs.size(); ++b)
      u[b] = rngs[b].uniform01();
    if (seen.defined()) {
      const at::Tensor scaled = at::where(logits > 0, logits / options.repetition_penalty,
                                          logits * options.repetition_penalty);
      logits = at::where(seen, scaled, logits);
    }
    if (options.eos && n < options.min_new_tokens) {
      logits = logits.clone();
      logits.select(1, *options.eos).fill_(-std::numeric_limits<double>::infinity());
    }
    const at::Tensor probabilities = sampling_probabilities(logits, options.sampling);
    at::Tensor next = sample_indices(probabilities, at::tensor(u, at::kDouble));
    next = at::where(active, next, at::full_like(next, options.pad));
    const at::Tensor log_p =
        policy_log_probs(logits, options.sampling.temperature).gather(1, next.unsqueeze(1));
    tokens.push_back(next);
    masks.push_back(active.clone());
    log_probs.push_back(log_p.squeeze(1) * active);
    if (options.eos) ended = ended | (active & (next == *options.eos));
    const at::Tensor still_active = active & ended.logical_not();
    if (options.on_step && !options.on_step(next, active)) {
      stopped = still_active.any().item<bool>();
      break;
    }
    if (n + 1 == N || !still_active.any().item<bool>()) break;
    if (seen.defined()) seen.scatter_(1, next.unsqueeze(1), active.unsqueeze(1));
    if (encoder_decoder) {
      // Every row's decoder runs in step (no padding inside it); the encoder's keys are cached.
      logits =
          policy(
              {.key_valid = prompt_valid, .decoder_token_ids = next.unsqueeze(1), .cache = &cache})
              .select(1, 0);
    } else {
      // The token just drawn is a real key for the rows that drew it while active.
      key_valid = at::cat({key_valid, active.unsqueeze(1)}, 1);
      logits = policy({.token_ids = next.unsqueeze(1),
                       .key_valid = key_valid,
                       .position_ids = next_position.unsqueeze(1),
                       .cache = &cache})
                   .select(1, 0);
    }
    next_position = next_position + active.to(at::kLong);
    active = still_active;
  }

  Rollout rollout;
  rollout.prompt_width = P;
  rollout.responses = at::stack(tokens, 1);
  rollout.response_mask = at::stack(masks, 1);
  rollout.log_probs = at::stack(log_probs, 1);
  rollout.sequences = at::cat({prompt_ids, rollout.responses}, 1);
  rollout.valid = at::cat({prompt_valid, rollout.response_mask}, 1);
  rollout.position_ids = positions_of(rollout.valid);
  rollout.lengths = rollout.response_mask.sum(1);
  rollout.ended_with_eos = ended;
  rollout.stopped = stopped;
  return rollout;
}

Rollout select_rows(const Rollout& rollout, const at::Tensor& rows) {
  Rollout part = rollout;
  for (at::Tensor* tensor :
       {&part.sequences, &part.valid, &part.position_ids, &part.responses, &part.response_mask,
        &part.log_probs, &part.lengths, &part.ended_with_eos})
    *tensor = tensor->index_select(0, rows);
  return part;
}

at::Tensor response_logits(const LogitsFunction& policy, const Rollout& rollout) {
  const std::int64_t P = rollout.prompt_width, L = rollout.sequences.size(1);
  const at::Tensor logits = policy({.token_ids = rollout.sequences,
                                    .key_valid = rollout.valid,
                                    .position_ids = rollout.position_ids});
  return logits.slice(1, P - 1, L - 1);  // (B, N, V)
}

at::Tensor token_log_probs(const at::Tensor& logits, const at::Tensor& tokens, double temperature) {
  TORCH_CHECK(logits.dim() == 3 && tokens.dim() == 2 && logits.size(0) == tokens.size(0) &&
                  logits.size(1) == tokens.size(1),
              "token_log_probs: logits (B, N, V) and tokens (B, N), got ", logits.sizes(), " and ",
              tokens.sizes());
  return policy_log_probs(logits, temperature).gather(2, tokens.unsqueeze(2)).squeeze(2);
}

at::Tensor token_entropy(const at::Tensor& logits, double temperature) {
  const at::Tensor log_p = policy_log_probs(logits, temperature);
  return -(log_p.exp() * log_p).sum(-1);
}

PackedSequences right_padded(const Rollout& rollout) {
  // A stable sort of "is padding" puts each row's real tokens first, in their order.
  const at::Tensor order = std::get<1>(at::sort(rollout.valid.logical_not().to(at::kInt),
                                                c10::optional<bool>(true), /*dim=*/1,
                                                /*descending=*/false));
  return {.token_ids = rollout.sequences.gather(1, order), .valid = rollout.valid.gather(1, order)};
}

std::vector<data::TokenId> response_text_tokens(const Rollout& rollout, std::int64_t row) {
  const std::int64_t length = rollout.lengths[row].item<std::int64_t>();
  const bool eos = rollout.ended_with_eos[row].item<bool>();
  const at::Tensor ids = rollout.responses[row].slice(0, 0, eos ? length - 1 : length).contiguous();
  return {ids.data_ptr<std::int64_t>(), ids.data_ptr<std::int64_t>() + ids.numel()};
}

}  // namespace sslx::rollout
