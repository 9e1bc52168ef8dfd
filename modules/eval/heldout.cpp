// The held-out evaluator: the job's objective, re-created from its config with the checkpoint's
// model, over every evaluation batch of the test split. Loss per target, the objective's own
// metrics, perplexity for language models, bits per byte for causal LM where it is exact enough.
#include <ATen/ATen.h>
#include <torch/utils.h>

#include <cmath>

#include "eval/builtin_evaluators.h"
#include "eval/evaluator.h"
#include "nn/state_io.h"
#include "objectives/language_model.h"
#include "objectives/objective_registry.h"
#include "train/checkpoint.h"
#include "util/error.h"

namespace sslx::eval {
namespace {

class HeldoutEvaluator : public Evaluator {
 public:
  explicit HeldoutEvaluator(const config::Node& options)
      : max_batches_(options.get_int("max_batches")) {}

  void run(EvalContext& context, EvalResults& results) override {
    const config::Node& root = context.config();
    const data::LmData& data = context.lm_data();
    const auto seed = static_cast<std::uint64_t>(root.get_int("seed"));
    const train::TrainerOptions trainer = train::trainer_options_from(root.at_path("trainer"));
    torch::manual_seed(seed);
    const auto objective = objectives::objective_registry().create(
        root.at_path("objective"), objectives::ObjectiveContext{.model = root.at_path("model"),
                                                                .tokenizer = *data.tokenizer,
                                                                .corpus = data.corpus,
                                                                .trainer = trainer,
                                                                .seed = seed});
    nn::load_state(objective->model(), train::model_file(context.checkpoint()));
    objective->model().eval();
    const at::NoGradGuard no_grad;
    train::Metrics totals;
    train::Batch batch;
    // Objectives trained on train/validation files (sft, reward_model) have no test split: their
    // validation files are the held-out data, and the result says so.
    data::Split split = data::Split::kTest;
    if (!objective->eval_batch(split, 0, batch)) {
      split = data::Split::kValidation;
      results.texts["heldout/split"] =
          "validation: the " + objective->name() + " objective has no test split";
    }
    std::int64_t batches = 0;
    for (; max_batches_ == 0 || batches < max_batches_; ++batches) {
      if (!objective->eval_batch(split, batches, batch)) break;
      const train::LossTerms terms = objective->loss(batch);
      totals["loss"].add({terms.loss_sum.item<double>(), static_cast<double>(terms.n_targets)});
      for (const auto& [name, metric] : terms.metrics)
        totals[name].add(metric);
    }
    if (totals["loss"].count == 0) {
      throw Error("heldout: the " + data::to_string(split) + " split gave no evaluation targets",
                  "use more data, a larger data.test_fraction or a shorter sequence_length");
    }
    for (const auto& [name, metric] : totals) {
      if (metric.count > 0) results.scalars["heldout/" + name] = metric.sum / metric.count;
    }
    const double loss = totals["loss"].sum / totals["loss"].count;
    results.scalars["heldout/targets"] = totals["loss"].count;
    results.scalars["heldout/batches"] = static_cast<double>(batches);
    // The loss of an LM objective is a mean NLL per predicted token; a reward model's is not.
    if (dynamic_cast<objectives::LanguageModelImpl*>(&objective->model()) != nullptr) {
      results.scalars["heldout/perplexity"] = std::exp(loss);
    }
    if (data.entropy_rate) results.scalars["heldout/entropy_rate"] = *data.entropy_rate;
    bits_per_byte(context, *objective, loss, results);
  }

 private:
  // An objective whose loss predicts every token of the packed test stream (documents + EOS)
  // except one per block and the dropped tail (causal LM, a plugin's next-token objective: see
  // Objective::stream_prediction) makes loss × stream tokens / bytes an estimate of the stream's
  // bits per byte. When some tokens are never predicted (causal LM with document_mask: the first
  // of every document, the hardest ones) the estimate would flatter the model: omitted, and the
  // objective's reason said.
  void bits_per_byte(EvalContext& context, train::Objective& objective, double loss,
                     EvalResults& results) const {
    const train::StreamPrediction prediction = objective.stream_prediction();
    if (!prediction.next_token) return;
    std::string why_not = prediction.gap;
    if (why_not.empty() && max_batches_ > 0) {
      why_not = "eval.heldout.max_batches limits the evaluation to part of the test split";
    }
    const auto statistics = context.lm_data().corpus.statistics(data::Split::kTest);
    const auto& documents = context.test_documents();
    if (why_not.empty() && documents.empty()) why_not = "the corpus is synthetic: no bytes";
    if (why_not.empty() && static_cast<std::int64_t>(documents.size()) != statistics.documents) {
      why_not = "the test documents read back do not match the token corpus";
    }
    if (!why_not.empty()) {
      results.texts["heldout/bits_per_byte"] = "omitted: " + why_not;
      return;
    }
    // Each document's EOS is a predicted token; it stands for the document's end, one byte.
    double bytes = 0;
    for (const auto& document : documents)
      bytes += static_cast<double>(document.text.size()) + 1.0;
    const double stream_tokens = static_cast<double>(statistics.tokens + statistics.documents);
    results.scalars["heldout/bits_per_byte"] = loss / std::log(2.0) * stream_tokens / bytes;
  }

  std::int64_t max_batches_;
};

}  // namespace

void register_heldout() {
  config::Schema schema;
  schema.add({.key = "max_batches",
              .type = config::Type::kInt,
              .default_value = 0,
              .doc = "evaluation batches of the test split at most; 0: all of it",
              .min = 0});
  evaluator_registry().add(
      "heldout",
      "held-out loss, perplexity, the objective's metrics (and bits per byte for clm) on the "
      "test split",
      std::move(schema),
      [](const config::Node& options) { return std::make_unique<HeldoutEvaluator>(options); });
}

}  // namespace sslx::eval
