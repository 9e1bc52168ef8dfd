// The comparison table of an experiment (mean ± std over seeds) in Markdown, LaTeX (booktabs)
// and CSV, and one CSV row per job.
#pragma once

#include <string>
#include <vector>

#include "log/experiment_records.h"

namespace sslx::log {

// "Held-out acc (%)" for "heldout/accuracy", "Params" for "parameters"; unknown names as they are.
std::string column_title(const std::string& name);
// Whether a value is a fraction shown as a percentage (accuracies, F1 scores).
bool is_percentage(const std::string& name);
// Which way a value improves, for marking the best group of a column: kNone for sizes, budgets,
// timings and values that describe rather than score (KL, response length, the majority class).
enum class Better { kNone, kHigher, kLower };
Better better_direction(const std::string& name);
// "45.2 ± 1.3" (percentages scaled), "1.23M" for counts; "–" when n = 0.
std::string format_statistic(const std::string& name, const Statistic& value,
                             const std::string& plus_minus = " ± ");

std::string markdown_table(const std::vector<GroupSummary>& groups,
                           const std::vector<std::string>& columns);
std::string latex_table(const std::vector<GroupSummary>& groups,
                        const std::vector<std::string>& columns, const std::string& caption);
// group,n,<name>_mean,<name>_std,... with full precision, unscaled.
std::string csv_table(const std::vector<GroupSummary>& groups,
                      const std::vector<std::string>& columns);
std::string jobs_csv(const std::vector<JobRecord>& jobs, const std::vector<std::string>& columns);

}  // namespace sslx::log
