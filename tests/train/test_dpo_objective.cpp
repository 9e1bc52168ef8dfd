// An objective that owns a second, frozen model and overrides the whole step: DPO (REFERENCE.md
// §1), trained by the unchanged Trainer. It shows that the Objective interface fits policy
// optimisation (PPO, DPO, GRPO) without changes to the trainer; it is not a built-in objective.
#include "nn/torch_catch.h"

#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "objectives/language_model.h"
#include "objectives/reward_model.h"
#include "support.h"
#include "training_fixture.h"

using namespace sslx;

namespace {

// −log σ(β((log π(y_c) − log π_ref(y_c)) − (log π(y_r) − log π_ref(y_r)))) per pair, with the
// policy trained and the reference a frozen copy of the policy at the start.
class DpoObjective : public train::Objective {
 public:
  DpoObjective(const config::Node& options, const objectives::ObjectiveContext& context)
      : beta_(options.get_float("beta")),
        batch_size_(context.trainer.batch_size),
        sequence_length_(context.trainer.sequence_length),
        pad_(context.tokenizer.specials().require_pad()),
        pairs_(read_pairs(options, context)),
        sampler_(static_cast<std::int64_t>(pairs_.size()), context.seed) {
    policy_ = objectives::LanguageModel(context.model, context.tokenizer.vocab_size());
    reference_ = objectives::LanguageModel(context.model, context.tokenizer.vocab_size());
    objectives::copy_state(*policy_, *reference_);
    for (auto& parameter : reference_->parameters())
      parameter.requires_grad_(false);
    reference_->eval();
  }

  std::string name() const override { return "dpo_test"; }
  std::vector<std::string> metric_names() const override { return {"accuracy"}; }
  torch::nn::Module& model() override { return *policy_; }
  double training_flops_per_token() const override {
    // Policy forward + backward, and the reference's forward.
    return policy_->backbone->training_flops_per_token(sequence_length_) * 4.0 / 3.0;
  }

  train::Batch train_batch() override {
    std::vector<std::int64_t> indices;
    for (std::int64_t b = 0; b < batch_size_; ++b)
      indices.push_back(sampler_.next());
    return objectives::preference_batch(pairs_, indices, pad_);
  }

  bool eval_batch(data::Split split, std::int64_t index, train::Batch& batch) override {
    if (split == data::Split::kTest || index > 0) return false;
    std::vector<std::int64_t> all(pairs_.size());
    std::iota(all.begin(), all.end(), 0);
    batch = objectives::preference_batch(pairs_, all, pad_);
    return true;
  }

  train::LossTerms loss(const train::Batch& batch) override {
    const at::Tensor policy = response_log_probs(*policy_, batch);
    const at::Tensor reference = [&] {
      torch::NoGradGuard no_grad;
      return response_log_probs(*reference_, batch);
    }();
    const std::int64_t B = batch.n_targets;
    const at::Tensor ratio = policy - reference;  // (2B): chosen rows, then rejected rows
    const at::Tensor logits = beta_ * (ratio.slice(0, 0, B) - ratio.slice(0, B, 2 * B));
    train::LossTerms terms{.loss_sum = torch::softplus(-logits).sum(), .n_targets = B};
    terms.metrics["accuracy"] = {(logits > 0).sum().item<double>(), static_cast<double>(B)};
    return terms;
  }

  bool overrides_step() const override { return true; }

  train::StepReport train_step(torch::optim::Optimizer& optimizer) override {
    ++steps_taken;
    optimizer.zero_grad();
    const train::Batch batch = train_batch();
    const train::LossTerms terms = loss(batch);
    const at::Tensor mean = terms.loss_sum / static_cast<double>(terms.n_targets);
    train::StepReport report{.loss = mean.item<double>(),
                             .n_targets = terms.n_targets,
                             .n_tokens = batch.n_tokens,
                             .metrics = terms.metrics};
    if (!std::isfinite(report.loss)) {
      report.skipped = true;
      return report;
    }
    mean.backward();
    optimizer.step();
    return report;
  }

  void save_state(train::TrainerState& state) const override { state.sampler = sampler_.state(); }
  void load_state(const train::TrainerState& state) override { sampler_.restore(state.sampler); }

  torch::nn::Module& reference() { return *reference_; }
  std::int64_t steps_taken = 0;

 private:
  static std::vector<objectives::PairSequences> read_pairs(
      const config::Node& options, const objectives::ObjectiveContext& context) {
    std::vector<std::string> files;
    for (const auto& file : options.at_path("files").as_array())
      files.push_back(file.as_string());
    objectives::PairCounts counts;
    return objectives::read_preference_sequences(files, {}, context.tokenizer,
                                                 context.trainer.sequence_length, counts);
  }

  // Summed log-probability of each row's response tokens (after the prompt, up to its length).
  static at::Tensor response_log_probs(objectives::LanguageModelImpl& model,
                                       const train::Batch& batch) {
    const at::Tensor ids = batch.at("input_ids");  // (2B, T)
    const at::Tensor valid = batch.at("key_valid");
    const at::Tensor log_probs =
        torch::log_softmax(model.logits({.token_ids = ids, .key_valid = valid}), -1);
    // Position t predicts token t + 1: a response token when t + 1 >= prompt_length.
    const at::Tensor next = ids.slice(1, 1);
    const at::Tensor predicted =
        log_probs.slice(1, 0, -1).gather(-1, next.unsqueeze(-1)).squeeze(-1);  // (2B, T-1)
    const at::Tensor prompt = batch.at("prompt_length").repeat({2}).unsqueeze(1);
    const at::Tensor position = torch::arange(1, ids.size(1)).unsqueeze(0);
    const at::Tensor response = (position >= prompt) & valid.slice(1, 1);
    return (predicted * response).sum(1);
  }

  double beta_;
  std::int64_t batch_size_;
  std::int64_t sequence_length_;
  data::TokenId pad_;
  std::vector<objectives::PairSequences> pairs_;
  data::Sampler sampler_;
  objectives::LanguageModel policy_{nullptr};
  objectives::LanguageModel reference_{nullptr};
};

void register_dpo_test() {
  if (objectives::objective_registry().contains("dpo_test")) return;
  config::Schema schema;
  schema.add({.key = "files",
              .type = config::Type::kArray,
              .doc = "JSONL preference pairs",
              .element_type = config::Type::kString});
  schema.add({.key = "beta",
              .type = config::Type::kFloat,
              .default_value = 0.1,
              .doc = "DPO temperature"});
  objectives::objective_registry().add(
      "dpo_test", "DPO with a frozen reference model (test only)", schema,
      [](const config::Node& options, const objectives::ObjectiveContext& context) {
        return std::make_unique<DpoObjective>(options, context);
      });
}

}  // namespace

TEST_CASE("a DPO objective with a frozen reference model trains through the unchanged Trainer") {
  register_dpo_test();
  test::TempDir dir;
  test::TrainingFixture fixture(
      dir,
      "[data]\nsource = \"markov\"\ndocuments = 20\ndocument_length = 16\nstates = 8\n"
      "[objective]\nname = \"dpo_test\"\nfiles = [\"" SSLX_SOURCE_DIR
      "/tests/data/preferences.jsonl\"]\n"
      "[schedule]\nname = \"constant\"\nlr = 0.003\nwarmup_steps = 0\n"
      "[trainer]\nmax_steps = 15\nbatch_size = 4\nsequence_length = 64\neval_every = 0\n"
      "eval_at_start = true\nclip_grad_norm = 0.0\n",
      "dpo");
  auto& objective = dynamic_cast<DpoObjective&>(*fixture.objective);
  std::vector<at::Tensor> reference_before;
  for (const auto& parameter : objective.reference().parameters())
    reference_before.push_back(parameter.clone());
  const auto policy_before = fixture.parameters();

  fixture.trainer->run();
  CHECK(objective.steps_taken == 15);

  const log::RunLogReader reader(fixture.paths.log);
  const auto val = reader.read("val", "loss").values;
  REQUIRE(val.size() >= 2);
  INFO("validation DPO loss " << val.front() << " -> " << val.back());
  // Before any step the policy is the reference: every pair's loss is log 2.
  CHECK(val.front() == Approx(std::log(2.0)).epsilon(1e-6));
  CHECK(val.back() < val.front() - 0.1);
  CHECK(reader.read("train", "loss").values.back() < std::log(2.0));
  // The reference stayed frozen; the policy moved.
  const auto reference_after = objective.reference().parameters();
  for (std::size_t i = 0; i < reference_before.size(); ++i)
    CHECK(torch::equal(reference_after[i], reference_before[i]));
  CHECK_FALSE(torch::equal(fixture.parameters()[0], policy_before[0]));
}
