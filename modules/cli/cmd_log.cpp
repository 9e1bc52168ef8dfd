// `sslx log show FILE [--config] [--texts]`: status, provenance and latest values of a run log;
// on request its resolved config and its texts (samples of the evaluations).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "cli/commands.h"
#include "log/run_log.h"

namespace sslx::cli {
namespace {

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

void print_texts(const std::string& heading, const std::map<std::string, std::string>& texts) {
  if (texts.empty()) return;
  std::cout << "\n  " << heading << ":\n";
  for (const auto& [name, text] : texts) {
    std::cout << "    [" << name << "]\n";
    std::size_t start = 0;
    while (start <= text.size()) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      std::cout << "      " << text.substr(start, end - start) << '\n';
      start = end + 1;
    }
  }
}

void show(const std::string& path, bool with_config, bool with_texts) {
  const log::RunLogReader reader(path);
  std::cout << path << '\n'
            << "  status:   " << log::to_string(reader.status()) << '\n'
            << "  sslx:     " << reader.attribute("sslx_version") << " (log format "
            << reader.format_version() << ")\n"
            << "  started:  " << reader.attribute("start_time") << '\n';
  const std::string end = reader.attribute("end_time");
  if (!end.empty()) std::cout << "  ended:    " << end << '\n';
  // Logs written before sslx recorded where a run was made have no such attributes.
  for (const auto& [name, label] : {std::pair{"host", "machine:  "}, std::pair{"cpu", "cpu:      "},
                                    std::pair{"git_commit", "commit:   "}}) {
    const std::string value = reader.attribute(name);
    if (!value.empty()) std::cout << "  " << label << value << '\n';
  }
  const auto metrics = reader.metrics();
  if (!metrics.empty()) {
    std::printf("\n  %-28s %8s %10s %12s %12s\n", "metric", "rows", "last step", "last", "min");
    std::fflush(stdout);
    for (const auto& [split, name] : metrics) {
      const auto summary = reader.summary(split, name);
      std::printf("  %-28s %8lld %10lld %12s %12s\n", (split + "/" + name).c_str(),
                  static_cast<long long>(summary.count), static_cast<long long>(summary.last_step),
                  number(summary.last).c_str(), number(summary.min).c_str());
    }
    std::fflush(stdout);
  }
  const auto eval = reader.eval();
  if (!eval.empty()) {
    std::cout << "\n  eval:\n";
    for (const auto& [name, value] : eval)
      std::cout << "    " << name << " = " << number(value) << '\n';
  }
  const auto texts = reader.eval_texts();
  const auto training_texts = reader.training_texts();
  if (with_texts) {
    for (const auto& [step, samples] : training_texts)
      print_texts("texts of the evaluation at step " + std::to_string(step), samples);
    print_texts("texts of the final evaluation", texts);
  } else if (!texts.empty() || !training_texts.empty()) {
    std::cout << "\n  texts: " << texts.size() << " of the final evaluation, "
              << training_texts.size() << " evaluations during training (--texts shows them)\n";
  }
  if (with_config) std::cout << "\n# resolved config\n" << reader.attribute("config");
}

}  // namespace

void add_log_command(CLI::App& app) {
  auto* log = app.add_subcommand("log", "Inspect HDF5 run logs");
  log->require_subcommand(1);
  auto* show_command = log->add_subcommand("show", "Status, config and latest metric values");
  auto path = std::make_shared<std::string>();
  auto with_config = std::make_shared<bool>(false);
  auto with_texts = std::make_shared<bool>(false);
  show_command->add_option("file", *path, "log.h5 of a job")->required()->check(CLI::ExistingFile);
  show_command->add_flag("--config", *with_config, "also print the resolved config of the run");
  show_command->add_flag("--texts", *with_texts,
                         "also print the texts of the evaluations (sampled responses, skips)");
  show_command->callback(
      [path, with_config, with_texts] { show(*path, *with_config, *with_texts); });
}

}  // namespace sslx::cli
