#include "objectives/policy_losses.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "util/error.h"

namespace sslx::objectives::rl {
namespace {

at::Tensor as_float(const at::Tensor& mask, const at::Tensor& like) {
  return mask.to(like.scalar_type());
}

// rewards (B) -> (B / G, G), checking that B is a whole number of groups.
at::Tensor grouped(const at::Tensor& x, std::int64_t group_size) {
  TORCH_CHECK(x.dim() == 1 && group_size > 0 && x.size(0) % group_size == 0,
              "group statistics: ", x.size(0), " rows are not whole groups of ", group_size);
  return x.reshape({-1, group_size});
}

}  // namespace

at::Tensor masked_sum(const at::Tensor& x, const at::Tensor& mask) {
  return (x * as_float(mask, x)).sum();
}

at::Tensor masked_mean(const at::Tensor& x, const at::Tensor& mask) {
  return masked_sum(x, mask) / as_float(mask, x).sum().clamp_min(1);
}

at::Tensor masked_whiten(const at::Tensor& x, const at::Tensor& mask, bool shift_mean) {
  const at::Tensor m = as_float(mask, x);
  const at::Tensor count = m.sum();
  const at::Tensor mean = masked_mean(x, mask);
  // Bessel's correction, as torch.var and TRL's masked_var.
  const at::Tensor variance = masked_sum((x - mean).pow(2), mask) / (count - 1).clamp_min(1);
  at::Tensor whitened = (x - mean) * at::rsqrt(variance + 1e-8);
  if (!shift_mean) whitened = whitened + mean;
  return whitened * m;
}

at::Tensor whiten_with(const at::Tensor& x, const at::Tensor& mask, double mean, double variance,
                       bool shift_mean) {
  at::Tensor whitened = (x - mean) / std::sqrt(variance + 1e-8);
  if (!shift_mean) whitened = whitened + mean;
  return whitened * as_float(mask, x);
}

at::Tensor kl_k1(const at::Tensor& log_p, const at::Tensor& ref_log_p) {
  return log_p - ref_log_p;
}

at::Tensor kl_k3(const at::Tensor& log_p, const at::Tensor& ref_log_p) {
  const at::Tensor log_ratio = ref_log_p - log_p;
  return log_ratio.exp() - log_ratio - 1;
}

at::Tensor ppo_token_rewards(const at::Tensor& scores, const at::Tensor& kl, const at::Tensor& mask,
                             double kl_coef) {
  TORCH_CHECK(kl.dim() == 2 && mask.sizes() == kl.sizes() && scores.dim() == 1 &&
                  scores.size(0) == kl.size(0),
              "ppo_token_rewards: scores (B), kl and mask (B, N), got ", scores.sizes(), ", ",
              kl.sizes(), " and ", mask.sizes());
  const at::Tensor m = as_float(mask, kl);
  at::Tensor rewards = -kl_coef * kl * m;
  // The last response token: index length - 1 (every row has at least one token).
  const at::Tensor last = (mask.sum(1) - 1).clamp_min(0).unsqueeze(1);  // (B, 1)
  const at::Tensor has_token = mask.any(1).to(kl.scalar_type());
  return rewards.scatter_add(1, last, (scores.to(kl.scalar_type()) * has_token).unsqueeze(1));
}

Advantages generalized_advantages(const at::Tensor& rewards, const at::Tensor& values,
                                  const at::Tensor& mask, double gamma, double lambda) {
  TORCH_CHECK(
      rewards.dim() == 2 && values.sizes() == rewards.sizes() && mask.sizes() == rewards.sizes(),
      "generalized_advantages: rewards, values and mask (B, N), got ", rewards.sizes(), ", ",
      values.sizes(), " and ", mask.sizes());
  const at::Tensor m = as_float(mask, rewards);
  const at::Tensor r = rewards * m, v = values * m;  // V = 0 after the last token
  const std::int64_t N = rewards.size(1);
  std::vector<at::Tensor> reversed;
  at::Tensor running = at::zeros_like(r.select(1, 0));
  for (std::int64_t t = N - 1; t >= 0; --t) {
    const at::Tensor next_value = t + 1 < N ? v.select(1, t + 1) : at::zeros_like(running);
    const at::Tensor delta = r.select(1, t) + gamma * next_value - v.select(1, t);
    running = (delta + gamma * lambda * running) * m.select(1, t);
    reversed.push_back(running);
  }
  std::reverse(reversed.begin(), reversed.end());
  const at::Tensor advantages = at::stack(reversed, 1);
  return {.advantages = advantages, .returns = (advantages + v) * m};
}

at::Tensor clipped_surrogate(const at::Tensor& log_p, const at::Tensor& old_log_p,
                             const at::Tensor& advantages, double clip) {
  const at::Tensor ratio = (log_p - old_log_p).exp();
  const at::Tensor unclipped = ratio * advantages;
  const at::Tensor clipped = ratio.clamp(1 - clip, 1 + clip) * advantages;
  return -at::minimum(unclipped, clipped);
}

at::Tensor clipped_tokens(const at::Tensor& log_p, const at::Tensor& old_log_p, double clip) {
  const at::Tensor ratio = (log_p - old_log_p).exp();
  return ((ratio < 1 - clip) | (ratio > 1 + clip)).to(log_p.scalar_type());
}

at::Tensor clipped_value_loss(const at::Tensor& values, const at::Tensor& old_values,
                              const at::Tensor& returns, double clip) {
  const at::Tensor clipped = old_values + (values - old_values).clamp(-clip, clip);
  return 0.5 * at::maximum((values - returns).pow(2), (clipped - returns).pow(2));
}

LossNormalisation loss_normalisation_from(const std::string& name) {
  if (name == "sequence_mean") return LossNormalisation::sequence_mean;
  if (name == "token_mean") return LossNormalisation::token_mean;
  if (name == "constant_length") return LossNormalisation::constant_length;
  throw Error("unknown loss normalisation \"" + name + "\"",
              "sequence_mean, token_mean or constant_length");
}

at::Tensor reduce_tokens_numerator(const at::Tensor& per_token, const at::Tensor& mask,
                                   LossNormalisation normalisation) {
  const at::Tensor m = as_float(mask, per_token);
  const at::Tensor masked = per_token * m;
  if (normalisation == LossNormalisation::sequence_mean) {
    // Rows without a token count with a zero loss, so a batch's scale does not depend on them.
    return (masked.sum(1) / m.sum(1).clamp_min(1)).sum();
  }
  return masked.sum();
}

double reduce_tokens_count(const at::Tensor& mask, LossNormalisation normalisation,
                           std::int64_t constant_length) {
  switch (normalisation) {
    case LossNormalisation::sequence_mean:
      return static_cast<double>(mask.size(0));
    case LossNormalisation::token_mean:
      return mask.sum().item<double>();
    case LossNormalisation::constant_length:
      TORCH_CHECK(constant_length > 0, "constant_length normalisation needs a length > 0");
      return static_cast<double>(mask.size(0) * constant_length);
  }
  return 1;
}

at::Tensor reduce_tokens(const at::Tensor& per_token, const at::Tensor& mask,
                         LossNormalisation normalisation, std::int64_t constant_length) {
  return reduce_tokens_numerator(per_token, mask, normalisation) /
         std::max(reduce_tokens_count(mask, normalisation, constant_length), 1.0);
}

at::Tensor group_advantages(const at::Tensor& rewards, const at::Tensor& valid,
                            std::int64_t group_size, bool scale_by_std, double eps) {
  const at::Tensor r = grouped(rewards.to(at::kDouble), group_size);
  const at::Tensor v = grouped(valid.to(at::kDouble), group_size);
  const at::Tensor count = v.sum(1, /*keepdim=*/true);
  const at::Tensor mean = (r * v).sum(1, true) / count.clamp_min(1);
  at::Tensor advantages = (r - mean) * v;
  if (scale_by_std) {
    const at::Tensor std = ((advantages.pow(2)).sum(1, true) / (count - 1).clamp_min(1)).sqrt();
    advantages = advantages / (std + eps);
  }
  advantages = advantages * (count >= 2).to(at::kDouble);
  return advantages.reshape({-1}).to(rewards.scalar_type());
}

at::Tensor leave_one_out_advantages(const at::Tensor& rewards, const at::Tensor& valid,
                                    std::int64_t group_size) {
  const at::Tensor r = grouped(rewards.to(at::kDouble), group_size);
  const at::Tensor v = grouped(valid.to(at::kDouble), group_size);
  const at::Tensor count = v.sum(1, true);
  const at::Tensor others = ((r * v).sum(1, true) - r * v) / (count - 1).clamp_min(1);
  const at::Tensor advantages = (r - others) * v * (count >= 2).to(at::kDouble);
  return advantages.reshape({-1}).to(rewards.scalar_type());
}

std::int64_t constant_groups(const at::Tensor& rewards, const at::Tensor& valid,
                             std::int64_t group_size) {
  const at::Tensor r = grouped(rewards.to(at::kDouble), group_size);
  const at::Tensor v = grouped(valid, group_size).to(at::kBool);
  const double inf = std::numeric_limits<double>::infinity();
  const at::Tensor high = at::where(v, r, at::full_like(r, -inf)).amax(1);
  const at::Tensor low = at::where(v, r, at::full_like(r, inf)).amin(1);
  return ((high == low) & (v.sum(1) >= 1)).sum().item<std::int64_t>();
}

PreferenceLoss preference_loss_from(const std::string& name) {
  if (name == "sigmoid") return PreferenceLoss::sigmoid;
  if (name == "ipo") return PreferenceLoss::ipo;
  throw Error("unknown preference loss \"" + name + "\"", "sigmoid (DPO) or ipo");
}

PreferenceTerms preference_losses(const at::Tensor& policy_chosen,
                                  const at::Tensor& policy_rejected,
                                  const at::Tensor& reference_chosen,
                                  const at::Tensor& reference_rejected, double beta,
                                  double label_smoothing, PreferenceLoss kind) {
  const at::Tensor chosen_ratio = policy_chosen - reference_chosen;
  const at::Tensor rejected_ratio = policy_rejected - reference_rejected;
  const at::Tensor h = chosen_ratio - rejected_ratio;
  at::Tensor losses;
  if (kind == PreferenceLoss::sigmoid) {
    // -log sigma(x) = softplus(-x), stable for large |x|.
    losses =
        (1 - label_smoothing) * at::softplus(-beta * h) + label_smoothing * at::softplus(beta * h);
  } else {
    losses = (h - 1 / (2 * beta)).pow(2);
  }
  return {.losses = losses,
          .chosen_rewards = (beta * chosen_ratio).detach(),
          .rejected_rewards = (beta * rejected_ratio).detach()};
}

}  // namespace sslx::objectives::rl
