// The alignment objectives (dpo, grpo, rloo) trained by the unchanged Trainer on toy problems
// whose optimum is known in closed form: one prompt, responses of one token, so the policy's
// whole distribution can be enumerated and compared with the optimum by total variation.
//
//   RLOO (KL-shaped reward):  pi*(y) ∝ ref(y) exp(r(y) / beta), the KL-regularised optimum.
//   DPO (preferences in exact Bradley-Terry proportions, w = exp(r)): over the responses "y EOS",
//     pi(y EOS) ∝ ref(y EOS) exp(r(y) / beta).
// Each has a negative control (the reward's sign flipped, or the other optimum) that fails the
// bound.
#include "nn/torch_catch.h"

#include <signal.h>

#include <cmath>
#include <functional>

#include "data/byte_tokenizer.h"
#include "log/run_log.h"
#include "objectives/dpo.h"
#include "objectives/group_policy.h"
#include "objectives/ppo.h"
#include "objectives/reward.h"
#include "training_fixture.h"

using namespace sslx;

namespace {

constexpr data::TokenId kByte = data::ByteTokenizer::kFirstByte;
double g_reward_sign = 1.0;
int g_interrupt_at_call = 0;  // raise SIGINT at this call of the reward (0: never)
int g_crash_at_call = 0;      // throw at this call: a crash between two checkpoints
int g_reward_calls = 0;

// Every token has its own reward, so every sample carries signal from the first step.
double reward_of(std::int64_t token) {
  return 2.0 * std::sin(1.7 * static_cast<double>(token));
}

// A programmatic reward on token ids, registered the way a plugin registers one.
class TokenTableReward : public objectives::Reward {
 public:
  at::Tensor score(const objectives::RewardQuery& query) override {
    ++g_reward_calls;
    if (g_reward_calls == g_interrupt_at_call) raise(SIGINT);
    if (g_reward_calls == g_crash_at_call) throw std::runtime_error("crash in the reward");
    const at::Tensor first = query.rollout.responses.select(1, 0).contiguous();
    std::vector<float> scores;
    for (std::int64_t b = 0; b < first.size(0); ++b)
      scores.push_back(
          static_cast<float>(g_reward_sign * reward_of(first[b].item<std::int64_t>())));
    return torch::tensor(scores);
  }
};

void register_test_reward() {
  objectives::register_builtin_rewards();
  if (objectives::reward_registry().contains("test_token_table")) return;
  objectives::reward_registry().add(
      "test_token_table", "r = a table of the first response token (test)", config::Schema{},
      [](const config::Node&, const objectives::RewardContext&) {
        return std::make_unique<TokenTableReward>();
      });
}

std::string data_section() {
  return "[data]\nsource = \"markov\"\ndocuments = 20\ndocument_length = 16\nstates = 8\n";
}

// The prompt "Q" as its token ids.
const std::vector<std::int64_t> kPrompt{kByte + 'Q'};

// The policy's next-token distribution (V) after `context`.
at::Tensor next_token_distribution(objectives::LanguageModelImpl& model,
                                   const std::vector<std::int64_t>& context) {
  const at::NoGradGuard no_grad;
  model.eval();
  const at::Tensor logits = model.logits({.token_ids = torch::tensor(context).reshape({1, -1})});
  return torch::softmax(logits[0][-1].to(torch::kDouble), 0);
}

double total_variation(const at::Tensor& p, const at::Tensor& q) {
  return 0.5 * (p - q).abs().sum().item<double>();
}

at::Tensor reward_table(std::int64_t V) {
  at::Tensor r = torch::empty({V}, torch::kDouble);
  for (std::int64_t y = 0; y < V; ++y)
    r[y] = reward_of(y);
  return r;
}

// ref(y) exp(r(y) / beta), normalised.
at::Tensor forward_kl_optimum(const at::Tensor& ref, const at::Tensor& r, double beta) {
  const at::Tensor weights = ref * torch::exp(r / beta);
  return weights / weights.sum();
}

// beta ref(y) / (lambda - c r(y)) with lambda > c max r chosen so that it sums to 1 (bisection:
// the sum falls monotonically in lambda).
at::Tensor reverse_kl_optimum(const at::Tensor& ref, const at::Tensor& r, double beta, double c) {
  const auto mass = [&](double lambda) {
    return (beta * ref / (lambda - c * r)).sum().item<double>();
  };
  double low = c * r.max().item<double>() + 1e-12, high = low + beta + 10;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (low + high);
    (mass(mid) > 1 ? low : high) = mid;
  }
  return beta * ref / (0.5 * (low + high) - c * r);
}

std::string prompts_file(const test::TempDir& dir) {
  const auto path = dir / "prompts.jsonl";
  test::write_file(path, "{\"prompt\": \"Q\", \"completion\": \"\"}\n");
  return path.string();
}

std::string group_policy_config(const test::TempDir& dir, const std::string& name,
                                const std::string& extra) {
  const std::string prompts = prompts_file(dir);
  return data_section() + "[objective]\nname = \"" + name + "\"\ntrain_files = [\"" + prompts +
         "\"]\nvalidation_files = [\"" + prompts +
         "\"]\ngroup_size = 8\nmax_new_tokens = 1\nbeta = 1.0\nreward = { name = "
         "\"test_token_table\" }\n" +
         extra +
         "[schedule]\nname = \"cosine\"\nlr = 0.05\nwarmup_steps = 0\ntotal_steps = "
         "400\nfinal_lr_fraction = 0.01\n"
         "[trainer]\nmax_steps = 400\nbatch_size = 16\nsequence_length = 8\neval_every = 0\n"
         "clip_grad_norm = 0.0\ncheckpoint_every = 1000\n";
}

struct Trained {
  at::Tensor policy;     // (V) after the prompt
  at::Tensor reference;  // (V)
};

Trained train_group_policy(const std::string& name, const std::string& extra, double sign) {
  register_test_reward();
  g_reward_sign = sign;
  test::TempDir dir;
  test::TrainingFixture fixture(dir, group_policy_config(dir, name, extra), name);
  fixture.trainer->run();
  g_reward_sign = 1.0;
  auto& objective = dynamic_cast<objectives::GroupPolicyObjective&>(*fixture.objective);
  auto& policy = dynamic_cast<objectives::LanguageModelImpl&>(objective.model());
  return {next_token_distribution(policy, kPrompt),
          next_token_distribution(objective.reference(), kPrompt)};
}

}  // namespace

TEST_CASE("rloo converges to the KL-regularised optimum ref exp(r / beta)") {
  const Trained run = train_group_policy("rloo", "", 1.0);
  const at::Tensor r = reward_table(run.policy.size(0));
  const at::Tensor target = forward_kl_optimum(run.reference, r, 1.0);
  const double tv = total_variation(run.policy, target);
  const double start = total_variation(run.reference, target);
  INFO("TV(policy, pi*) " << tv << ", at the start " << start);
  WARN("rloo: TV(policy, pi*) " << tv << ", at the start " << start);
  CHECK(start > 0.4);
  CHECK(tv < 0.02);
  // Negative control: the reward with its sign flipped ends far from pi*.
  const Trained flipped = train_group_policy("rloo", "", -1.0);
  INFO("TV of the flipped run " << total_variation(flipped.policy, target));
  CHECK(total_variation(flipped.policy, target) > 0.5);
}

std::string ppo_config(const test::TempDir& dir, const std::string& extra) {
  const std::string prompts = prompts_file(dir);
  return data_section() + "[objective]\nname = \"ppo\"\ntrain_files = [\"" + prompts +
         "\"]\nvalidation_files = [\"" + prompts +
         "\"]\nmax_new_tokens = 1\nkl_coef = 1.0\nreward = { name = "
         "\"test_token_table\" }\n" +
         extra +
         "[schedule]\nname = \"cosine\"\nlr = 0.05\nwarmup_steps = 0\ntotal_steps = 400\n"
         "final_lr_fraction = 0.01\n"
         "[trainer]\nmax_steps = 400\nbatch_size = 128\nsequence_length = 8\neval_every = 0\n"
         "clip_grad_norm = 0.0\ncheckpoint_every = 1000\n";
}

Trained train_ppo(const std::string& extra, double sign) {
  register_test_reward();
  g_reward_sign = sign;
  test::TempDir dir;
  // One epoch of one mini-batch: the plain policy gradient, whose optimum is known.
  test::TrainingFixture fixture(dir, ppo_config(dir, "epochs = 1\n" + extra), "ppo");
  fixture.trainer->run();
  g_reward_sign = 1.0;
  auto& objective = dynamic_cast<objectives::PpoObjective&>(*fixture.objective);
  auto& policy = dynamic_cast<objectives::LanguageModelImpl&>(objective.model());
  return {next_token_distribution(policy, kPrompt),
          next_token_distribution(objective.reference(), kPrompt)};
}

TEST_CASE("ppo converges to the KL-regularised optimum ref exp(r / beta)") {
  const Trained run = train_ppo("", 1.0);
  const at::Tensor r = reward_table(run.policy.size(0));
  const at::Tensor target = forward_kl_optimum(run.reference, r, 1.0);
  const double tv = total_variation(run.policy, target);
  const double start = total_variation(run.reference, target);
  WARN("ppo: TV(policy, pi*) " << tv << ", at the start " << start);
  CHECK(start > 0.4);
  CHECK(tv < 0.02);
  const Trained flipped = train_ppo("", -1.0);
  WARN("ppo: TV of the flipped run " << total_variation(flipped.policy, target));
  CHECK(total_variation(flipped.policy, target) > 0.5);
}

TEST_CASE("grpo converges to the optimum of what it optimises: reverse KL, reward scaled 1-1/G") {
  const Trained run = train_group_policy("grpo", "scale_by_std = false\n", 1.0);
  const at::Tensor r = reward_table(run.policy.size(0));
  const at::Tensor target = reverse_kl_optimum(run.reference, r, 1.0, 1.0 - 1.0 / 8);
  const at::Tensor forward = forward_kl_optimum(run.reference, r, 1.0);
  const double tv = total_variation(run.policy, target);
  WARN("grpo: TV(policy, reverse-KL optimum) "
       << tv << ", TV(policy, ref exp(r/beta)) " << total_variation(run.policy, forward)
       << ", between the optima " << total_variation(target, forward));
  CHECK(tv < 0.06);
  // Negative control: the forward-KL optimum is not where GRPO goes.
  CHECK(total_variation(run.policy, forward) > 0.09);
}

TEST_CASE("ppo crashed between two checkpoints resumes to the uninterrupted run's end") {
  register_test_reward();
  const auto config = [](const test::TempDir& dir) {
    std::string text = ppo_config(dir, "epochs = 2\nminibatches = 2\n");
    text.replace(text.find("max_steps = 400"), 15, "max_steps = 10");
    text.replace(text.find("batch_size = 128"), 16, "batch_size = 16");
    text.replace(text.find("checkpoint_every = 1000"), 23, "checkpoint_every = 4\nlog_every = 1");
    return text;
  };
  test::TempDir whole_dir, crash_dir;
  g_crash_at_call = 0;
  test::TrainingFixture whole(whole_dir, config(whole_dir), "run");
  REQUIRE(whole.trainer->run() == train::RunOutcome::kCompleted);
  {
    // The reward throws during step 6: the last checkpoint is step 4, steps 5 and 6 are redone.
    g_reward_calls = 0;
    g_crash_at_call = 6;
    test::TrainingFixture first(crash_dir, config(crash_dir), "run");
    CHECK_THROWS_WITH(first.trainer->run(), Catch::Contains("crash in the reward"));
    g_crash_at_call = 0;
  }
  test::TrainingFixture resumed(crash_dir, config(crash_dir), "run");
  REQUIRE(resumed.trainer->run() == train::RunOutcome::kCompleted);
  const auto expected = whole.parameters();
  const auto got = resumed.parameters();
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK(torch::equal(got[i], expected[i]));
  const log::RunLogReader whole_log(whole.paths.log), resumed_log(resumed.paths.log);
  for (const std::string name : {"loss", "reward", "value_loss", "kl_coef"}) {
    INFO(name);
    CHECK(resumed_log.read("train", name).steps == whole_log.read("train", name).steps);
    CHECK(resumed_log.read("train", name).values == whole_log.read("train", name).values);
  }
  CHECK(resumed_log.read("train", "value_loss").values.size() == 10);
}

TEST_CASE("grpo logs the KL it trains with - a run interrupted mid-way resumes to the same end") {
  register_test_reward();
  const auto config = [](const test::TempDir& dir) {
    std::string text = group_policy_config(dir, "grpo", "");
    // 12 steps, a row every step, a checkpoint every 4: the interruption lands between two.
    text.replace(text.find("max_steps = 400"), 15, "max_steps = 12");
    text.replace(text.find("checkpoint_every = 1000"), 23, "checkpoint_every = 4\nlog_every = 1");
    return text;
  };
  test::TempDir whole_dir, split_dir;
  g_interrupt_at_call = 0;
  test::TrainingFixture whole(whole_dir, config(whole_dir), "run");
  REQUIRE(whole.trainer->run() == train::RunOutcome::kCompleted);
  const log::RunLogReader whole_log(whole.paths.log);
  const auto k3 = whole_log.read("train", "kl_k3").values;
  REQUIRE(k3.size() == 12);
  for (const double value : k3)
    CHECK(value >= 0);
  CHECK(k3.back() > 0);  // the policy has moved away from the reference

  {
    // The reward raises SIGINT during step 6: the trainer finishes the step, checkpoints, stops.
    g_reward_calls = 0;
    g_interrupt_at_call = 6;
    test::TrainingFixture first(split_dir, config(split_dir), "run");
    CHECK(first.trainer->run() == train::RunOutcome::kInterrupted);
    g_interrupt_at_call = 0;
    CHECK(first.trainer->state().step == 6);
  }
  test::TrainingFixture resumed(split_dir, config(split_dir), "run");
  REQUIRE(resumed.trainer->run() == train::RunOutcome::kCompleted);
  const auto expected = whole.parameters();
  const auto got = resumed.parameters();
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK(torch::equal(got[i], expected[i]));
  const log::RunLogReader resumed_log(resumed.paths.log);
  for (const std::string name : {"loss", "reward", "kl_k3"}) {
    INFO(name);
    CHECK(resumed_log.read("train", name).steps == whole_log.read("train", name).steps);
    CHECK(resumed_log.read("train", name).values == whole_log.read("train", name).values);
  }
}

TEST_CASE("dpo reaches pi(y EOS) ∝ ref(y EOS) exp(r / beta) on exact Bradley-Terry preferences") {
  const auto train = [](bool flip) {
    test::TempDir dir;
    // Every ordered pair (a, b) appears w_a times with a chosen: P(a > b) = w_a / (w_a + w_b),
    // the Bradley-Terry model of r = log w.
    std::string pairs;
    const std::vector<int> w{1, 2, 3, 4};
    for (int a = 0; a < 4; ++a) {
      for (int b = 0; b < 4; ++b) {
        if (a == b) continue;
        for (int k = 0; k < w[a]; ++k) {
          const std::string chosen(1, char('a' + (flip ? b : a)));
          const std::string rejected(1, char('a' + (flip ? a : b)));
          pairs += "{\"prompt\": \"Q\", \"chosen\": \"" + chosen + "\", \"rejected\": \"" +
                   rejected + "\"}\n";
        }
      }
    }
    test::write_file(dir / "pairs.jsonl", pairs);
    const std::string file = (dir / "pairs.jsonl").string();
    test::TrainingFixture fixture(
        dir,
        data_section() + "[objective]\nname = \"dpo\"\ntrain_files = [\"" + file +
            "\"]\nvalidation_files = [\"" + file +
            "\"]\nbeta = 1.0\n"
            "[schedule]\nname = \"constant\"\nlr = 0.02\nwarmup_steps = 0\n"
            "[trainer]\nmax_steps = 300\nbatch_size = 30\nsequence_length = 8\neval_every = 0\n"
            "clip_grad_norm = 0.0\ncheckpoint_every = 1000\neval_at_start = true\n",
        "dpo");
    fixture.trainer->run();
    auto& objective = dynamic_cast<objectives::DpoObjective&>(*fixture.objective);
    auto& policy = dynamic_cast<objectives::LanguageModelImpl&>(objective.model());
    const auto eos = fixture.data.tokenizer->specials().require_eos();
    // q(y) ∝ model(y | Q) model(EOS | Q y) over the four responses.
    const auto responses = [&](objectives::LanguageModelImpl& model) {
      const at::Tensor first = next_token_distribution(model, kPrompt);
      at::Tensor q = torch::empty({4}, torch::kDouble);
      for (int k = 0; k < 4; ++k) {
        const std::int64_t y = kByte + 'a' + k;
        q[k] = first[y] * next_token_distribution(model, {kPrompt[0], y})[eos];
      }
      return q;
    };
    const log::RunLogReader reader(fixture.paths.log);
    return std::make_tuple(responses(policy), responses(objective.reference()),
                           reader.read("val", "loss").values);
  };
  const auto [policy, reference, val] = train(false);
  // Before any step the policy is the reference: every pair costs log 2.
  CHECK(val.front() == Approx(std::log(2.0)).epsilon(1e-6));
  const at::Tensor w = torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kDouble);
  const at::Tensor target = reference * w / (reference * w).sum();
  const at::Tensor normalised = policy / policy.sum();
  const double tv = total_variation(normalised, target);
  INFO("DPO: TV(q, q*) " << tv << ", at the start "
                         << total_variation(reference / reference.sum(), target));
  CHECK(tv < 0.03);
  const auto [flipped, flipped_reference, flipped_val] = train(true);
  INFO("flipped labels: TV " << total_variation(flipped / flipped.sum(), target));
  CHECK(total_variation(flipped / flipped.sum(), target) > 0.3);
}

TEST_CASE("grpo scored by a reward_model run's checkpoint, through sslx run - wrong checkpoints") {
  test::TempDir dir;
  const std::string pairs = SSLX_SOURCE_DIR "/tests/data/preferences.jsonl";
  const std::string common =
      "defaults = [{ model = \"tiny\" }]\nseed = 2\n" + data_section() +
      "[schedule]\nname = \"constant\"\nlr = 0.003\nwarmup_steps = 0\n"
      "[trainer]\nmax_steps = 4\nbatch_size = 2\nsequence_length = 48\neval_every = 0\n";
  test::write_file(dir / "reward.toml", common +
                                            "[objective]\nname = \"reward_model\"\n"
                                            "train_files = [\"" +
                                            pairs + "\"]\nvalidation_files = [\"" + pairs +
                                            "\"]\n");
  const auto run = [&](const std::string& file, const std::string& out) {
    return test::run_sslx({"run", (dir / file).string(), "--out", (dir / out).string(),
                           "--config-dir", SSLX_SOURCE_DIR "/configs"});
  };
  const auto reward = run("reward.toml", "reward");
  INFO(reward.err);
  REQUIRE(reward.exit_code == 0);
  const auto grpo_config = [&](const std::string& checkpoint) {
    return common +
           "[objective]\nname = \"grpo\"\nprompt_format = \"preferences\"\n"
           "train_files = [\"" +
           pairs + "\"]\nvalidation_files = [\"" + pairs +
           "\"]\ngroup_size = 2\nmax_new_tokens = 6\n"
           "reward = { name = \"reward_model\", checkpoint = \"" +
           checkpoint + "\" }\n";
  };
  test::write_file(dir / "grpo.toml", grpo_config((dir / "reward/base").string()));
  const auto grpo = run("grpo.toml", "grpo");
  INFO(grpo.err);
  REQUIRE(grpo.exit_code == 0);
  CHECK_THAT(grpo.err, Catch::Contains("reward: reward model"));
  const log::RunLogReader log(dir / "grpo/base/log.h5");
  CHECK(log.status() == log::RunStatus::kCompleted);
  for (const std::string name : {"reward", "kl_k3", "response_length", "eos_fraction"})
    CHECK(log.read("train", name).values.size() >= 1);
  CHECK(log.read("val", "reward").values.size() >= 1);

  // A run of another objective, and a folder without a checkpoint, are refused by name before
  // the job starts (exit code 3: the config's check).
  test::write_file(dir / "wrong.toml", grpo_config((dir / "grpo/base").string()));
  const auto wrong = run("wrong.toml", "wrong");
  CHECK(wrong.exit_code == 3);
  CHECK_THAT(wrong.err, Catch::Contains("objective.reward.checkpoint: the run at " +
                                        (dir / "grpo/base").string() +
                                        " trained objective 'grpo'; expected a run of "
                                        "reward_model"));
  test::write_file(dir / "missing.toml", grpo_config((dir / "nothing").string()));
  const auto missing = run("missing.toml", "missing");
  CHECK(missing.exit_code == 3);
  CHECK_THAT(missing.err, Catch::Contains("objective.reward.checkpoint"));
}
