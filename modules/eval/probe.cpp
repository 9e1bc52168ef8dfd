#include "eval/probe.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/lbfgs.h>

#include "eval/backbone_loading.h"
#include "eval/builtin_evaluators.h"
#include "eval/classification_metrics.h"
#include "eval/evaluator.h"
#include "eval/labelled_task.h"

namespace sslx::eval {

std::vector<std::int64_t> LinearClassifier::predict(const at::Tensor& x) const {
  const at::Tensor z = (x.to(at::kDouble) - mean) / scale;
  const at::Tensor predicted = at::addmm(bias, z, weight).argmax(1).contiguous();
  return {predicted.data_ptr<std::int64_t>(),
          predicted.data_ptr<std::int64_t>() + predicted.numel()};
}

LinearClassifier fit_logistic_regression(const at::Tensor& x,
                                         const std::vector<std::int64_t>& labels,
                                         std::int64_t n_classes,
                                         const LogisticRegressionOptions& options) {
  TORCH_CHECK(x.dim() == 2 && x.size(0) == static_cast<std::int64_t>(labels.size()),
              "fit_logistic_regression: x is ", x.sizes(), " for ", labels.size(), " labels");
  const at::Tensor x64 = x.to(at::kDouble);
  LinearClassifier model;
  model.mean = x64.mean(0);
  // A constant feature keeps scale 1 instead of dividing by zero.
  const at::Tensor deviation = x64.std(0, /*unbiased=*/false);
  model.scale = at::where(deviation < 1e-8, at::ones_like(deviation), deviation);
  const at::Tensor z = (x64 - model.mean) / model.scale;
  const at::Tensor y = at::tensor(labels, at::kLong);
  model.weight = at::zeros({x.size(1), n_classes}, at::kDouble).requires_grad_(true);
  model.bias = at::zeros({n_classes}, at::kDouble).requires_grad_(true);
  torch::optim::LBFGS optimizer({model.weight, model.bias}, torch::optim::LBFGSOptions(1.0)
                                                                .max_iter(options.max_iterations)
                                                                .history_size(20)
                                                                .tolerance_grad(1e-9)
                                                                .tolerance_change(1e-12)
                                                                .line_search_fn("strong_wolfe"));
  const auto closure = [&] {
    optimizer.zero_grad();
    const at::Tensor logits = at::addmm(model.bias, z, model.weight);  // (N, K)
    at::Tensor loss = torch::nn::functional::cross_entropy(logits, y) +
                      0.5 * options.l2 * model.weight.pow(2).sum();
    loss.backward();
    return loss;
  };
  optimizer.step(closure);
  model.weight = model.weight.detach();
  model.bias = model.bias.detach();
  return model;
}

namespace {

class ProbeEvaluator : public Evaluator {
 public:
  explicit ProbeEvaluator(const config::Node& options)
      : options_(options),
        regression_{.l2 = options.get_float("l2"),
                    .max_iterations = options.get_int("max_iterations")},
        pooling_(arch::pooling_from_name(options.get_string("pooling"))),
        batch_size_(options.get_int("batch_size")) {}

  std::optional<std::string> skip_reason(EvalContext& context) const override {
    return backbone_missing(context.checkpoint());
  }

  void run(EvalContext& context, EvalResults& results) override {
    const config::Node& root = context.config();
    const data::Tokenizer& tokenizer = *context.lm_data().tokenizer;
    const LabelledTask task = load_labelled_task(task_options_from(options_, root), tokenizer);
    const auto backbone =
        load_backbone(root.at_path("model"), tokenizer.vocab_size(), context.checkpoint());
    const at::Tensor train = pooled_features(*backbone, task.train.tokens, pooling_, batch_size_);
    const at::Tensor test = pooled_features(*backbone, task.test.tokens, pooling_, batch_size_);
    const auto K = static_cast<std::int64_t>(task.classes.size());
    const LinearClassifier classifier =
        fit_logistic_regression(train, task.train.labels, K, regression_);
    const Confusion confusion = Confusion::of(task.test.labels, classifier.predict(test), K);
    results.scalars["probe/accuracy"] = accuracy(confusion);
    results.scalars["probe/macro_f1"] = macro_f1(confusion);
    results.scalars["probe/majority_accuracy"] =
        majority_accuracy(task.train.labels, task.test.labels, K);
    results.scalars["probe/train_accuracy"] =
        accuracy(Confusion::of(task.train.labels, classifier.predict(train), K));
    results.scalars["probe/train_examples"] = static_cast<double>(task.train.labels.size());
    results.scalars["probe/test_examples"] = static_cast<double>(task.test.labels.size());
  }

 private:
  config::Node options_;
  LogisticRegressionOptions regression_;
  arch::Pooling pooling_;
  std::int64_t batch_size_;
};

}  // namespace

void register_probe() {
  config::Schema schema;
  add_task_fields(schema);
  schema.add({.key = "pooling",
              .type = config::Type::kString,
              .default_value = "mean",
              .doc = "features: mean over the valid positions, or the first or last one",
              .choices = {"mean", "first", "last"}});
  schema.add(
      {.key = "l2",
       .type = config::Type::kFloat,
       .default_value = 1e-3,
       .doc = "L2 penalty l2/2 |W|^2 added to the mean cross-entropy (standardised features)",
       .min = 0.0});
  schema.add({.key = "max_iterations",
              .type = config::Type::kInt,
              .default_value = 200,
              .doc = "L-BFGS iterations of the full-batch fit",
              .min = 1});
  schema.add({.key = "batch_size",
              .type = config::Type::kInt,
              .default_value = 32,
              .doc = "examples per forward pass when extracting features",
              .min = 1});
  evaluator_registry().add(
      "probe",
      "linear probe: logistic regression on a frozen backbone's pooled features of a labelled task",
      std::move(schema),
      [](const config::Node& options) { return std::make_unique<ProbeEvaluator>(options); });
}

}  // namespace sslx::eval
