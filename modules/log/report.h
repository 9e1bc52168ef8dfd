// `sslx report DIR`: an experiment folder turned into what goes into a paper (docs/reports.md):
//   DIR/report.md              comparison table, statements, plots, samples
//   DIR/report.html            the same and the configs and provenance, for a browser
//                              (report_html.h)
//   DIR/report/table.{md,tex,csv}, jobs.csv, curves.{png,svg}, downstream.{png,svg}, plots.gp,
//              reward_kl.{png,svg} and alignment.gp (report_alignment.h)
//   DIR/experiment.h5          every job's summary and final evaluation, and a link to its log
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "log/experiment_records.h"

namespace sslx::log {

struct ReportResult {
  std::string markdown_table;  // what `sslx run` prints at the end
  std::vector<std::filesystem::path> files;
};

ReportResult write_report(const std::filesystem::path& experiment);

// The statements under the table: parameter and token budgets of the groups, and how the
// downstream accuracy compares with the majority-class baseline (an honest line when no group
// beats it).
std::vector<std::string> report_statements(const std::vector<GroupSummary>& groups);

// experiment.h5: /jobs/<job> attrs (group, variant, seed, status, every value), a `log` link to
// the job's log.h5, and /groups/<group> attrs <value>/mean, <value>/std, n.
void write_experiment_file(const std::filesystem::path& file, const std::vector<JobRecord>& jobs,
                           const std::vector<GroupSummary>& groups);

}  // namespace sslx::log
