// report.html: the whole report of an experiment as one self-contained page for a browser (no
// network: CSS, the plots (SVG as data URIs) and a little vanilla JavaScript are inside it):
//   - the comparison table (mean ± std over seeds), sortable by clicking a column's header, the
//     best group of every column that has a direction (losses lower, accuracies higher) marked;
//   - the statements under the table, every plot of the report, the alignment section;
//   - each group's resolved config, the keys that differ between groups listed first and
//     highlighted;
//   - the provenance: sslx version, git commit, machine, start, end and wall time, and links to
//     every job's folder and log.
// Numbers in the table carry their full-precision mean and std as data attributes
// (data-mean, data-std), the same values as table.csv.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "log/experiment_records.h"

namespace sslx::log {

struct HtmlReportInput {
  std::string title, description;
  const std::vector<JobRecord>* jobs = nullptr;
  const std::vector<GroupSummary>* groups = nullptr;
  std::vector<std::string> columns;     // of the comparison table, in order
  std::vector<std::string> statements;  // report_statements()
  // SVG images with their captions, embedded in this order
  std::vector<std::pair<std::filesystem::path, std::string>> plots;
  std::string plots_note;          // why a plot is missing, or ""
  std::string alignment_markdown;  // the alignment section of report.md, or ""
  std::filesystem::path experiment;
};

// The page's text; `sslx report` writes it to DIR/report.html.
std::string html_report(const HtmlReportInput& input);

// Text with &, <, >, " and ' escaped for HTML content and attribute values.
std::string html_escape(const std::string& text);

}  // namespace sslx::log
