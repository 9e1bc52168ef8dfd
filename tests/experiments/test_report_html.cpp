// report.html: its content from recorded logs, then the page in a real browser (headless
// Chromium driven by tests/python/check_html_report.py), with negative controls that the browser
// check must reject.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <regex>

#include "log/report.h"
#include "log/run_log.h"
#include "tests/experiments/recorded_jobs.h"
#include "tests/support.h"
#include "util/fs.h"
#include "util/strings.h"

using namespace sslx;
using test::record_job;
namespace stdfs = std::filesystem;

namespace {

std::string job_config(int batch_size) {
  return "[experiment]\nname = \"html\"\ndescription = \"<b>encoders</b> & decoders\"\n"
         "[trainer]\nbatch_size = " +
         std::to_string(batch_size) +
         "\nsequence_length = 8\ngrad_accumulation = 1\nmax_steps = 20\n"
         "[model]\nd_model = 32\n";
}

// Three groups: bert (2 seeds), gpt (2 seeds, another batch size), t5 (1 seed, no probe).
void record_experiment(const stdfs::path& experiment) {
  record_job(experiment, 0, "bert", 1, {3.0, 2.0},
             {{"heldout/loss", 2.5}, {"probe/accuracy", 0.40}, {"probe/majority_accuracy", 0.3}},
             true, job_config(4));
  record_job(experiment, 1, "bert", 2, {3.2, 2.2},
             {{"heldout/loss", 2.7}, {"probe/accuracy", 0.50}, {"probe/majority_accuracy", 0.3}},
             true, job_config(4));
  record_job(experiment, 2, "gpt", 1, {2.8, 1.9},
             {{"heldout/loss", 2.1}, {"probe/accuracy", 0.35}, {"probe/majority_accuracy", 0.3}},
             true, job_config(8));
  record_job(experiment, 3, "gpt", 2, {2.9, 1.8},
             {{"heldout/loss", 2.2}, {"probe/accuracy", 0.36}, {"probe/majority_accuracy", 0.3}},
             true, job_config(8));
  record_job(experiment, 4, "t5", 1, {3.5, 2.9}, {{"heldout/loss", 3.1}}, true, job_config(4));
}

std::string read(const stdfs::path& path) {
  return fs::read_text(path);
}

std::string hostname() {
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return host;
}

test::CommandResult check_in_browser(const stdfs::path& page, const stdfs::path& table_csv,
                                     const stdfs::path& out) {
  return test::run_command({SSLX_PYTHON, SSLX_SOURCE_DIR "/tests/python/check_html_report.py",
                            "--chromium", SSLX_CHROMIUM, page.string(), table_csv.string(),
                            out.string()});
}

// A copy of report.html with `pattern`'s first match replaced.
stdfs::path damaged_copy(const stdfs::path& experiment, const std::string& name,
                         const std::string& pattern, const std::string& replacement) {
  const std::string page = read(experiment / "report.html");
  const std::string damaged = std::regex_replace(page, std::regex(pattern), replacement,
                                                 std::regex_constants::format_first_only);
  REQUIRE(damaged != page);
  const stdfs::path path = experiment / name;
  test::write_file(path, damaged);
  return path;
}

}  // namespace

TEST_CASE("report.html holds the table, what differs between configs and the provenance") {
  test::TempDir experiment;
  record_experiment(experiment.path());
  const auto result = log::write_report(experiment.path());
  CHECK(std::find(result.files.begin(), result.files.end(), experiment / "report.html") !=
        result.files.end());
  const std::string page = read(experiment / "report.html");

  // Text from logs is escaped: the description's markup is shown, not interpreted.
  CHECK_THAT(page, Catch::Contains("&lt;b&gt;encoders&lt;/b&gt; &amp; decoders"));
  CHECK_THAT(page, !Catch::Contains("<b>encoders</b>"));
  // Held-out loss 2.6 ± 0.141 for bert, 2.15 for gpt: gpt's is the best (lower is better).
  CHECK_THAT(page, Catch::Contains("data-better=\"lower\"") &&
                       Catch::Contains("title=\"best in this column\">2.150 ± 0.071</td>") &&
                       Catch::Contains(">2.600 ± 0.141</td>"));
  // The config key that differs between the groups, with each group's value; the others not.
  const std::regex differences(
      "<tr class=\"differs\"><td><code>trainer.batch_size</code></td><td><code>4</code></td>"
      "<td><code>8</code></td><td><code>4</code></td></tr>");
  CHECK(std::regex_search(page, differences));
  CHECK_THAT(page, Catch::Contains("(1 of 7 keys)"));
  CHECK_THAT(page, !Catch::Contains("<tr class=\"differs\"><td><code>model.d_model"));
  // Provenance: the machine and the git commit of the working directory the logs were made in.
  CHECK_THAT(page, Catch::Contains("<th>machine</th><td>" + hostname() + "</td>"));
  const auto head = test::run_command({"/bin/sh", "-c", "git rev-parse HEAD"});
  if (head.exit_code == 0) {
    CHECK_THAT(page, Catch::Contains("<th>git commit</th><td>" + trim(head.out)));
  } else {
    CHECK_THAT(page, Catch::Contains("<th>git commit</th><td>not recorded</td>"));
  }
  const log::RunLogReader log(experiment / "bert,seed=1/log.h5");
  CHECK(log.attribute("host") == hostname());
  CHECK_THAT(log.attribute("cpu"), Catch::Contains("logical CPUs"));
  // Links to every job's folder and log, relative to the report.
  CHECK_THAT(page, Catch::Contains("<a href=\"gpt,seed=2/log.h5\">log.h5</a>"));
  CHECK_THAT(page, Catch::Contains("<th>wall time</th><td>0m 0"));
}

TEST_CASE(
    "report.html in headless Chromium: table.csv's numbers, sorting, plots, no console error") {
  test::TempDir experiment;
  record_experiment(experiment.path());
  log::write_report(experiment.path());
  const auto checked = check_in_browser(experiment / "report.html", experiment / "report/table.csv",
                                        experiment / "browser");
  INFO(checked.out << checked.err);
  REQUIRE(checked.exit_code == 0);
  // 3 groups, the columns of table.csv, the learning curves and the downstream plot.
  CHECK_THAT(checked.out, Catch::Contains("ok (3 groups x") && Catch::Contains("2 plots"));
  CHECK_THAT(read(experiment / "browser/dom.html"), Catch::Contains("aria-sort"));
  CHECK(stdfs::file_size(experiment / "browser/screenshot.png") > 10000);
}

TEST_CASE("the browser check rejects a wrong number, a script error, a broken plot, a wrong mark") {
  // Negative controls: each damaged copy of a good report must fail the check for its reason.
  test::TempDir experiment;
  record_experiment(experiment.path());
  log::write_report(experiment.path());
  const stdfs::path csv = experiment / "report/table.csv";
  struct Damage {
    std::string name, pattern, replacement, reason;
  };
  const std::vector<Damage> damages{
      {"wrong_number.html", ">2\\.600 ± 0\\.141<", ">2.700 ± 0.141<", "shows '2.700 ± 0.141'"},
      {"script_error.html", "</body>", "<script>undefinedFunction();</script></body>",
       "exception: ReferenceError: undefinedFunction is not defined"},
      {"broken_plot.html", "data:image/svg\\+xml;base64,", "data:image/svg+xml;base64,AAAA",
       "did not render"},
      {"wrong_best.html", "<td class=\"number best\"", "<td class=\"number\"", "marked best []"}};
  for (const auto& damage : damages) {
    SECTION(damage.name) {
      const stdfs::path page =
          damaged_copy(experiment.path(), damage.name, damage.pattern, damage.replacement);
      const auto checked = check_in_browser(page, csv, experiment / "browser");
      INFO(checked.out << checked.err);
      CHECK(checked.exit_code == 1);
      CHECK_THAT(checked.out, Catch::Contains("FAILED") && Catch::Contains(damage.reason));
    }
  }
}
