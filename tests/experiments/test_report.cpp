// Reports from recorded logs: logs written here with known values, the report's numbers checked
// against means and standard deviations worked out by hand.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "log/experiment_records.h"
#include "log/h5.h"
#include "log/report.h"
#include "log/report_plots.h"
#include "log/report_tables.h"
#include "log/run_log.h"
#include "tests/experiments/recorded_jobs.h"
#include "tests/support.h"

using namespace sslx;
using test::record_job;
namespace stdfs = std::filesystem;

namespace {

std::map<std::string, std::vector<std::string>> read_csv(const stdfs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream header_stream(line);
  for (std::string cell; std::getline(header_stream, cell, ',');)
    header.push_back(cell);
  std::map<std::string, std::vector<std::string>> rows;  // group -> cells by header position
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');)
      cells.push_back(cell);
    std::vector<std::string> named(header.size());
    for (std::size_t i = 0; i < cells.size() && i < header.size(); ++i)
      named[i] = header[i] + "=" + cells[i];
    rows[cells.at(0)] = named;
  }
  return rows;
}

double cell(const std::vector<std::string>& row, const std::string& column) {
  for (const auto& entry : row) {
    if (entry.rfind(column + "=", 0) == 0) return std::stod(entry.substr(column.size() + 1));
  }
  FAIL("no column " << column);
  return 0;
}

}  // namespace

TEST_CASE("the report's table is the mean and sample std over seeds, failed jobs left out") {
  test::TempDir experiment;
  // Probe accuracies 0.40, 0.50, 0.60: mean 0.5, sample std 0.1. 0.20, 0.22, 0.24: 0.22, 0.02.
  record_job(experiment.path(), 0, "bert", 1, {3.0, 2.0},
             {{"probe/accuracy", 0.40}, {"probe/majority_accuracy", 0.3}});
  record_job(experiment.path(), 1, "bert", 2, {3.2, 2.2},
             {{"probe/accuracy", 0.50}, {"probe/majority_accuracy", 0.3}});
  record_job(experiment.path(), 2, "bert", 3, {3.4, 2.4},
             {{"probe/accuracy", 0.60}, {"probe/majority_accuracy", 0.3}});
  record_job(experiment.path(), 3, "gpt", 1, {4.0, 3.0}, {{"probe/accuracy", 0.20}});
  record_job(experiment.path(), 4, "gpt", 2, {4.0, 3.5}, {{"probe/accuracy", 0.22}});
  record_job(experiment.path(), 5, "gpt", 3, {4.0, 4.0}, {{"probe/accuracy", 0.24}});
  record_job(experiment.path(), 6, "gpt", 4, {9.0, 9.0}, {{"probe/accuracy", 0.99}}, false);

  const auto result = log::write_report(experiment.path());
  const auto rows = read_csv(experiment / "report/table.csv");
  REQUIRE(rows.size() == 2);
  const auto& bert = rows.at("bert");
  const auto& gpt = rows.at("gpt");
  CHECK(cell(bert, "n") == 3);
  CHECK(cell(gpt, "n") == 3);  // the failed seed 4 is not averaged in
  CHECK(cell(bert, "probe/accuracy_mean") == Approx(0.5).margin(1e-12));
  CHECK(cell(bert, "probe/accuracy_std") == Approx(0.1).margin(1e-12));
  CHECK(cell(gpt, "probe/accuracy_mean") == Approx(0.22).margin(1e-12));
  CHECK(cell(gpt, "probe/accuracy_std") == Approx(0.02).margin(1e-12));
  // Best validation loss per job: 2.0, 2.2, 2.4 -> mean 2.2, std 0.2; gpt 3.0, 3.5, 4.0.
  CHECK(cell(bert, "val/loss_mean") == Approx(2.2).margin(1e-12));
  CHECK(cell(bert, "val/loss_std") == Approx(0.2).margin(1e-12));
  CHECK(cell(gpt, "val/loss_mean") == Approx(3.5).margin(1e-12));
  CHECK(cell(gpt, "val/loss_std") == Approx(0.5).margin(1e-12));
  // Input tokens: last step 20 x (batch 4 x length 8 x accumulation 2).
  CHECK(cell(bert, "tokens_mean") == Approx(1280));

  // Markdown and LaTeX say the same, as percentages.
  CHECK_THAT(result.markdown_table, Catch::Contains("| bert | 3 |") &&
                                        Catch::Contains("50.0 ± 10.0") &&
                                        Catch::Contains("22.0 ± 2.0"));
  std::ifstream tex(experiment / "report/table.tex");
  const std::string latex((std::istreambuf_iterator<char>(tex)), {});
  CHECK_THAT(latex, Catch::Contains("\\toprule") && Catch::Contains("$50.0 \\pm 10.0$"));
  CHECK_THAT(latex, Catch::Contains("Probe acc (\\%)"));

  // The statement compares the best probe with the majority class.
  std::ifstream md(experiment / "report.md");
  const std::string report((std::istreambuf_iterator<char>(md)), {});
  CHECK_THAT(report, Catch::Contains("bert, 50.0%) is above the majority-class baseline of 30.0%"));
  CHECK_THAT(report, Catch::Contains("gpt,seed=4: failed"));
  CHECK_THAT(report, Catch::Contains("> hello"));

  // experiment.h5 gathers every job, with a working link to its log.
  h5::quiet_errors();
  const auto file = h5::open_file((experiment / "experiment.h5").string(), true);
  CHECK(h5::exists(file.get(), "jobs/bert,seed=2/log/metrics/val/loss/value"));
  const auto group = h5::open_group(file.get(), "groups/gpt");
  CHECK(*h5::read_number_attribute(group.get(), "probe/accuracy/mean") == Approx(0.22));
}

TEST_CASE("the report says so when no probe beats the majority class") {
  test::TempDir experiment;
  record_job(experiment.path(), 0, "bert", 1, {3.0},
             {{"probe/accuracy", 0.25}, {"probe/majority_accuracy", 0.3}});
  record_job(experiment.path(), 1, "gpt", 1, {3.0},
             {{"probe/accuracy", 0.28}, {"probe/majority_accuracy", 0.3}});
  const auto groups_jobs = log::collect_jobs(experiment.path());
  const auto lines = log::report_statements(log::summarize_groups(groups_jobs));
  bool honest = false;
  for (const auto& line : lines)
    honest = honest || line.find(
                           "No linear probe beats the majority-class baseline of 30.0% "
                           "(best: gpt, 28.0%)") != std::string::npos;
  CHECK(honest);
}

TEST_CASE("learning curves average the seeds at the steps every seed logged") {
  const log::MetricSeries a{.steps = {10, 20, 30}, .values = {3.0, 2.0, 1.0}, .times = {}};
  const log::MetricSeries b{.steps = {10, 20}, .values = {5.0, 4.0}, .times = {}};
  const auto curve = log::mean_curve({&a, &b}, 64);
  REQUIRE(curve.size() == 2);  // step 30 only in one seed
  CHECK(curve[0].tokens == 640);
  CHECK(curve[0].mean == Approx(4.0));
  CHECK(curve[0].std == Approx(std::sqrt(2.0)));
  CHECK(curve[1].mean == Approx(3.0));
}

TEST_CASE("the report draws PNG and SVG plots with gnuplot") {
  // Set-up installs gnuplot (scripts/setup.sh): without it the plots are untested, so fail.
  INFO("gnuplot is missing: run scripts/setup.sh (package gnuplot-nox)");
  REQUIRE(std::system("command -v gnuplot >/dev/null 2>&1") == 0);
  test::TempDir experiment;
  record_job(
      experiment.path(), 0, "bert", 1, {3.0, 2.0},
      {{"probe/accuracy", 0.5}, {"finetune/accuracy", 0.6}, {"probe/majority_accuracy", 0.3}});
  record_job(
      experiment.path(), 1, "bert", 2, {3.1, 2.1},
      {{"probe/accuracy", 0.4}, {"finetune/accuracy", 0.7}, {"probe/majority_accuracy", 0.3}});
  log::write_report(experiment.path());
  for (const std::string name : {"curves", "downstream"}) {
    std::ifstream png(experiment / "report" / (name + ".png"), std::ios::binary);
    char signature[8] = {};
    png.read(signature, 8);
    CHECK(std::string(signature + 1, 3) == "PNG");
    std::ifstream svg(experiment / "report" / (name + ".svg"));
    const std::string text((std::istreambuf_iterator<char>(svg)), {});
    CHECK_THAT(text, Catch::Contains("<svg"));
  }
}

TEST_CASE(
    "sslx compare puts the groups of several experiments in one table, sslx status lists jobs") {
  test::TempDir root;
  record_job(root / "first", 0, "bert", 1, {3.0}, {{"probe/accuracy", 0.40}});
  record_job(root / "first", 1, "bert", 2, {3.0}, {{"probe/accuracy", 0.60}});
  record_job(root / "second", 0, "gpt", 1, {3.0}, {{"probe/accuracy", 0.30}});
  record_job(root / "second", 1, "gpt", 2, {9.0}, {}, false);
  auto result = test::run_sslx({"compare", (root / "first").string(), (root / "second").string(),
                                "--out", (root / "both").string()});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("| first/bert | 2 |") && Catch::Contains("50.0 ± 14.1") &&
                             Catch::Contains("| second/gpt | 1 |") && Catch::Contains("30.0"));
  const auto rows = read_csv(root / "both.csv");
  CHECK(cell(rows.at("first/bert"), "probe/accuracy_mean") == Approx(0.5));
  CHECK(cell(rows.at("first/bert"), "probe/accuracy_std") == Approx(std::sqrt(0.02)));
  CHECK(stdfs::is_regular_file(root / "both.tex"));

  result = test::run_sslx({"status", (root / "second").string()});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("gpt,seed=1") && Catch::Contains("gpt,seed=2") &&
                             Catch::Contains("failed") &&
                             Catch::Contains("2 jobs: 1 done, 1 failed"));
  result = test::run_sslx({"compare", (root / "nothing").string()});
  CHECK(result.exit_code != 0);
}
