// The `alignment` evaluator: how far a policy moved from its reference and what that bought, on
// held-out prompts. It samples responses from the checkpoint's policy and reports
//   alignment/proxy_reward   the trained reward model's score (the reward that was optimised)
//   alignment/gold_reward    a reward the policy never saw ([eval.alignment.gold])
//   alignment/kl             KL(policy || reference) per response: the mean over samples of
//                            sum_t log pi(y_t) - log pi_ref(y_t), an unbiased estimate
//   alignment/win_rate       how often the gold reward prefers the policy's response to the
//                            reference's response to the same prompt (ties count 1/2)
//   alignment/response_length, alignment/eos_fraction
// and, for every n of best_of_n, the best-of-n baseline drawn from this checkpoint: n samples per
// prompt, the proxy's favourite kept; alignment/best_of_<n>/{proxy_reward,gold_reward,kl} with
// the analytic KL log n - (n - 1) / n of best-of-n to its sampler.
#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>

#include "architectures/architecture_registry.h"
#include "config/toml_io.h"
#include "eval/backbone_loading.h"
#include "eval/builtin_evaluators.h"
#include "eval/evaluator.h"
#include "objectives/language_model.h"
#include "objectives/policy_objective.h"
#include "objectives/reward.h"
#include "objectives/run_checks.h"
#include "train/checkpoint.h"
#include "util/error.h"
#include "util/strings.h"

namespace sslx::eval {
namespace {

namespace stdfs = std::filesystem;

// Per sampled row: what the metrics are made of.
struct RowScores {
  std::vector<double> proxy, gold, kl, length, eos;
  std::vector<std::string> responses;
};

struct Models {
  objectives::LanguageModelImpl* policy = nullptr;
  objectives::LanguageModelImpl* reference = nullptr;  // nullptr: the policy is its reference
};

class AlignmentEvaluator : public Evaluator {
 public:
  explicit AlignmentEvaluator(const config::Node& options)
      : options_(options),
        max_prompts_(options.get_int("max_prompts")),
        samples_(options.get_int("samples_per_prompt")),
        batch_rows_(options.get_int("batch_rows")),
        seed_(static_cast<std::uint64_t>(options.get_int("seed"))),
        policy_(options.get_string("policy")),
        reference_(options.get_string("reference")),
        proxy_checkpoint_(options.get_string("proxy_checkpoint")) {
    for (const auto& n : options.at_path("best_of_n").as_array()) {
      if (n.as_int() < 1) {
        throw Error("eval.alignment.best_of_n: " + std::to_string(n.as_int()) +
                        " samples cannot make a best-of-n baseline",
                    "give counts of at least 1");
      }
      best_of_n_.push_back(n.as_int());
    }
    generation_.max_new_tokens = options.get_int("max_new_tokens");
    generation_.sampling = {.temperature = options.get_float("temperature")};
  }

  std::optional<std::string> skip_reason(EvalContext& context) const override {
    if (arch::model_kind(context.config()) != arch::ArchitectureKind::decoder) {
      return "alignment needs a decoder policy; model.arch is " +
             context.config().get_string("model.arch");
    }
    if (options_.at_path("prompt_files").as_array().empty())
      return "eval.alignment.prompt_files is empty: no held-out prompts to sample";
    return not_a_language_model(
        train::resolve_checkpoint(policy_checkpoint(context.config(), context.checkpoint())));
  }

  void run(EvalContext& context, EvalResults& results) override {
    const config::Node& root = context.config();
    const data::Tokenizer& tokenizer = *context.lm_data().tokenizer;
    const std::int64_t vocab = tokenizer.vocab_size();
    const stdfs::path policy_path = policy_checkpoint(root, context.checkpoint());
    objectives::LanguageModel policy(root.at_path("model"), vocab);
    objectives::load_pretrained(*policy, policy_path);
    policy->eval();
    objectives::LanguageModel reference{nullptr};
    const stdfs::path reference_path = reference_checkpoint(root, policy_path);
    Models models{.policy = policy.get()};
    if (!reference_path.empty()) {
      reference = objectives::LanguageModel(root.at_path("model"), vocab);
      objectives::load_pretrained(*reference, reference_path);
      reference->eval();
      models.reference = reference.get();
    }

    generation_.eos = tokenizer.specials().require_eos();
    generation_.pad = tokenizer.specials().pad.value_or(*generation_.eos);
    generation_.max_positions = root.get_int("model.max_positions");
    objectives::PromptSet prompts =
        objectives::read_prompts(options_, "prompt_files", tokenizer,
                                 generation_.max_positions - generation_.max_new_tokens);
    if (static_cast<std::int64_t>(prompts.ids.size()) > max_prompts_) {
      prompts.ids.resize(static_cast<std::size_t>(max_prompts_));
      prompts.texts.resize(static_cast<std::size_t>(max_prompts_));
    }
    const auto n_prompts = static_cast<std::int64_t>(prompts.ids.size());

    const objectives::RewardContext reward_context{.policy_model = root.at_path("model"),
                                                   .tokenizer = tokenizer,
                                                   .max_length = generation_.max_positions};
    config::Node proxy_options(config::Table{});
    proxy_options.set("name", config::Node("reward_model"));
    proxy_options.set("checkpoint", config::Node(proxy_checkpoint(root, context.checkpoint())));
    const auto proxy = objectives::reward_registry().create(proxy_options, reward_context);
    std::unique_ptr<objectives::Reward> gold;
    if (!options_.get_string("gold.name").empty())
      gold = objectives::reward_registry().create(options_.at_path("gold"), reward_context);

    // Samples 0 .. samples_per_prompt - 1 of every prompt make the metrics; best-of-n draws
    // further samples of the same streams, so best-of-1 is the first sample.
    std::int64_t per_prompt = samples_;
    for (const std::int64_t n : best_of_n_)
      per_prompt = std::max(per_prompt, n);
    const RowScores policy_rows = score_rows(*models.policy, models.reference, prompts, per_prompt,
                                             *proxy, gold.get(), tokenizer);

    const auto row = [per_prompt](std::int64_t prompt, std::int64_t sample) {
      return static_cast<std::size_t>(prompt * per_prompt + sample);
    };
    const auto mean_over_samples = [&](const std::vector<double>& values) {
      double total = 0;
      for (std::int64_t p = 0; p < n_prompts; ++p) {
        for (std::int64_t s = 0; s < samples_; ++s)
          total += values[row(p, s)];
      }
      return total / static_cast<double>(n_prompts * samples_);
    };
    results.scalars["alignment/prompts"] = static_cast<double>(n_prompts);
    results.scalars["alignment/proxy_reward"] = mean_over_samples(policy_rows.proxy);
    results.scalars["alignment/kl"] = mean_over_samples(policy_rows.kl);
    results.scalars["alignment/response_length"] = mean_over_samples(policy_rows.length);
    results.scalars["alignment/eos_fraction"] = mean_over_samples(policy_rows.eos);
    if (gold) {
      results.scalars["alignment/gold_reward"] = mean_over_samples(policy_rows.gold);
      // The reference's own samples of the same prompts and streams; a policy that is its own
      // reference draws exactly those, so it ties every time.
      std::vector<double> reference_gold = policy_rows.gold;
      if (models.reference != nullptr) {
        reference_gold = score_rows(*models.reference, nullptr, prompts, per_prompt, *proxy,
                                    gold.get(), tokenizer, samples_)
                             .gold;
      }
      double wins = 0;
      for (std::int64_t p = 0; p < n_prompts; ++p) {
        for (std::int64_t s = 0; s < samples_; ++s) {
          const double a = policy_rows.gold[row(p, s)];
          const double b = reference_gold[row(p, s)];
          wins += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
        }
      }
      results.scalars["alignment/win_rate"] = wins / static_cast<double>(n_prompts * samples_);
    }
    for (const std::int64_t n : best_of_n_) {
      double proxy_total = 0, gold_total = 0;
      for (std::int64_t p = 0; p < n_prompts; ++p) {
        std::size_t best = row(p, 0);
        for (std::int64_t s = 1; s < n; ++s) {
          if (policy_rows.proxy[row(p, s)] > policy_rows.proxy[best]) best = row(p, s);
        }
        proxy_total += policy_rows.proxy[best];
        if (gold) gold_total += policy_rows.gold[best];
      }
      const std::string prefix = "alignment/best_of_" + std::to_string(n) + "/";
      const auto count = static_cast<double>(n);
      results.scalars[prefix + "kl"] = std::log(count) - (count - 1) / count;
      results.scalars[prefix + "proxy_reward"] = proxy_total / static_cast<double>(n_prompts);
      if (gold)
        results.scalars[prefix + "gold_reward"] = gold_total / static_cast<double>(n_prompts);
    }
    const std::int64_t shown = std::min<std::int64_t>(n_prompts, options_.get_int("texts"));
    for (std::int64_t p = 0; p < shown; ++p) {
      results.texts["alignment/sample_" + std::to_string(p)] =
          prompts.texts[static_cast<std::size_t>(p)] + policy_rows.responses[row(p, 0)];
    }
  }

 private:
  // The init_from checkpoint of the job, for "init_from" options.
  static stdfs::path init_from(const config::Node& root, const std::string& key) {
    const config::Node* init = root.find_path("objective.init_from");
    if (init == nullptr || !init->is_string() || init->as_string().empty()) {
      throw Error(key + " = \"init_from\", but the job's objective.init_from is not set",
                  "name a checkpoint, or \"self\"");
    }
    return train::resolve_checkpoint(init->as_string());
  }

  // The checkpoint of the policy that eval.alignment.policy names.
  stdfs::path policy_checkpoint(const config::Node& root, const stdfs::path& own) const {
    if (policy_ == "self") return own;
    if (policy_ == "init_from") return init_from(root, "eval.alignment.policy");
    return train::resolve_checkpoint(policy_);
  }

  // The reference checkpoint eval.alignment.reference names; empty when it is the policy.
  stdfs::path reference_checkpoint(const config::Node& root, const stdfs::path& policy) const {
    if (reference_ == "self") return {};
    const stdfs::path reference = reference_ == "init_from"
                                      ? init_from(root, "eval.alignment.reference")
                                      : train::resolve_checkpoint(reference_);
    if (stdfs::equivalent(reference, policy)) return {};
    return reference;
  }

  // eval.alignment.proxy_checkpoint ("self": this job, a reward model), or the reward model the
  // job itself was trained against.
  std::string proxy_checkpoint(const config::Node& root, const stdfs::path& own) const {
    if (proxy_checkpoint_ == "self") return own.string();
    if (!proxy_checkpoint_.empty()) return proxy_checkpoint_;
    const config::Node* reward = root.find_path("objective.reward");
    if (reward != nullptr && reward->get_string("name") == "reward_model")
      return reward->get_string("checkpoint");
    throw Error(
        "eval.alignment.proxy_checkpoint is empty and the job's objective has no "
        "[objective.reward] reward model",
        "set eval.alignment.proxy_checkpoint to a reward_model run");
  }

  // Samples `per_prompt` responses to every prompt from `model` (row p * per_prompt + s draws
  // from stream "alignment/prompt<p>/<s>"; only samples s < `limit` when limit > 0), in batches
  // of batch_rows rows, and scores each row.
  RowScores score_rows(objectives::LanguageModelImpl& model,
                       objectives::LanguageModelImpl* reference,
                       const objectives::PromptSet& prompts, std::int64_t per_prompt,
                       objectives::Reward& proxy, objectives::Reward* gold,
                       const data::Tokenizer& tokenizer, std::int64_t limit = 0) const {
    const torch::NoGradGuard no_grad;
    const auto n_prompts = static_cast<std::int64_t>(prompts.ids.size());
    const std::size_t total = static_cast<std::size_t>(n_prompts * per_prompt);
    RowScores scores;
    for (auto* values : {&scores.proxy, &scores.gold, &scores.kl, &scores.length, &scores.eos})
      values->assign(total, 0.0);
    scores.responses.assign(total, "");
    std::vector<std::int64_t> rows;
    for (std::int64_t p = 0; p < n_prompts; ++p) {
      for (std::int64_t s = 0; s < (limit > 0 ? limit : per_prompt); ++s)
        rows.push_back(p * per_prompt + s);
    }
    const double temperature = generation_.sampling.temperature;
    for (std::size_t start = 0; start < rows.size();
         start += static_cast<std::size_t>(batch_rows_)) {
      const std::size_t end = std::min(rows.size(), start + static_cast<std::size_t>(batch_rows_));
      std::vector<std::vector<data::TokenId>> batch;
      std::vector<std::string> streams, prompt_texts, responses;
      for (std::size_t i = start; i < end; ++i) {
        const std::int64_t p = rows[i] / per_prompt;
        batch.push_back(prompts.ids[static_cast<std::size_t>(p)]);
        prompt_texts.push_back(prompts.texts[static_cast<std::size_t>(p)]);
        streams.push_back("alignment/prompt" + std::to_string(p) + "/" +
                          std::to_string(rows[i] % per_prompt));
      }
      const rollout::Rollout rollout =
          rollout::generate(objectives::logits_of(model), batch, generation_, seed_, streams);
      for (std::int64_t b = 0; b < rollout.batch(); ++b)
        responses.push_back(tokenizer.decode(rollout::response_text_tokens(rollout, b)));
      const objectives::RewardQuery query{rollout, prompt_texts, responses};
      const at::Tensor proxy_scores = proxy.score(query).to(at::kDouble).contiguous();
      at::Tensor gold_scores = at::zeros({rollout.batch()}, at::kDouble);
      if (gold != nullptr) gold_scores = gold->score(query).to(at::kDouble).contiguous();
      at::Tensor kl = at::zeros({rollout.batch()}, at::kDouble);
      if (reference != nullptr) {
        const at::Tensor reference_log_probs = rollout::token_log_probs(
            rollout::response_logits(objectives::logits_of(*reference), rollout), rollout.responses,
            temperature);
        kl = ((rollout.log_probs - reference_log_probs) * rollout.response_mask)
                 .sum(1)
                 .to(at::kDouble)
                 .contiguous();
      }
      const at::Tensor lengths = rollout.lengths.to(at::kDouble).contiguous();
      const at::Tensor eos = rollout.ended_with_eos.to(at::kDouble).contiguous();
      for (std::int64_t b = 0; b < rollout.batch(); ++b) {
        const auto r = static_cast<std::size_t>(rows[start + static_cast<std::size_t>(b)]);
        scores.proxy[r] = proxy_scores[b].item<double>();
        scores.gold[r] = gold_scores[b].item<double>();
        scores.kl[r] = kl[b].item<double>();
        scores.length[r] = lengths[b].item<double>();
        scores.eos[r] = eos[b].item<double>();
        scores.responses[r] = responses[static_cast<std::size_t>(b)];
      }
    }
    return scores;
  }

  config::Node options_;
  std::int64_t max_prompts_;
  std::int64_t samples_;
  std::int64_t batch_rows_;
  std::uint64_t seed_;
  std::string policy_;
  std::string reference_;
  std::string proxy_checkpoint_;
  std::vector<std::int64_t> best_of_n_;
  mutable rollout::RolloutOptions generation_;
};

}  // namespace

void register_alignment() {
  objectives::register_builtin_rewards();
  config::Schema schema;
  schema.add({.key = "prompt_files",
              .type = config::Type::kArray,
              .default_value = config::Node(config::Array{}),
              .doc = "held-out prompts: JSONL files in prompt_format",
              .element_type = config::Type::kString});
  schema.add({.key = "prompt_format",
              .type = config::Type::kString,
              .default_value = "prompt_completion",
              .doc = "format of prompt_files (their prompt field is read)",
              .choices = {"prompt_completion", "preferences"}});
  schema.add({.key = "prompt_field",
              .type = config::Type::kString,
              .default_value = "prompt",
              .doc = "JSON field of the prompt"});
  schema.add({.key = "skip_malformed",
              .type = config::Type::kBool,
              .default_value = false,
              .doc = "skip (and count) malformed JSONL lines instead of failing"});
  schema.add({.key = "max_prompts",
              .type = config::Type::kInt,
              .default_value = 64,
              .doc = "the first prompts of prompt_files evaluated",
              .min = 1});
  schema.add({.key = "samples_per_prompt",
              .type = config::Type::kInt,
              .default_value = 2,
              .doc = "responses per prompt behind the rewards, KL and win rate",
              .min = 1});
  schema.add({.key = "max_new_tokens",
              .type = config::Type::kInt,
              .default_value = 32,
              .doc = "response tokens at most (EOS included)",
              .min = 1});
  schema.add({.key = "temperature",
              .type = config::Type::kFloat,
              .default_value = 1.0,
              .doc = "sampling temperature (the KL is that of the tempered distributions)",
              .min = 1e-3});
  schema.add({.key = "policy",
              .type = config::Type::kString,
              .default_value = "self",
              .doc = "the policy evaluated: \"self\" (the job's checkpoint), \"init_from\" (the "
                     "checkpoint the job started from) or a checkpoint path"});
  schema.add({.key = "reference",
              .type = config::Type::kString,
              .default_value = "init_from",
              .doc = "the model the KL and win rate compare with: \"init_from\" (the job's "
                     "starting checkpoint), \"self\" (the policy) or a checkpoint path"});
  schema.add({.key = "proxy_checkpoint",
              .type = config::Type::kString,
              .default_value = "",
              .doc = "the reward_model run that scores proxy_reward; \"self\": this job (a "
                     "reward_model job); empty: the job's own [objective.reward] reward model"});
  schema.add({.key = "gold",
              .default_value = config::Node(""),
              .doc = "the gold reward ([eval.alignment.gold], a reward by name; \"\": none, and "
                     "no gold_reward or win_rate)",
              .component = &objectives::reward_registry()});
  schema.add({.key = "best_of_n",
              .type = config::Type::kArray,
              .default_value = config::Node(config::Array{}),
              .doc = "n of the best-of-n baselines drawn from this checkpoint, e.g. [1, 2, 4, 8]",
              .element_type = config::Type::kInt});
  schema.add({.key = "batch_rows",
              .type = config::Type::kInt,
              .default_value = 64,
              .doc = "responses sampled at once",
              .min = 1});
  schema.add({.key = "texts",
              .type = config::Type::kInt,
              .default_value = 4,
              .doc = "sampled responses kept as texts (alignment/sample_<i>)",
              .min = 0});
  schema.add({.key = "seed",
              .type = config::Type::kInt,
              .default_value = 0,
              .doc = "seed of the sampling streams (alignment/prompt<p>/<s>)",
              .min = 0});
  evaluator_registry().add(
      "alignment",
      "a policy against its reference on held-out prompts: proxy and gold reward, KL, win rate, "
      "best-of-n",
      std::move(schema),
      [](const config::Node& options) { return std::make_unique<AlignmentEvaluator>(options); },
      [](const config::CheckContext& context) {
        // Paths (anything but the keywords) name runs that must exist or run earlier.
        const auto named = [&context](const char* key, std::initializer_list<const char*> words) {
          const std::string& value = context.options().get_string(key);
          for (const char* word : words) {
            if (value == word) return false;
          }
          return true;
        };
        if (named("policy", {"self", "init_from"}))
          objectives::check_run_reference(context, "policy", {});
        if (named("reference", {"self", "init_from"}))
          objectives::check_run_reference(context, "reference", {});
        if (named("proxy_checkpoint", {"self", ""}))
          objectives::check_run_reference(context, "proxy_checkpoint", {"reward_model"});
      });
}

}  // namespace sslx::eval
