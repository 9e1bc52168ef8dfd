// `sslx data prepare FILE [overrides]`: trains the tokenizer if needed, tokenizes, splits and
// caches the corpus of a config, and prints what it holds.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/config_loading.h"
#include "data/data_registry.h"

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
  if (data.skips.skipped > 0) std::cout << data.skips.summary() << '\n';
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
  prepare_command->add_option("file", arguments->file, "experiment or config file (.toml)")
      ->required()
      ->check(CLI::ExistingFile);
  prepare_command->add_option("overrides", arguments->overrides, "overrides (a.b=v, group=option)");
  prepare_command->add_option("--config-dir", arguments->config_dirs,
                              "extra directory of config groups, searched first");
  prepare_command->callback([arguments] { prepare(*arguments); });
}

}  // namespace sslx::cli
