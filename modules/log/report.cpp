#include "log/report.h"

#include <algorithm>
#include <cstdio>

#include "log/h5.h"
#include "log/report_alignment.h"
#include "log/report_html.h"
#include "log/report_plots.h"
#include "log/report_tables.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/version.h"

namespace sslx::log {
namespace stdfs = std::filesystem;
namespace {

std::string percent(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f%%", 100 * fraction);
  return buffer;
}

// Generated samples of the first completed job of each group that has any.
std::string samples_section(const std::vector<GroupSummary>& groups) {
  std::string out;
  for (const auto& samples : first_samples(groups)) {
    out += "\n### " + samples.group->label + " (" + samples.job->name + ")\n\n";
    for (const auto& text : samples.texts) {
      std::string indented = "> ";
      for (const char c : text) {
        indented += c;
        if (c == '\n') indented += "> ";
      }
      out += indented + "\n\n";
    }
  }
  return out.empty() ? out : "\n## Generated samples\n" + out;
}

std::string skipped_section(const std::vector<JobRecord>& jobs) {
  std::string out;
  for (const auto& job : jobs) {
    for (const auto& [name, text] : job.texts) {
      const auto slash = name.find('/');
      if (slash != std::string::npos && name.substr(slash + 1) == "skipped") {
        out += "- " + job.name + ": " + name.substr(0, slash) + " skipped: " + text + "\n";
      }
    }
  }
  return out.empty() ? out : "\n## Evaluators that did not apply\n\n" + out;
}

}  // namespace

std::vector<std::string> report_statements(const std::vector<GroupSummary>& groups) {
  std::vector<std::string> lines;
  const auto list = [&groups](const std::string& key, const auto& format) {
    std::string text;
    for (const auto& group : groups) {
      const auto it = group.values.find(key);
      if (it == group.values.end()) continue;
      text += (text.empty() ? "" : ", ") + group.label + " " + format(it->second.mean);
    }
    return text;
  };
  const auto count = [](double value) {
    return format_statistic("parameters", Statistic{.mean = value, .std = 0, .n = 1});
  };
  const std::string parameters = list("parameters", count);
  if (!parameters.empty()) lines.push_back("Parameters (all trained weights): " + parameters + ".");
  const std::string tokens = list("tokens", count);
  if (!tokens.empty()) {
    lines.push_back("Training budget in input tokens (steps x batch x sequence length): " + tokens +
                    ".");
  }
  // Downstream: the best group's accuracy against the majority class of the same test split.
  for (const std::string evaluator : {"probe", "finetune"}) {
    const std::string key = evaluator + "/accuracy";
    const GroupSummary* best = nullptr;
    double baseline = -1;
    for (const auto& group : groups) {
      const auto it = group.values.find(key);
      if (it == group.values.end()) continue;
      if (best == nullptr || it->second.mean > best->values.at(key).mean) best = &group;
      if (const auto b = group.values.find("probe/majority_accuracy"); b != group.values.end())
        baseline = b->second.mean;
    }
    if (best == nullptr || baseline < 0) continue;
    const Statistic& value = best->values.at(key);
    const std::string name = evaluator == "probe" ? "linear probe" : "fine-tuned classifier";
    if (value.mean > baseline) {
      lines.push_back("The best " + name + " (" + best->label + ", " + percent(value.mean) +
                      ") is above the majority-class baseline of " + percent(baseline) + ".");
    } else {
      lines.push_back("No " + name + " beats the majority-class baseline of " + percent(baseline) +
                      " (best: " + best->label + ", " + percent(value.mean) +
                      "): at this budget the representations carry no usable category signal.");
    }
  }
  return lines;
}

void write_experiment_file(const stdfs::path& file, const std::vector<JobRecord>& jobs,
                           const std::vector<GroupSummary>& groups) {
  const stdfs::path temporary = file.string() + ".tmp";
  stdfs::remove(temporary);
  {
    const h5::Handle out = h5::create_file(temporary.string());
    h5::write_attribute(out.get(), "sslx_version", std::string(SSLX_VERSION_STRING));
    const h5::Handle jobs_group = h5::require_group(out.get(), "jobs");
    for (const auto& job : jobs) {
      const std::string name = job.directory.filename().string();
      const h5::Handle group = h5::require_group(jobs_group.get(), name);
      h5::write_attribute(group.get(), "name", job.name);
      h5::write_attribute(group.get(), "group", job.group);
      h5::write_attribute(group.get(), "variant", job.variant);
      h5::write_attribute(group.get(), "status", job.status);
      if (job.seed) h5::write_attribute(group.get(), "seed", *job.seed);
      for (const auto& [key, value] : job.values)
        h5::write_attribute(group.get(), key, value);
      const stdfs::path log = stdfs::relative(job.directory / "log.h5", file.parent_path());
      h5::link_external(group.get(), "log", log.string(), "/");
    }
    const h5::Handle groups_group = h5::require_group(out.get(), "groups");
    for (const auto& summary : groups) {
      const h5::Handle group = h5::require_group(groups_group.get(), summary.label);
      h5::write_attribute(group.get(), "n", static_cast<std::int64_t>(summary.jobs.size()));
      for (const auto& [key, value] : summary.values) {
        h5::write_attribute(group.get(), key + "/mean", value.mean);
        h5::write_attribute(group.get(), key + "/std", value.std);
      }
    }
  }
  stdfs::rename(temporary, file);
}

ReportResult write_report(const stdfs::path& experiment) {
  const std::vector<JobRecord> jobs = collect_jobs(experiment);
  const std::vector<GroupSummary> groups = summarize_groups(jobs);
  const std::vector<std::string> columns = column_order(groups);
  const stdfs::path folder = experiment / "report";
  stdfs::create_directories(folder);
  const std::string title =
      !jobs.front().experiment.empty()
          ? jobs.front().experiment
          : stdfs::absolute(experiment).lexically_normal().filename().string();

  ReportResult result;
  result.markdown_table = markdown_table(groups, columns);
  const auto write = [&result](const stdfs::path& path, const std::string& text) {
    fs::write_text_atomic(path, text);
    result.files.push_back(path);
  };
  write(folder / "table.md", result.markdown_table);
  write(folder / "table.tex", latex_table(groups, columns, title + ": comparison."));
  write(folder / "table.csv", csv_table(groups, columns));
  std::vector<std::string> every_value;
  for (const auto& job : jobs) {
    for (const auto& [name, value] : job.values) {
      if (std::find(every_value.begin(), every_value.end(), name) == every_value.end())
        every_value.push_back(name);
    }
  }
  std::sort(every_value.begin(), every_value.end());
  write(folder / "jobs.csv", jobs_csv(jobs, every_value));
  write_experiment_file(experiment / "experiment.h5", jobs, groups);
  result.files.push_back(experiment / "experiment.h5");
  const PlotFiles plots = write_plots(groups, title, folder);
  result.files.insert(result.files.end(), plots.images.begin(), plots.images.end());

  std::size_t completed = 0;
  for (const auto& job : jobs)
    completed += job.status == "completed" ? 1 : 0;
  std::string md = "# " + title + "\n\n";
  if (!jobs.front().description.empty()) md += jobs.front().description + "\n\n";
  md += std::to_string(jobs.size()) + " jobs, " + std::to_string(completed) +
        " completed; groups are jobs that differ only in their seed (mean ± std over seeds). "
        "Written by sslx " SSLX_VERSION_STRING ".\n\n";
  md += "## Comparison\n\n" + result.markdown_table + "\n";
  const std::vector<std::string> statements = report_statements(groups);
  for (const auto& line : statements)
    md += "- " + line + "\n";
  md +=
      "\nFiles: [table.tex](report/table.tex) (booktabs), [table.csv](report/table.csv), "
      "[jobs.csv](report/jobs.csv), experiment.h5.\n";
  if (!plots.images.empty()) {
    md += "\n## Learning curves\n\n![learning curves](report/curves.png)\n";
    if (std::any_of(plots.images.begin(), plots.images.end(),
                    [](const stdfs::path& p) { return p.filename() == "downstream.png"; })) {
      md += "\n## Downstream accuracy\n\n![downstream accuracy](report/downstream.png)\n";
    }
  }
  if (!plots.note.empty()) md += "\n_" + plots.note + "._\n";
  const AlignmentReport alignment = write_alignment_report(groups, title, folder);
  md += alignment.markdown;
  result.files.insert(result.files.end(), alignment.images.begin(), alignment.images.end());
  md += samples_section(groups);
  md += skipped_section(jobs);
  std::string unfinished;
  for (const auto& job : jobs) {
    if (job.status != "completed") {
      unfinished += "- " + job.name + ": " + job.status + " (" +
                    (job.directory / "output.log").string() + ")\n";
    }
  }
  if (!unfinished.empty()) md += "\n## Jobs not in the table\n\n" + unfinished;
  write(experiment / "report.md", md);

  HtmlReportInput page{.title = title,
                       .description = jobs.front().description,
                       .jobs = &jobs,
                       .groups = &groups,
                       .columns = columns,
                       .statements = statements,
                       .plots_note = plots.note,
                       .alignment_markdown = alignment.markdown,
                       .experiment = experiment};
  const std::map<std::string, std::string> captions{
      {"curves.svg", "Learning curves: train and validation loss against input tokens"},
      {"downstream.svg", "Downstream accuracy with the majority-class baseline"},
      {"reward_kl.svg", "Reward against KL to the reference"}};
  for (const auto& images : {plots.images, alignment.images}) {
    for (const auto& image : images) {
      if (image.extension() != ".svg") continue;
      const auto caption = captions.find(image.filename().string());
      page.plots.emplace_back(image,
                              caption != captions.end() ? caption->second : image.stem().string());
    }
  }
  write(experiment / "report.html", html_report(page));
  return result;
}

}  // namespace sslx::log
