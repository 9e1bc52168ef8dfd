// The policy-optimisation arithmetic (objectives/policy_losses.h) against values computed from the
// published formulas by an independent script: tests/python/policy_losses_reference.py, whose
// output is checked in as policy_losses_reference.txt. The inputs are the script's formulas.
#include "nn/torch_catch.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "objectives/policy_losses.h"

using namespace sslx::objectives::rl;

namespace {

constexpr std::int64_t B = 4, N = 5;
const std::vector<std::int64_t> kLengths{5, 3, 1, 4};

std::map<std::string, std::vector<double>> reference() {
  std::ifstream file(SSLX_SOURCE_DIR "/tests/python/policy_losses_reference.txt");
  REQUIRE(file.good());
  std::map<std::string, std::vector<double>> values;
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream in(line);
    std::string name;
    in >> name;
    double x;
    while (in >> x)
      values[name].push_back(x);
  }
  return values;
}

at::Tensor grid(const std::function<double(double, double)>& f) {
  at::Tensor x = torch::empty({B, N}, torch::kDouble);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t n = 0; n < N; ++n)
      x[b][n] = f(double(b), double(n));
  return x;
}

void check_close(const at::Tensor& got, const std::vector<double>& expected,
                 double tolerance = 1e-12) {
  const at::Tensor flat = got.to(torch::kDouble).reshape({-1}).contiguous();
  REQUIRE(flat.numel() == static_cast<std::int64_t>(expected.size()));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    CHECK(flat[static_cast<std::int64_t>(i)].item<double>() ==
          Approx(expected[i]).margin(tolerance));
  }
}

struct Inputs {
  at::Tensor log_p =
      grid([](double b, double n) { return -1.0 - 0.3 * std::sin(1.3 * b + 0.7 * n + 0.2); });
  at::Tensor old_log_p =
      log_p + grid([](double b, double n) { return 0.25 * std::sin(0.9 * b - 1.1 * n + 0.4); });
  at::Tensor ref_log_p =
      log_p + grid([](double b, double n) { return 0.4 * std::cos(0.5 * b + 0.8 * n); });
  at::Tensor values =
      grid([](double b, double n) { return 0.5 * std::sin(0.6 * b + 0.9 * n + 0.3); });
  at::Tensor old_values =
      values + grid([](double b, double n) { return 0.3 * std::cos(1.7 * b + 0.4 * n); });
  at::Tensor mask = grid([](double b, double n) {
                      return n < double(kLengths[std::size_t(b)]) ? 1 : 0;
                    }).to(torch::kBool);
  at::Tensor scores = torch::tensor({1.0, -0.5, 2.0, 0.25}, torch::kDouble);
};

}  // namespace

TEST_CASE("policy losses: KL estimators, PPO rewards, GAE, whitening match the reference") {
  const auto expected = reference();
  const Inputs in;
  const at::Tensor k1 = kl_k1(in.log_p, in.ref_log_p) * in.mask;
  check_close(k1, expected.at("k1"));
  check_close(kl_k3(in.log_p, in.ref_log_p) * in.mask, expected.at("k3"));
  const at::Tensor rewards = ppo_token_rewards(in.scores, k1, in.mask, 0.05);
  check_close(rewards, expected.at("ppo_rewards"));
  const Advantages gae = generalized_advantages(rewards, in.values, in.mask, 1.0, 0.95);
  check_close(gae.advantages, expected.at("gae_advantages"));
  check_close(gae.returns, expected.at("gae_returns"));
  const Advantages discounted = generalized_advantages(rewards, in.values, in.mask, 0.9, 0.8);
  check_close(discounted.advantages, expected.at("gae_advantages_0.9_0.8"));
  check_close(discounted.returns, expected.at("gae_returns_0.9_0.8"));
  check_close(masked_whiten(gae.advantages, in.mask), expected.at("whitened"));
}

TEST_CASE("policy losses: clipped surrogate, clip fraction, value loss and normalisations") {
  const auto expected = reference();
  const Inputs in;
  const at::Tensor rewards =
      ppo_token_rewards(in.scores, kl_k1(in.log_p, in.ref_log_p) * in.mask, in.mask, 0.05);
  const Advantages gae = generalized_advantages(rewards, in.values, in.mask, 1.0, 0.95);
  const at::Tensor white = masked_whiten(gae.advantages, in.mask);
  const at::Tensor surrogate = clipped_surrogate(in.log_p, in.old_log_p, white, 0.2);
  check_close(surrogate, expected.at("surrogate"));
  check_close(clipped_tokens(in.log_p, in.old_log_p, 0.2), expected.at("clipped"));
  check_close(clipped_value_loss(in.values, in.old_values, gae.returns, 0.2),
              expected.at("value_loss"));
  const auto& reduce = expected.at("reduce");
  CHECK(reduce_tokens(surrogate, in.mask, LossNormalisation::sequence_mean, 8).item<double>() ==
        Approx(reduce[0]).margin(1e-12));
  CHECK(reduce_tokens(surrogate, in.mask, LossNormalisation::token_mean, 8).item<double>() ==
        Approx(reduce[1]).margin(1e-12));
  CHECK(reduce_tokens(surrogate, in.mask, LossNormalisation::constant_length, 8).item<double>() ==
        Approx(reduce[2]).margin(1e-12));
  // Negative control: the three normalisations really differ on ragged lengths.
  CHECK(std::abs(reduce[0] - reduce[1]) > 1e-2);
}

TEST_CASE("policy losses: two ranks' halves, divided by counts over both, reduce as one batch") {
  // Rows 0-1 on one rank, rows 2-3 on the other (ragged lengths 5, 3 | 1, 4), in float64: what
  // a data-parallel step computes must equal the whole batch's value up to rounding.
  const Inputs in;
  const at::Tensor x = in.log_p - in.old_log_p;
  const at::Tensor first = at::arange(0, 2), second = at::arange(2, 4);
  for (const auto normalisation : {LossNormalisation::sequence_mean, LossNormalisation::token_mean,
                                   LossNormalisation::constant_length}) {
    const double whole = reduce_tokens(x, in.mask, normalisation, 8).item<double>();
    double numerator = 0, count = 0, own_means = 0;
    for (const auto& rows : {first, second}) {
      const at::Tensor part = x.index_select(0, rows), mask = in.mask.index_select(0, rows);
      numerator += reduce_tokens_numerator(part, mask, normalisation).item<double>();
      count += reduce_tokens_count(mask, normalisation, 8);
      own_means += reduce_tokens(part, mask, normalisation, 8).item<double>() / 2;
    }
    CHECK(numerator / count == Approx(whole).margin(1e-12));
    // Negative control: the mean of each half's own reduction (DDP's convention) differs where
    // the halves hold different token counts.
    if (normalisation == LossNormalisation::token_mean) CHECK(std::abs(own_means - whole) > 1e-3);
  }
  // Whitening with the mean and variance of both halves together: the whole batch's.
  const at::Tensor m = in.mask.to(torch::kDouble);
  const double count = m.sum().item<double>();
  const double mean = (x * m).sum().item<double>() / count;
  const double variance = ((x - mean).pow(2) * m).sum().item<double>() / (count - 1);
  const at::Tensor whole = masked_whiten(x, in.mask);
  for (const auto& rows : {first, second}) {
    const at::Tensor part =
        whiten_with(x.index_select(0, rows), in.mask.index_select(0, rows), mean, variance);
    CHECK((part - whole.index_select(0, rows)).abs().max().item<double>() < 1e-12);
  }
  // Negative control: a half whitened on its own statistics is not.
  CHECK((masked_whiten(x.index_select(0, first), in.mask.index_select(0, first)) -
         whole.index_select(0, first))
            .abs()
            .max()
            .item<double>() > 1e-2);
}

TEST_CASE("policy losses: GRPO and RLOO baselines leave invalid rows out of the statistics") {
  const auto expected = reference();
  const at::Tensor rewards = torch::tensor({1.0, -0.5, 2.0, 2.0, 0.3, -1.2}, torch::kDouble);
  const at::Tensor valid = torch::tensor({1, 1, 1, 1, 0, 1}, torch::kBool);
  check_close(group_advantages(rewards, valid, 3, true), expected.at("grpo_g3"));
  check_close(group_advantages(rewards, valid, 3, false), expected.at("grpo_g3_no_std"));
  check_close(group_advantages(rewards, valid, 2, true), expected.at("grpo_g2"));
  check_close(leave_one_out_advantages(rewards, valid, 3), expected.at("rloo_g3"));
  check_close(leave_one_out_advantages(rewards, valid, 2), expected.at("rloo_g2"));
  // The row without a response would shift its group's mean if it leaked in: 0.3 is not -1.2.
  const at::Tensor leaked = group_advantages(rewards, torch::ones({6}, torch::kBool), 3, false);
  CHECK(leaked[5].item<double>() != Approx(expected.at("grpo_g3_no_std")[5]).margin(1e-3));
  // Groups of two: [2, 2] is constant; [0.3 (invalid), -1.2] has one valid row, also constant.
  CHECK(constant_groups(rewards, valid, 2) == 2);
  CHECK(constant_groups(rewards, valid, 3) == 0);
  CHECK_THROWS(group_advantages(rewards, valid, 4, true));  // 6 rows are not groups of 4
}

TEST_CASE("policy losses: DPO, conservative DPO and IPO match the reference") {
  const auto expected = reference();
  const auto t = [](std::vector<double> v) { return torch::tensor(v, torch::kDouble); };
  const at::Tensor pc = t({-3.2, -5.0, -1.1, -7.3}), pr = t({-4.1, -4.9, -2.5, -6.0});
  const at::Tensor rc = t({-3.5, -4.6, -1.9, -7.0}), rr = t({-3.9, -5.2, -2.2, -6.6});
  const PreferenceTerms dpo = preference_losses(pc, pr, rc, rr, 0.1, 0.0, PreferenceLoss::sigmoid);
  check_close(dpo.losses, expected.at("dpo_0.1"));
  check_close(dpo.chosen_rewards, expected.at("dpo_chosen_rewards_0.1"));
  check_close(preference_losses(pc, pr, rc, rr, 0.1, 0.2, PreferenceLoss::sigmoid).losses,
              expected.at("dpo_0.1_smooth_0.2"));
  check_close(preference_losses(pc, pr, rc, rr, 0.5, 0.0, PreferenceLoss::ipo).losses,
              expected.at("ipo_0.5"));
  // With the policy equal to the reference every pair costs log 2 (DPO) and 1/(4 beta^2) (IPO).
  const PreferenceTerms start =
      preference_losses(rc, rr, rc, rr, 0.1, 0.0, PreferenceLoss::sigmoid);
  CHECK(start.losses.mean().item<double>() == Approx(std::log(2.0)).margin(1e-12));
}

TEST_CASE("policy losses: k3 is never negative where k1 is - the score sits on the last token") {
  const Inputs in;
  const at::Tensor k1 = kl_k1(in.log_p, in.ref_log_p);
  const at::Tensor k3 = kl_k3(in.log_p, in.ref_log_p);
  CHECK((k1 < 0).any().item<bool>());
  CHECK((k3 >= 0).all().item<bool>());
  // Only the score: it lands at index length - 1 of each row, never on padding.
  const at::Tensor rewards = ppo_token_rewards(in.scores, torch::zeros_like(k1), in.mask, 0.05);
  for (std::int64_t b = 0; b < B; ++b) {
    for (std::int64_t n = 0; n < N; ++n) {
      const double expected = n == kLengths[std::size_t(b)] - 1 ? in.scores[b].item<double>() : 0.0;
      CHECK(rewards[b][n].item<double>() == expected);
    }
  }
}
