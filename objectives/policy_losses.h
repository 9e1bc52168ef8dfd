// The arithmetic of policy optimisation, as pure functions on tensors: KL estimators, PPO's
// per-token rewards, GAE, whitening, the clipped surrogate and value losses, GRPO's and RLOO's
// group baselines, the loss normalisations in use, and DPO / IPO. The objectives (ppo, grpo,
// rloo, dpo) compose them; tests check each against values computed from the published formulas
// by an independent script (tests/python/policy_losses_reference.py).
//
// Dimensions: B sequences (rollout rows or preference pairs), N response positions, G samples
// per prompt. `mask` (B, N) bool marks response tokens (up to and including EOS); everything
// outside it is padding and never contributes.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace sslx::objectives::rl {

// Sum and mean of x over the mask (scalars).
at::Tensor masked_sum(const at::Tensor& x, const at::Tensor& mask);
at::Tensor masked_mean(const at::Tensor& x, const at::Tensor& mask);
// (x - mean) / sqrt(var + 1e-8) over the mask, var with Bessel's correction (as TRL's
// masked_whiten); with shift_mean false the mean is added back. 0 outside the mask.
at::Tensor masked_whiten(const at::Tensor& x, const at::Tensor& mask, bool shift_mean = true);
// (x - mean) / sqrt(variance + 1e-8) on the mask with a given mean and variance (a data-parallel
// step's, over every rank's tokens); with shift_mean false the mean is added back. 0 elsewhere.
at::Tensor whiten_with(const at::Tensor& x, const at::Tensor& mask, double mean, double variance,
                       bool shift_mean = true);

// Per-token estimators of KL(pi || ref) from the log-probabilities of the sampled tokens:
// k1 = log pi - log ref (unbiased, may be negative), k3 = exp(ref - pi) - (ref - pi) - 1
// (unbiased, never negative: Schulman's "Approximating KL divergence").
at::Tensor kl_k1(const at::Tensor& log_p, const at::Tensor& ref_log_p);
at::Tensor kl_k3(const at::Tensor& log_p, const at::Tensor& ref_log_p);

// PPO's per-token rewards (B, N): -kl_coef * kl on every response token, plus scores (B) on the
// last response token of each row (its EOS, or its last token when it has none); 0 on padding.
at::Tensor ppo_token_rewards(const at::Tensor& scores, const at::Tensor& kl, const at::Tensor& mask,
                             double kl_coef);

// Generalised advantage estimation over the response tokens: delta_t = r_t + gamma V_{t+1} - V_t
// with V = 0 after the last token, A_t = delta_t + gamma lambda A_{t+1}; returns = A + V.
struct Advantages {
  at::Tensor advantages;  // (B, N), 0 outside the mask
  at::Tensor returns;     // (B, N), 0 outside the mask
};
Advantages generalized_advantages(const at::Tensor& rewards, const at::Tensor& values,
                                  const at::Tensor& mask, double gamma, double lambda);

// PPO's clipped surrogate per token (B, N): -min(rho A, clip(rho, 1 - eps, 1 + eps) A) with
// rho = exp(log_p - old_log_p); advantages (B, N), or (B, 1) for one per sequence.
at::Tensor clipped_surrogate(const at::Tensor& log_p, const at::Tensor& old_log_p,
                             const at::Tensor& advantages, double clip);
// Tokens whose ratio left [1 - eps, 1 + eps] (B, N) float: the clip fraction's numerator.
at::Tensor clipped_tokens(const at::Tensor& log_p, const at::Tensor& old_log_p, double clip);
// PPO's clipped value loss per token: 0.5 max((V - R)^2, (V_old + clip(V - V_old, +-eps) - R)^2).
at::Tensor clipped_value_loss(const at::Tensor& values, const at::Tensor& old_values,
                              const at::Tensor& returns, double clip);

// How per-token losses (B, N) become one number.
enum class LossNormalisation {
  sequence_mean,    // mean over sequences of each sequence's token mean (GRPO as published)
  token_mean,       // sum over every token of the batch / their count (DAPO)
  constant_length,  // sum over every token / (B * max_new_tokens) (Dr. GRPO)
};
LossNormalisation loss_normalisation_from(const std::string& name);
// constant_length: the N of the normalisation (max_new_tokens), not the batch's widest response.
at::Tensor reduce_tokens(const at::Tensor& per_token, const at::Tensor& mask,
                         LossNormalisation normalisation, std::int64_t constant_length);
// reduce_tokens in two halves, numerator / max(count, 1), so that a data-parallel step divides
// the numerator by the count over every rank's batch: the numerator sums each sequence's token
// mean (sequence_mean) or every token (the others); the count is the rows (sequence_mean), the
// tokens (token_mean) or rows * constant_length.
at::Tensor reduce_tokens_numerator(const at::Tensor& per_token, const at::Tensor& mask,
                                   LossNormalisation normalisation);
double reduce_tokens_count(const at::Tensor& mask, LossNormalisation normalisation,
                           std::int64_t constant_length);

// Group-relative advantages (GRPO): rewards (B) in consecutive groups of `group_size`, each row
// minus its group's mean, divided by the group's std (Bessel) + eps when scale_by_std. Rows with
// valid[b] false (no response token) are left out of their group's statistics and get 0; a
// group of fewer than two valid rows gives 0.
at::Tensor group_advantages(const at::Tensor& rewards, const at::Tensor& valid,
                            std::int64_t group_size, bool scale_by_std, double eps = 1e-4);
// RLOO: each row's reward minus the mean of the other valid rows of its group.
at::Tensor leave_one_out_advantages(const at::Tensor& rewards, const at::Tensor& valid,
                                    std::int64_t group_size);
// Groups (of valid rows) whose rewards are all equal: they give no policy gradient.
std::int64_t constant_groups(const at::Tensor& rewards, const at::Tensor& valid,
                             std::int64_t group_size);

// DPO and IPO on sequence log-probabilities (B) of the chosen and rejected responses under the
// policy and the frozen reference. h = (pc - rc) - (pr - rr);
//   sigmoid: -(1 - s) log sigma(beta h) - s log sigma(-beta h) (s = label smoothing: cDPO)
//   ipo:     (h - 1 / (2 beta))^2
// The implicit rewards are beta (pc - rc) and beta (pr - rr).
enum class PreferenceLoss { sigmoid, ipo };
PreferenceLoss preference_loss_from(const std::string& name);
struct PreferenceTerms {
  at::Tensor losses;            // (B)
  at::Tensor chosen_rewards;    // (B), detached
  at::Tensor rejected_rewards;  // (B), detached
};
PreferenceTerms preference_losses(const at::Tensor& policy_chosen,
                                  const at::Tensor& policy_rejected,
                                  const at::Tensor& reference_chosen,
                                  const at::Tensor& reference_rejected, double beta,
                                  double label_smoothing, PreferenceLoss kind);

}  // namespace sslx::objectives::rl
