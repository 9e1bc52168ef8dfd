// The fine-tune evaluator: the checkpoint's backbone with a new classification head
// (architectures/heads.h), trained end to end with AdamW on the labelled task's train split for
// a few epochs, scored on its test split. With save_model the classifier is kept in
// <job>/finetune/ (model.pt and config.toml with [classifier]: architectures/classifier_table.h),
// which `sslx export` writes as a Hugging Face ...ForSequenceClassification.
#include <ATen/ATen.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include "architectures/classifier_table.h"
#include "architectures/heads.h"
#include "config/toml_io.h"
#include "eval/backbone_loading.h"
#include "eval/builtin_evaluators.h"
#include "eval/classification_metrics.h"
#include "eval/evaluator.h"
#include "eval/labelled_task.h"
#include "nn/state_io.h"
#include "util/console.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"

namespace sslx::eval {
namespace {

class FinetuneEvaluator : public Evaluator {
 public:
  explicit FinetuneEvaluator(const config::Node& options)
      : options_(options),
        epochs_(options.get_int("epochs")),
        batch_size_(options.get_int("batch_size")),
        lr_(options.get_float("lr")),
        weight_decay_(options.get_float("weight_decay")),
        dropout_(options.get_float("dropout")),
        pooling_name_(options.get_string("pooling")),
        pooling_(arch::pooling_from_name(pooling_name_)),
        pooler_(options.get_bool("pooler")),
        save_model_(options.get_bool("save_model")) {}

  std::optional<std::string> skip_reason(EvalContext& context) const override {
    return backbone_missing(context.checkpoint());
  }

  void run(EvalContext& context, EvalResults& results) override {
    if (save_model_ && context.job_dir().empty())  // before minutes of training, not after
      throw Error("eval.finetune.save_model = true, but no job directory was given to save into",
                  "run the evaluator through `sslx run` or `sslx eval`");
    const config::Node& root = context.config();
    const data::Tokenizer& tokenizer = *context.lm_data().tokenizer;
    const TaskOptions task_options = task_options_from(options_, root);
    const LabelledTask task = load_labelled_task(task_options, tokenizer);
    const auto K = static_cast<std::int64_t>(task.classes.size());
    const auto backbone =
        load_backbone(root.at_path("model"), tokenizer.vocab_size(), context.checkpoint());
    torch::manual_seed(task_options.seed);  // the head's initialisation and dropout
    arch::ClassificationHead head(
        arch::ClassificationHeadOptions{.d_model = backbone->options().d_model,
                                        .n_classes = K,
                                        .pooling = pooling_,
                                        .pooler = pooler_,
                                        .dropout = dropout_});
    const double train_loss = train(*backbone, *head, task.train, task_options.seed);
    if (save_model_) save(context, *backbone, *head, task.classes);
    const std::vector<std::int64_t> predicted = predict(*backbone, *head, task.test);
    const auto N = static_cast<std::int64_t>(task.train.labels.size());
    const auto M = static_cast<std::int64_t>(task.test.labels.size());
    const Confusion confusion = Confusion::of(task.test.labels, predicted, K);
    results.scalars["finetune/accuracy"] = accuracy(confusion);
    results.scalars["finetune/macro_f1"] = macro_f1(confusion);
    results.scalars["finetune/majority_accuracy"] =
        majority_accuracy(task.train.labels, task.test.labels, K);
    results.scalars["finetune/train_loss"] = train_loss;
    results.scalars["finetune/train_examples"] = static_cast<double>(N);
    results.scalars["finetune/test_examples"] = static_cast<double>(M);
  }

 private:
  // AdamW on backbone and head for `epochs_` seeded passes; returns the last epoch's mean loss.
  double train(arch::Architecture& backbone, arch::ClassificationHeadImpl& head,
               const LabelledExamples& examples, std::uint64_t seed) const {
    std::vector<at::Tensor> parameters = backbone.parameters();
    for (const auto& parameter : head.parameters())
      parameters.push_back(parameter);
    torch::optim::AdamW optimizer(parameters,
                                  torch::optim::AdamWOptions(lr_).weight_decay(weight_decay_));
    backbone.train();
    head.train();
    RngStream order_rng(seed, "finetune/order");
    const auto N = static_cast<std::int64_t>(examples.labels.size());
    double epoch_loss = 0;
    for (std::int64_t epoch = 0; epoch < epochs_; ++epoch) {
      std::vector<std::int64_t> order(N);
      for (std::int64_t i = 0; i < N; ++i)
        order[i] = i;
      for (std::int64_t i = N; i > 1; --i)
        std::swap(order[i - 1], order[order_rng.uniform_below(static_cast<std::uint64_t>(i))]);
      double loss_sum = 0;
      for (std::int64_t start = 0; start < N; start += batch_size_) {
        const std::vector<std::int64_t> indices(order.begin() + start,
                                                order.begin() + std::min(N, start + batch_size_));
        const PaddedBatch batch = pad_batch(examples.tokens, indices);
        std::vector<std::int64_t> labels;
        for (const auto i : indices)
          labels.push_back(examples.labels[i]);
        optimizer.zero_grad();
        const at::Tensor logits = head.forward(hidden_states(backbone, batch), batch.key_valid);
        const at::Tensor loss =  // logits (B, K)
            torch::nn::functional::cross_entropy(logits, at::tensor(labels, at::kLong));
        loss.backward();
        torch::nn::utils::clip_grad_norm_(parameters, 1.0);
        optimizer.step();
        loss_sum += loss.item<double>() * static_cast<double>(indices.size());
      }
      epoch_loss = loss_sum / static_cast<double>(N);
    }
    backbone.eval();
    head.eval();
    return epoch_loss;
  }

  // <job>/finetune/: model.pt (backbone.* and classifier_head.*) and config.toml (the job's config
  // with [classifier]), a folder `sslx export` takes like a checkpoint.
  void save(const EvalContext& context, const arch::Architecture& backbone,
            const arch::ClassificationHeadImpl& head,
            const std::vector<std::string>& classes) const {
    const std::filesystem::path folder = context.job_dir() / "finetune";
    std::map<std::string, at::Tensor> state;
    for (const auto& [name, tensor] : nn::named_state(backbone))
      state.emplace("backbone." + name, tensor);
    for (const auto& [name, tensor] : nn::named_state(head))
      state.emplace("classifier_head." + name, tensor);
    config::Node config = context.config();
    config.set("classifier",
               arch::to_node({.labels = classes, .pooling = pooling_name_, .pooler = pooler_}));
    std::filesystem::create_directories(folder);
    nn::save_state_dict(state, folder / "model.pt");
    fs::write_text_atomic(folder / "config.toml",
                          "# The classifier the fine-tune evaluator trained from " +
                              context.checkpoint().string() + "\n" + config::to_toml(config));
    console::info("eval finetune: saved the classifier in " + folder.string());
  }

  std::vector<std::int64_t> predict(arch::Architecture& backbone,
                                    arch::ClassificationHeadImpl& head,
                                    const LabelledExamples& examples) const {
    const at::NoGradGuard no_grad;
    std::vector<std::int64_t> predicted;
    const auto M = static_cast<std::int64_t>(examples.labels.size());
    for (std::int64_t start = 0; start < M; start += batch_size_) {
      std::vector<std::int64_t> indices;
      for (std::int64_t i = start; i < std::min(M, start + batch_size_); ++i)
        indices.push_back(i);
      const PaddedBatch batch = pad_batch(examples.tokens, indices);
      const at::Tensor classes =
          head.forward(hidden_states(backbone, batch), batch.key_valid).argmax(1).contiguous();
      predicted.insert(predicted.end(), classes.data_ptr<std::int64_t>(),
                       classes.data_ptr<std::int64_t>() + classes.numel());
    }
    return predicted;
  }

  config::Node options_;
  std::int64_t epochs_;
  std::int64_t batch_size_;
  double lr_;
  double weight_decay_;
  double dropout_;
  std::string pooling_name_;
  arch::Pooling pooling_;
  bool pooler_;
  bool save_model_;
};

}  // namespace

void register_finetune() {
  config::Schema schema;
  add_task_fields(schema);
  schema.add({.key = "epochs",
              .type = config::Type::kInt,
              .default_value = 2,
              .doc = "passes over the training examples",
              .min = 1});
  schema.add({.key = "batch_size",
              .type = config::Type::kInt,
              .default_value = 16,
              .doc = "examples per AdamW step",
              .min = 1});
  schema.add({.key = "lr",
              .type = config::Type::kFloat,
              .default_value = 2e-4,
              .doc = "AdamW learning rate (constant) for backbone and head",
              .min = 0.0});
  schema.add({.key = "weight_decay",
              .type = config::Type::kFloat,
              .default_value = 0.01,
              .doc = "AdamW decoupled weight decay",
              .min = 0.0});
  schema.add({.key = "dropout",
              .type = config::Type::kFloat,
              .default_value = 0.1,
              .doc = "dropout before the head's projection",
              .min = 0.0,
              .max = 1.0});
  schema.add({.key = "pooling",
              .type = config::Type::kString,
              .default_value = "mean",
              .doc = "what the head reads: mean over the valid positions, or the first or last",
              .choices = {"mean", "first", "last"}});
  schema.add({.key = "pooler",
              .type = config::Type::kBool,
              .default_value = false,
              .doc = "BERT's pooler (dense + tanh) between the pooled vector and the classifier; "
                     "with pooling = \"first\" the head is BertForSequenceClassification's"});
  schema.add({.key = "save_model",
              .type = config::Type::kBool,
              .default_value = false,
              .doc = "keep the fine-tuned classifier in <job>/finetune/ (model.pt, config.toml), "
                     "which `sslx export` writes as a Hugging Face ...ForSequenceClassification"});
  evaluator_registry().add(
      "finetune", "fine-tune: backbone + classification head trained with AdamW on a labelled task",
      std::move(schema),
      [](const config::Node& options) { return std::make_unique<FinetuneEvaluator>(options); });
}

}  // namespace sslx::eval
