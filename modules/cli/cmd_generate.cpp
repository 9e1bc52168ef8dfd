// `sslx generate SOURCE [--prompt TEXT ... | --prompts FILE.jsonl | --interactive]`: samples
// continuations from a trained decoder or encoder_decoder through the rollout engine (batched,
// KV cache), prints them, writes JSONL on request and reports tokens/s (docs/generation.md).
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/generation_model.h"
#include "data/jsonl_reader.h"
#include "rollout/rollout.h"
#include "train/signals.h"
#include "util/error.h"

namespace sslx::cli {
namespace {

struct GenerateArguments {
  std::string source;
  std::vector<std::string> prompts;
  std::string prompts_file;
  std::string output;
  bool interactive = false;
  double temperature = 1.0;
  std::int64_t top_k = 0;
  double top_p = 1.0;
  double repetition_penalty = 1.0;
  std::int64_t max_new_tokens = 64;
  std::int64_t min_new_tokens = 0;
  std::int64_t seed = 0;
  std::int64_t batch_size = 8;
};

struct Completion {
  std::string prompt;
  std::string text;
  std::vector<data::TokenId> tokens;  // without a final EOS
  std::vector<double> log_probs;      // of every generated token, EOS included
  std::string finish_reason;          // "eos", "length" or "interrupted"
};

class Generator {
 public:
  Generator(GenerationModel model, const GenerateArguments& arguments)
      : model_(std::move(model)), seed_(static_cast<std::uint64_t>(arguments.seed)) {
    const data::SpecialTokens& specials = model_.tokenizer->specials();
    options_.max_new_tokens = arguments.max_new_tokens;
    options_.sampling = {
        .temperature = arguments.temperature, .top_k = arguments.top_k, .top_p = arguments.top_p};
    options_.repetition_penalty = arguments.repetition_penalty;
    options_.min_new_tokens = arguments.min_new_tokens;
    options_.eos = specials.eos;
    options_.pad = specials.pad.value_or(specials.require_eos());
    options_.max_positions = model_.max_positions;
    if (model_.kind == arch::ArchitectureKind::encoder_decoder)
      options_.decoder_start = specials.require_pad();
    rollout::check_sampling_options(options_.sampling);
    if (options_.max_new_tokens <= 0 || options_.repetition_penalty <= 0.0)
      throw Error("--max-new-tokens and --repetition-penalty must be > 0");
  }

  const GenerationModel& model() const { return model_; }

  // Completions of prompts[first, first + count); `on_text` (row 0's new text as it comes) is
  // for interactive use. Ctrl-C stops the generation, not the program.
  std::vector<Completion> complete(const std::vector<std::string>& prompts, std::size_t first,
                                   std::size_t count,
                                   const std::function<void(const std::string&)>& on_text = {}) {
    const data::Tokenizer& tokenizer = *model_.tokenizer;
    const auto eos = tokenizer.specials().eos;
    std::vector<std::vector<data::TokenId>> ids;
    std::vector<std::string> streams;
    for (std::size_t i = first; i < first + count; ++i) {
      std::vector<data::TokenId> prompt = tokenizer.encode(prompts[i]);
      // A decoder continues the text; an empty prompt starts after an end of document. The
      // encoder of an encoder_decoder reads the prompt closed by EOS, as in training.
      if (model_.kind == arch::ArchitectureKind::encoder_decoder && eos) prompt.push_back(*eos);
      if (prompt.empty()) prompt.push_back(tokenizer.specials().require_eos());
      ids.push_back(std::move(prompt));
      streams.push_back("generate/" + std::to_string(i));  // a sample depends on its index only
    }
    rollout::RolloutOptions options = options_;
    const train::StopRequest stop;
    std::vector<data::TokenId> streamed;
    std::string shown;
    options.on_step = [&](const at::Tensor& next, const at::Tensor& active) {
      if (on_text && active[0].item<bool>()) {
        const data::TokenId token = static_cast<data::TokenId>(next[0].item<std::int64_t>());
        if (token != eos) {
          streamed.push_back(token);
          const std::string text = tokenizer.decode(streamed);
          // Print what is new; a piece that rewrote earlier text waits for the next token.
          if (text.size() > shown.size() && text.compare(0, shown.size(), shown) == 0) {
            on_text(text.substr(shown.size()));
            shown = text;
          }
        }
      }
      return !stop.requested();
    };
    const auto policy = [this](const arch::ArchitectureInputs& inputs) {
      return model_.model->logits(inputs);
    };
    const auto start = std::chrono::steady_clock::now();
    const rollout::Rollout samples = rollout::generate(policy, ids, options, seed_, streams);
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<Completion> completions;
    for (std::int64_t row = 0; row < samples.batch(); ++row) {
      Completion c{.prompt = prompts[first + static_cast<std::size_t>(row)],
                   .tokens = rollout::response_text_tokens(samples, row)};
      c.text = tokenizer.decode(c.tokens);
      const std::int64_t length = samples.lengths[row].item<std::int64_t>();
      tokens_ += length;
      for (std::int64_t n = 0; n < length; ++n)
        c.log_probs.push_back(samples.log_probs[row][n].item<double>());
      c.finish_reason = samples.ended_with_eos[row].item<bool>() ? "eos"
                        : samples.stopped                        ? "interrupted"
                                                                 : "length";
      completions.push_back(std::move(c));
    }
    return completions;
  }

  void report_speed() const {
    std::fprintf(stderr, "%lld tokens in %.2f s: %.1f tokens/s\n", static_cast<long long>(tokens_),
                 seconds_, seconds_ > 0 ? static_cast<double>(tokens_) / seconds_ : 0.0);
  }

 private:
  GenerationModel model_;
  std::uint64_t seed_;
  rollout::RolloutOptions options_;
  std::int64_t tokens_ = 0;
  double seconds_ = 0.0;
};

// One JSONL line; text that is not valid UTF-8 (a byte-level model's bytes) gets U+FFFD where a
// sequence is broken, the tokens keep what was generated exactly.
std::string jsonl_line(const Completion& c) {
  const nlohmann::json line = {{"prompt", c.prompt},
                               {"completion", c.text},
                               {"tokens", c.tokens},
                               {"log_probs", c.log_probs},
                               {"finish_reason", c.finish_reason}};
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// Text for the terminal: control characters other than newline and tab (which an untrained or
// byte-level model emits freely, escape sequences included) shown as U+FFFD, never obeyed.
std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7f) {
      out += "\xEF\xBF\xBD";
    } else {
      out += c;
    }
  }
  return out;
}

void interactive(Generator& generator, std::ofstream* jsonl) {
  std::cout << "sslx generate: " << generator.model().description
            << "\nType a prompt and Enter; Ctrl-C stops a generation, Ctrl-D quits.\n";
  std::string line;
  std::vector<std::string> prompts;
  while (true) {
    std::cout << "sslx> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    prompts.push_back(line);
    std::cout << line << std::flush;
    const auto completions = generator.complete(
        prompts, prompts.size() - 1, 1,
        [](const std::string& text) { std::cout << printable(text) << std::flush; });
    const Completion& c = completions.front();
    std::cout << (c.finish_reason == "interrupted" ? " [stopped]" : "") << '\n';
    if (jsonl != nullptr) *jsonl << jsonl_line(c) << std::flush;
  }
  std::cout << '\n';
  generator.report_speed();
}

void run_generate(const GenerateArguments& a) {
  std::vector<std::string> prompts = a.prompts;
  if (!a.prompts_file.empty()) {
    data::SkipReport skips;
    data::JsonlOptions options;
    options.fields.text = "prompt";
    for (auto& document : data::read_jsonl_documents(a.prompts_file, false, options, skips))
      prompts.push_back(std::move(document.text));
  }
  if (prompts.empty() && !a.interactive)
    throw CLI::ValidationError(
        "nothing to generate from: give --prompt TEXT, --prompts "
        "FILE.jsonl (lines {\"prompt\": ...}) or --interactive");
  if (a.batch_size <= 0) throw CLI::ValidationError("--batch-size must be > 0");
  Generator generator(load_generation_model(a.source), a);
  std::ofstream jsonl;
  if (!a.output.empty()) {
    jsonl.open(a.output);
    if (!jsonl) throw IoError("cannot write " + a.output);
  }
  if (a.interactive) {
    interactive(generator, jsonl.is_open() ? &jsonl : nullptr);
    return;
  }
  std::fprintf(stderr, "sslx generate: %s, %zu prompt%s\n", generator.model().description.c_str(),
               prompts.size(), prompts.size() == 1 ? "" : "s");
  const auto batch = static_cast<std::size_t>(a.batch_size);
  for (std::size_t first = 0; first < prompts.size(); first += batch) {
    const std::size_t count = std::min(batch, prompts.size() - first);
    for (const Completion& c : generator.complete(prompts, first, count)) {
      std::cout << c.prompt << c.text << '\n';
      if (jsonl.is_open()) jsonl << jsonl_line(c);
    }
    std::cout << std::flush;
  }
  generator.report_speed();
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto a = std::make_shared<GenerateArguments>();
  auto* command = app.add_subcommand(
      "generate", "Sample text from a trained decoder or encoder_decoder (docs/generation.md)");
  command
      ->add_option("source", a->source,
                   "a run folder, its checkpoints/ folder, a checkpoint, an imported model "
                   "folder or a Hugging Face directory")
      ->required();
  command->add_option("--prompt", a->prompts, "a prompt (repeat for several)");
  command->add_option("--prompts", a->prompts_file, "JSONL file, one {\"prompt\": ...} per line");
  command->add_flag("--interactive", a->interactive,
                    "a prompt loop: tokens printed as they come, Ctrl-C stops a generation");
  command->add_option("--temperature", a->temperature, "0: greedy")->capture_default_str();
  command->add_option("--top-k", a->top_k, "keep the k most likely tokens; 0: off")
      ->capture_default_str();
  command->add_option("--top-p", a->top_p, "nucleus mass; 1: off")->capture_default_str();
  command
      ->add_option("--repetition-penalty", a->repetition_penalty,
                   "divide (multiply) the positive (negative) logits of tokens already present")
      ->capture_default_str();
  command->add_option("--max-new-tokens", a->max_new_tokens, "tokens per completion at most")
      ->capture_default_str();
  command->add_option("--min-new-tokens", a->min_new_tokens, "no EOS before this many tokens")
      ->capture_default_str();
  command->add_option("--seed", a->seed, "a completion depends on (seed, prompt number) only")
      ->capture_default_str();
  command->add_option("--batch-size", a->batch_size, "prompts sampled together")
      ->capture_default_str();
  command->add_option("-o,--output", a->output,
                      "also write JSONL: prompt, completion, tokens, log_probs, finish_reason");
  command->callback([a] { run_generate(*a); });
}

}  // namespace sslx::cli
