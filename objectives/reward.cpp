#include "objectives/reward.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <filesystem>

#include "config/toml_io.h"
#include "data/labelled_corpus.h"
#include "nn/state_io.h"
#include "objectives/language_model.h"
#include "objectives/reward_model.h"
#include "objectives/run_checks.h"
#include "objectives/topic_classifier.h"
#include "train/checkpoint.h"
#include "util/console.h"
#include "util/error.h"

namespace sslx::objectives {

RewardRegistry& reward_registry() {
  // Configured inside an objective ([objective.reward]), not at the root.
  static RewardRegistry registry("reward", "reward of a sampled response (policy optimisation)", "",
                                 "reward_model");
  return registry;
}

namespace {

namespace stdfs = std::filesystem;

// The scalar of a trained reward model, read at the last token of prompt + response.
class RewardModelReward : public Reward {
 public:
  RewardModelReward(const config::Node& options, const RewardContext& context) {
    const stdfs::path given = options.get_string("checkpoint");
    const stdfs::path checkpoint = train::resolve_checkpoint(given);
    const stdfs::path weights = checkpoint / "model.pt";
    // <run>/checkpoints/step-N/model.pt: the run's resolved config names its [model].
    const stdfs::path config_file = checkpoint.parent_path().parent_path() / "config.toml";
    if (!stdfs::is_regular_file(weights)) {
      throw Error("objective.reward.checkpoint: " + given.string() + " holds no checkpoint (no " +
                      weights.string() + ")",
                  "name a reward_model run folder, its checkpoints/ folder or one checkpoint");
    }
    if (!stdfs::is_regular_file(config_file)) {
      throw Error("objective.reward.checkpoint: " + checkpoint.string() +
                      " is not inside a run folder (no " + config_file.string() + ")",
                  "name a checkpoint of a reward_model run, which keeps its config.toml");
    }
    const config::Node run_config = config::load_toml_file(config_file);
    if (run_config.get_string("objective.name") != "reward_model") {
      throw Error("objective.reward.checkpoint: " + config_file.string() + " trained objective " +
                      run_config.get_string("objective.name") + ", not reward_model",
                  "name the checkpoint of a reward_model run");
    }
    const auto state = nn::load_state_dict(train::model_file(checkpoint));
    const auto embedding = state.find("backbone.embeddings.tokens.weight");
    if (embedding != state.end() && embedding->second.size(0) != context.tokenizer.vocab_size()) {
      throw Error("objective.reward.checkpoint: the reward model has a vocabulary of " +
                      std::to_string(embedding->second.size(0)) +
                      " tokens, the policy's tokenizer " +
                      std::to_string(context.tokenizer.vocab_size()),
                  "train the reward model with the policy's tokenizer");
    }
    model_ = RewardModel(run_config.at_path("model"), context.tokenizer.vocab_size());
    nn::load_state(*model_, weights);
    model_->eval();
    for (auto& parameter : model_->parameters())
      parameter.requires_grad_(false);
    console::info("reward: reward model " + weights.string());
  }

  at::Tensor score(const RewardQuery& query) override {
    const torch::NoGradGuard no_grad;
    const rollout::PackedSequences packed = rollout::right_padded(query.rollout);
    return model_->forward(packed.token_ids, packed.valid).to(at::kFloat);
  }

 private:
  RewardModel model_{nullptr};
};

// A programmatic reward: the probability that a naive Bayes topic classifier, trained on whole
// classes of a labelled corpus (by default every fortune of the fortune task's eight
// categories), gives the topic the prompt asks for ("A fortune about work:" asks for `work`).
class TopicMatchReward : public Reward {
 public:
  explicit TopicMatchReward(const config::Node& options)
      : classifier_(read_corpus(options), options.get_float("smoothing")) {
    console::info("reward: topic_match over " + std::to_string(classifier_.classes().size()) +
                  " classes of " + options.get_string("directory"));
  }

  at::Tensor score(const RewardQuery& query) override {
    std::vector<float> scores;
    for (std::size_t row = 0; row < query.responses.size(); ++row) {
      const auto topic = classifier_.requested_class(query.prompts[row]);
      if (!topic) {
        std::string known;
        for (const auto& name : classifier_.classes())
          known += (known.empty() ? "" : ", ") + name;
        throw Error("topic_match reward: the prompt \"" + query.prompts[row] +
                        "\" names none of the classes (" + known + ")",
                    "a prompt asks for a class by its name, with '-' written as \" and \"");
      }
      scores.push_back(static_cast<float>(classifier_.posterior(query.responses[row])[*topic]));
    }
    return at::tensor(scores, at::kFloat);
  }

 private:
  static std::vector<data::Document> read_corpus(const config::Node& options) {
    std::vector<std::string> classes;
    for (const auto& name : options.at_path("classes").as_array())
      classes.push_back(name.as_string());
    if (classes.empty()) classes = data::fortune_task_classes();
    return data::read_labelled_directory(options.get_string("directory"), classes,
                                         data::parse_separator(options.get_string("separator")));
  }

  TopicClassifier classifier_;
};

}  // namespace

void register_builtin_rewards() {
  if (reward_registry().contains("reward_model")) return;
  config::Schema schema;
  schema.add({.key = "checkpoint",
              .type = config::Type::kString,
              .doc = "a reward_model run: its folder, its checkpoints/ folder or one checkpoint"});
  reward_registry().add(
      "reward_model", "the scalar of a trained reward model at the last token of the response",
      std::move(schema),
      [](const config::Node& options, const RewardContext& context) {
        return std::make_unique<RewardModelReward>(options, context);
      },
      [](const config::CheckContext& context) {
        check_run_reference(context, "checkpoint", {"reward_model"});
      });

  config::Schema topic;
  topic.add({.key = "directory",
             .type = config::Type::kString,
             .default_value = data::kFortunesDirectory.string(),
             .doc = "labelled corpus: one file per class, named by the class"});
  topic.add({.key = "classes",
             .type = config::Type::kArray,
             .default_value = config::Node(config::Array{}),
             .doc = "class files to read; empty: the fortune task's eight categories",
             .element_type = config::Type::kString});
  topic.add({.key = "separator",
             .type = config::Type::kString,
             .default_value = "percent_line",
             .doc = "how documents are separated in the class files",
             .choices = {"line", "blank_line", "percent_line"}});
  topic.add({.key = "smoothing",
             .type = config::Type::kFloat,
             .default_value = 1.0,
             .doc = "additive pseudo-count of every word in every class",
             .min = 1e-6});
  reward_registry().add(
      "topic_match",
      "P(requested topic | response) under a naive Bayes classifier of a "
      "labelled corpus (a gold reward for the fortune tasks)",
      std::move(topic),
      [](const config::Node& options, const RewardContext&) {
        return std::make_unique<TopicMatchReward>(options);
      },
      [](const config::CheckContext& context) {
        const std::string& directory = context.options().get_string("directory");
        if (!stdfs::is_directory(directory))
          context.error("directory", "no directory " + directory);
      });
}

}  // namespace sslx::objectives
