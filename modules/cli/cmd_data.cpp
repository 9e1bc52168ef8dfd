// `sslx data prepare FILE [overrides]`: trains the tokenizer if needed, tokenizes, splits and
// caches the corpus of a config, and prints what it holds.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/config_loading.h"
#include "data/lm_data.h"
#include "data/sentencepiece_tokenizer.h"

namespace sslx::cli {
namespace {

void prepare(const ConfigArguments& arguments) {
  const config::Resolved resolved = load_config(arguments);
  const data::LmData data = data::prepare_lm_data(resolved.config);
  const auto& tokenizer = *data.tokenizer;
  std::cout << "tokenizer: " << tokenizer.name() << ", vocabulary " << tokenizer.vocab_size()
            << " (" << tokenizer.fingerprint() << ")\n";
  if (!data.corpus.directory.empty()) {
    std::cout << "shards:    " << data.corpus.directory.string()
              << (data.corpus.reused ? " (cached)" : " (built)") << '\n';
  }
  if (data.entropy_rate) {
    std::printf("entropy:   %.6f nats/token (the loss floor of this synthetic source)\n",
                *data.entropy_rate);
    std::fflush(stdout);
  }
  std::printf("%-6s %10s %12s\n", "split", "documents", "tokens");
  for (auto split : {data::Split::kTrain, data::Split::kValidation, data::Split::kTest}) {
    const auto statistics = data.corpus.statistics(split);
    std::printf("%-6s %10lld %12lld\n", data::to_string(split).c_str(),
                static_cast<long long>(statistics.documents),
                static_cast<long long>(statistics.tokens));
  }
  std::fflush(stdout);
  if (!data.label_counts.empty()) {
    std::cout << "labels:";
    for (const auto& [label, count] : data.label_counts)
      std::cout << ' ' << label << '=' << count;
    std::cout << '\n';
  }
  if (data.skips.skipped > 0) std::cout << data.skips.summary() << '\n';
}

void train_tokenizer(const ConfigArguments& arguments) {
  const config::Resolved resolved = load_config(arguments);
  const auto tokenizer = data::build_tokenizer(resolved.config);
  std::cout << "tokenizer: " << tokenizer->name() << ", vocabulary " << tokenizer->vocab_size()
            << '\n';
  if (const auto* sp = dynamic_cast<const data::SentencePieceTokenizer*>(tokenizer.get())) {
    std::cout << "model:     " << sp->model_path().string() << '\n';
  }
  const auto& specials = tokenizer->specials();
  std::cout << "specials: ";
  const std::pair<const char*, std::optional<data::TokenId>> named[] = {
      {"pad", specials.pad},   {"bos", specials.bos}, {"eos", specials.eos}, {"unk", specials.unk},
      {"mask", specials.mask}, {"cls", specials.cls}, {"sep", specials.sep}};
  for (const auto& [name, id] : named) {
    std::cout << ' ' << name << '=' << (id ? std::to_string(*id) : std::string("none"));
  }
  std::cout << "  sentinels=" << specials.sentinel_count << '\n';
}

}  // namespace

void add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Prepare and inspect corpora");
  data->require_subcommand(1);
  auto* prepare_command = data->add_subcommand(
      "prepare",
      "Tokenize, split and cache the [data] corpus of FILE with its [tokenizer] "
      "(training the tokenizer first when it needs training)");
  auto arguments = std::make_shared<ConfigArguments>();
  add_config_arguments(*prepare_command, *arguments);
  prepare_command->callback([arguments] { prepare(*arguments); });

  auto* tokenizer = app.add_subcommand("tokenizer", "Train and inspect tokenizers");
  tokenizer->require_subcommand(1);
  auto* train = tokenizer->add_subcommand(
      "train",
      "Build the [tokenizer] of FILE: train a SentencePiece model on the train split of "
      "its [data] corpus (cached by content), or load the configured one");
  auto train_arguments = std::make_shared<ConfigArguments>();
  add_config_arguments(*train, *train_arguments);
  train->callback([train_arguments] { train_tokenizer(*train_arguments); });
}

}  // namespace sslx::cli
