#include "eval/generate.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>

#include "architectures/architecture_registry.h"
#include "eval/backbone_loading.h"
#include "eval/builtin_evaluators.h"
#include "eval/evaluator.h"
#include "objectives/language_model.h"
#include "util/error.h"
#include "util/strings.h"

namespace sslx::eval {

std::vector<std::vector<data::TokenId>> generate(
    objectives::LanguageModelImpl& model, const std::vector<std::vector<data::TokenId>>& prompts,
    const rollout::RolloutOptions& options, std::uint64_t seed,
    const std::vector<std::string>& streams) {
  TORCH_CHECK(model.backbone->kind() == arch::ArchitectureKind::decoder,
              "generate: needs a decoder, got ", arch::kind_name(model.backbone->kind()));
  const auto policy = [&model](const arch::ArchitectureInputs& inputs) {
    return model.logits(inputs);
  };
  const rollout::Rollout samples = rollout::generate(policy, prompts, options, seed, streams);
  std::vector<std::vector<data::TokenId>> continuations;
  for (std::int64_t row = 0; row < samples.batch(); ++row)
    continuations.push_back(rollout::response_text_tokens(samples, row));
  return continuations;
}

namespace {

// The first `words` whitespace-separated words of `text`, joined by single spaces.
std::string first_words(const std::string& text, std::int64_t words) {
  std::vector<std::string> kept;
  std::string word;
  for (const char c : text + " ") {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      if (!word.empty()) kept.push_back(word);
      word.clear();
      if (static_cast<std::int64_t>(kept.size()) == words) break;
    } else {
      word += c;
    }
  }
  return join(kept, " ");
}

class GenerateEvaluator : public Evaluator {
 public:
  explicit GenerateEvaluator(const config::Node& options)
      : n_prompts_(options.get_int("n_prompts")),
        prompt_words_(options.get_int("prompt_words")),
        seed_(static_cast<std::uint64_t>(options.get_int("seed"))) {
    for (const auto& prompt : options.at_path("prompts").as_array())
      prompts_.push_back(prompt.as_string());
    generation_.max_new_tokens = options.get_int("max_new_tokens");
    generation_.sampling = {.temperature = options.get_float("temperature"),
                            .top_k = options.get_int("top_k"),
                            .top_p = options.get_float("top_p")};
  }

  std::optional<std::string> skip_reason(EvalContext& context) const override {
    if (arch::model_kind(context.config()) != arch::ArchitectureKind::decoder) {
      return "generation needs a decoder (left-to-right language model); model.arch is " +
             context.config().get_string("model.arch");
    }
    return not_a_language_model(context.checkpoint());
  }

  void run(EvalContext& context, EvalResults& results) override {
    const config::Node& root = context.config();
    const data::Tokenizer& tokenizer = *context.lm_data().tokenizer;
    objectives::LanguageModel model(root.at_path("model"), tokenizer.vocab_size());
    objectives::load_pretrained(*model, context.checkpoint());
    model->eval();
    rollout::RolloutOptions options = generation_;
    options.eos = tokenizer.specials().eos;
    options.pad = tokenizer.specials().pad.value_or(tokenizer.specials().require_eos());
    options.max_positions = root.get_int("model.max_positions");

    std::vector<std::string> prompts = prompts_;
    if (prompts.empty()) {
      for (const auto& document : context.test_documents()) {
        if (static_cast<std::int64_t>(prompts.size()) == n_prompts_) break;
        const std::string prompt = first_words(document.text, prompt_words_);
        if (!prompt.empty()) prompts.push_back(prompt);
      }
    }
    std::vector<std::vector<data::TokenId>> prompt_ids;
    std::vector<std::string> streams;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      std::vector<data::TokenId> ids = tokenizer.encode(prompts[i]);
      // An empty prompt starts after an end of document, as every packed document does.
      if (ids.empty()) ids.push_back(tokenizer.specials().require_eos());
      prompt_ids.push_back(std::move(ids));
      streams.push_back("generate/" + std::to_string(i));
    }
    double new_tokens = 0;
    if (!prompts.empty()) {
      const auto continuations = generate(*model, prompt_ids, options, seed_, streams);
      for (std::size_t i = 0; i < prompts.size(); ++i) {
        new_tokens += static_cast<double>(continuations[i].size());
        results.texts["generate/prompt_" + std::to_string(i)] = prompts[i];
        std::vector<data::TokenId> text = prompt_ids[i];
        text.insert(text.end(), continuations[i].begin(), continuations[i].end());
        results.texts["generate/sample_" + std::to_string(i)] = tokenizer.decode(text);
      }
    }
    results.scalars["generate/samples"] = static_cast<double>(prompts.size());
    if (!prompts.empty())
      results.scalars["generate/mean_new_tokens"] =
          new_tokens / static_cast<double>(prompts.size());
  }

 private:
  std::vector<std::string> prompts_;
  std::int64_t n_prompts_;
  std::int64_t prompt_words_;
  std::uint64_t seed_;
  rollout::RolloutOptions generation_;
};

}  // namespace

void register_generate() {
  config::Schema schema;
  schema.add({.key = "prompts",
              .type = config::Type::kArray,
              .default_value = config::Node(config::Array{}),
              .doc = "prompt strings; empty: the first words of the first test documents",
              .element_type = config::Type::kString});
  schema.add({.key = "n_prompts",
              .type = config::Type::kInt,
              .default_value = 3,
              .doc = "prompts taken from the test split when `prompts` is empty",
              .min = 0});
  schema.add({.key = "prompt_words",
              .type = config::Type::kInt,
              .default_value = 4,
              .doc = "words of a test document that make its prompt",
              .min = 1});
  schema.add({.key = "max_new_tokens",
              .type = config::Type::kInt,
              .default_value = 40,
              .doc = "tokens generated per prompt at most (generation also stops at EOS)",
              .min = 1});
  schema.add({.key = "temperature",
              .type = config::Type::kFloat,
              .default_value = 0.8,
              .doc = "softmax temperature; 0: greedy",
              .min = 0.0});
  schema.add({.key = "top_k",
              .type = config::Type::kInt,
              .default_value = 40,
              .doc = "sample among the k most likely tokens; 0: no top-k filter",
              .min = 0});
  schema.add({.key = "top_p",
              .type = config::Type::kFloat,
              .default_value = 0.95,
              .doc = "nucleus: the smallest most-likely set with this much mass; 1: off",
              .min = 1e-6,
              .max = 1.0});
  schema.add({.key = "seed",
              .type = config::Type::kInt,
              .default_value = 0,
              .doc = "seed of the sampling streams (sample i draws from stream generate/i)",
              .min = 0});
  evaluator_registry().add(
      "generate",
      "generated samples from a decoder LM (temperature, top-k, top-p) through the KV cache",
      std::move(schema),
      [](const config::Node& options) { return std::make_unique<GenerateEvaluator>(options); });
}

}  // namespace sslx::eval
