// `sslx report DIR` (the experiment's report; `sslx run` writes it at the end) and
// `sslx compare DIR... [--out PREFIX]` (several experiments or runs in one table).
#include <iostream>

#include "cli/commands.h"
#include "log/experiment_records.h"
#include "log/report.h"
#include "log/report_tables.h"
#include "util/console.h"
#include "util/fs.h"

namespace sslx::cli {
namespace stdfs = std::filesystem;

void add_report_command(CLI::App& app) {
  auto* report = app.add_subcommand(
      "report",
      "Write an experiment's report: tables (Markdown, LaTeX, CSV), plots, experiment.h5");
  auto directory = std::make_shared<std::string>();
  report->add_option("dir", *directory, "experiment folder (runs/<experiment>)")
      ->required()
      ->check(CLI::ExistingDirectory);
  report->callback([directory] {
    const auto result = log::write_report(*directory);
    std::cout << result.markdown_table;
    for (const auto& file : result.files)
      console::info("wrote " + file.string());
    console::info("wrote " + (stdfs::path(*directory) / "report.md").string());
  });
}

void add_compare_command(CLI::App& app) {
  auto* compare = app.add_subcommand(
      "compare", "Put several experiments (or single runs) in one comparison table");
  auto directories = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  compare->add_option("dirs", *directories, "experiment or job folders")
      ->required()
      ->check(CLI::ExistingDirectory);
  compare->add_option("--out", *out, "also write PREFIX.md, PREFIX.tex and PREFIX.csv");
  compare->callback([directories, out] {
    // Records must outlive the summaries that point at them.
    std::vector<std::vector<log::JobRecord>> records;
    records.reserve(directories->size());
    std::vector<log::GroupSummary> groups;
    for (const auto& directory : *directories) {
      records.push_back(log::collect_jobs(directory));
      const std::string prefix = stdfs::absolute(directory).lexically_normal().filename().string();
      for (auto group : log::summarize_groups(records.back())) {
        group.label = prefix + "/" + group.label;
        groups.push_back(std::move(group));
      }
    }
    const auto columns = log::column_order(groups);
    const std::string table = log::markdown_table(groups, columns);
    std::cout << table;
    if (!out->empty()) {
      fs::write_text_atomic(*out + ".md", table);
      fs::write_text_atomic(*out + ".tex", log::latex_table(groups, columns, "Comparison."));
      fs::write_text_atomic(*out + ".csv", log::csv_table(groups, columns));
      console::info("wrote " + *out + ".md, .tex, .csv");
    }
  });
}

}  // namespace sslx::cli
