// The alignment part of reports: Gao et al.'s forms fitted to curves made from known
// coefficients, and the report of a recorded experiment whose numbers are worked out by hand.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "log/h5.h"
#include "log/report.h"
#include "log/report_alignment.h"
#include "log/run_log.h"
#include "tests/support.h"

using namespace sslx;
namespace stdfs = std::filesystem;

namespace {

std::string slurp(const stdfs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::pair<double, double>> curve_of(log::GaoForm form, double a, double b,
                                                const std::vector<double>& ds) {
  std::vector<std::pair<double, double>> points;
  for (const double d : ds)
    points.emplace_back(d, log::gao_curve(form, a, b, d));
  return points;
}

}  // namespace

TEST_CASE("Gao et al.'s forms are fitted exactly to curves made from them") {
  const std::vector<double> ds{0.0, 0.3, 0.7, 1.0, 1.4, 2.0, 2.6};
  for (const auto form : {log::GaoForm::kBestOfN, log::GaoForm::kReinforcementLearning}) {
    const auto fit = log::fit_gao(curve_of(form, 0.8, 0.25, ds), form);
    REQUIRE(fit.ok);
    CHECK(fit.points == 6);  // d = 0 says nothing: R(0) = 0 in both forms
    CHECK(fit.a == Approx(0.8).margin(1e-10));
    CHECK(fit.b == Approx(0.25).margin(1e-10));
    CHECK(fit.rms < 1e-10);
  }
  // By hand: through (1, 0.5), (2, 0.6) and (3, 0.3) the normal equations of R = a d - b d^2 are
  // [14, -36; -36, 98] (a, b) = (2.6, -5.6): det 76, a = 53.2 / 76 = 0.7, b = 15.2 / 76 = 0.2.
  const auto three = log::fit_gao({{1.0, 0.5}, {2.0, 0.6}, {3.0, 0.3}}, log::GaoForm::kBestOfN);
  REQUIRE(three.ok);
  CHECK(three.a == Approx(0.7));
  CHECK(three.b == Approx(0.2));
  // Negative control: best-of-n data read with the RL form does not fit.
  const auto wrong = log::fit_gao(curve_of(log::GaoForm::kBestOfN, 0.8, 0.25, ds),
                                  log::GaoForm::kReinforcementLearning);
  CHECK(wrong.rms > 1e-3);
  // Two points would be fitted exactly by either form: no fit.
  CHECK_FALSE(log::fit_gao({{0.0, 0.0}, {1.0, 0.5}, {2.0, 0.6}}, log::GaoForm::kBestOfN).ok);
}

TEST_CASE("an alignment experiment's report plots reward against KL and fits the gold curves") {
  const test::TempDir temp;
  const stdfs::path experiment = temp.path() / "alignment";
  const char* config = "[experiment]\nname = \"alignment\"\n[trainer]\nmax_steps = 40\n";
  const double gold_zero = 0.2;
  // Best-of-n from the reward model's job: gold = 0.2 + d (0.5 - 0.1 d), d = sqrt(ln n - (n-1)/n).
  const auto record = [&](const std::string& variant, int seed, std::size_t index,
                          const std::map<std::string, double>& eval, bool rl_curve) {
    const std::string name = variant + ",seed=" + std::to_string(seed);
    const stdfs::path dir = experiment / name;
    test::write_file(dir / "job.toml", "index = " + std::to_string(index) + "\nname = \"" + name +
                                           "\"\nvariant = \"" + variant + "\"\ngroup = \"" +
                                           variant + "\"\nseed = " + std::to_string(seed) + "\n");
    {
      auto log = log::RunLogWriter::create(dir / "log.h5", config);
      log.log("train", "loss", 10, 1.0);
      if (rl_curve) {
        // gold = 0.2 + d (0.6 - 0.2 ln d) at KL = 0.25, 1, 2.25, 4 (d = 0.5, 1, 1.5, 2)
        for (int i = 1; i <= 4; ++i) {
          const double d = 0.5 * i;
          log.log("val", "loss", 10 * i, -1.0);
          log.log("val", "kl_sequence", 10 * i, d * d);
          log.log("val", "reward", 10 * i, 1.0 + d);
          log.log("val", "gold_reward", 10 * i,
                  gold_zero + log::gao_curve(log::GaoForm::kReinforcementLearning, 0.6, 0.2, d));
        }
      }
      log.close(log::RunStatus::kCompleted);
    }
    log::write_evaluation(dir / "log.h5", eval, {});
  };
  for (int seed = 1; seed <= 2; ++seed) {
    std::map<std::string, double> eval{{"alignment/kl", 0.0},
                                       {"alignment/proxy_reward", 1.0},
                                       {"alignment/gold_reward", gold_zero},
                                       {"alignment/win_rate", 0.5}};
    for (const int n : {1, 2, 4, 8, 16}) {
      const double kl = std::log(n) - (n - 1.0) / n;
      const std::string prefix = "alignment/best_of_" + std::to_string(n) + "/";
      eval[prefix + "kl"] = kl;
      eval[prefix + "proxy_reward"] = 1.0 + kl;
      eval[prefix + "gold_reward"] =
          gold_zero + log::gao_curve(log::GaoForm::kBestOfN, 0.5, 0.1, std::sqrt(kl));
    }
    record("reward_model", seed, 0, eval, false);
    record("ppo", seed, 1,
           {{"alignment/kl", seed == 1 ? 3.0 : 5.0},
            {"alignment/proxy_reward", 2.5},
            {"alignment/gold_reward", 0.6},
            {"alignment/win_rate", seed == 1 ? 0.7 : 0.8}},
           true);
  }
  log::write_report(experiment);
  const std::string md = slurp(experiment / "report.md");
  INFO(md);
  CHECK(md.find("## Alignment: reward against KL to the reference") != std::string::npos);
  // ppo: KL 4 ± 1.414 over its two seeds, win rate 75 ± 7.1 %.
  CHECK(md.find("| ppo | 4.000 ± 1.414 | 2.500 ± 0.000 | 0.600 ± 0.000 | 75.0 ± 7.1 |") !=
        std::string::npos);
  // Best-of-4's KL: ln 4 - 3/4.
  CHECK(md.find("| 4 | 0.636 |") != std::string::npos);
  CHECK(md.find("| best-of-n (reward_model) | d (a − b d) | 0.5000 | 0.1000 | 4 |") !=
        std::string::npos);
  CHECK(md.find("| RL during training: ppo | d (a − b ln d) | 0.6000 | 0.2000 | 4 |") !=
        std::string::npos);
  // The best-of-n fit peaks at d = a / 2b = 2.5, beyond its measured d = sqrt(ln 16 - 15/16).
  CHECK(md.find("best-of-n (reward_model): the fitted gold gain peaks at d = 2.50") !=
        std::string::npos);
  // RL: the peak a = b (ln d + 1) at d = e^2 = 7.39, beyond d = 2.
  CHECK(md.find("peaks at d = 7.39") != std::string::npos);
  CHECK(stdfs::file_size(experiment / "report" / "reward_kl.png") > 1000);
  CHECK(stdfs::exists(experiment / "report" / "alignment.gp"));
  // Best-of-n rows stay out of the main comparison table; the alignment columns are in it.
  const std::string table = slurp(experiment / "report" / "table.md");
  CHECK(table.find("best_of") == std::string::npos);
  CHECK(table.find("Win rate vs ref (%)") != std::string::npos);
}
