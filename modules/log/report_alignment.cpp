#include "log/report_alignment.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include "log/gnuplot.h"
#include "log/report_plots.h"
#include "util/fs.h"

namespace sslx::log {
namespace stdfs = std::filesystem;
namespace {

std::string fixed(double value, int decimals = 3) {
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

std::string mean_std(const Statistic& s, int decimals = 3) {
  return fixed(s.mean, decimals) + " ± " + fixed(s.std, decimals);
}

// One point of a curve: d = sqrt(KL) and the proxy and gold rewards, mean and std over seeds.
struct RewardPoint {
  double d = 0;
  Statistic kl, proxy, gold;
  bool has_gold = false;
  std::string label;  // n of best-of-n, or the step
};

struct Curve {
  std::string group;
  std::vector<RewardPoint> points;
};

double root_of(double kl) {
  return std::sqrt(std::max(0.0, kl));
}

// The best-of-n values of a group, by n.
std::vector<RewardPoint> best_of_n_points(const GroupSummary& group) {
  std::map<long, RewardPoint> by_n;
  const std::string prefix = "alignment/best_of_";
  for (const auto& [name, value] : group.values) {
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string::npos) continue;
    const long n = std::stol(rest.substr(0, slash));
    const std::string metric = rest.substr(slash + 1);
    RewardPoint& point = by_n[n];
    point.label = "n=" + std::to_string(n);
    if (metric == "kl") {
      point.kl = value;
      point.d = root_of(value.mean);
    } else if (metric == "proxy_reward") {
      point.proxy = value;
    } else if (metric == "gold_reward") {
      point.gold = value;
      point.has_gold = true;
    }
  }
  std::vector<RewardPoint> points;
  for (auto& [n, point] : by_n)
    points.push_back(point);
  return points;
}

// A policy objective's validation evaluations during training, at the steps every seed logged.
std::vector<RewardPoint> training_points(const GroupSummary& group) {
  std::vector<const MetricSeries*> kl, proxy, gold;
  for (const JobRecord* job : group.jobs) {
    const auto k = job->val_metrics.find("kl_sequence");
    const auto r = job->val_metrics.find("reward");
    if (k == job->val_metrics.end() || r == job->val_metrics.end()) return {};
    kl.push_back(&k->second);
    proxy.push_back(&r->second);
    const auto g = job->val_metrics.find("gold_reward");
    if (g != job->val_metrics.end()) gold.push_back(&g->second);
  }
  const bool has_gold = !gold.empty() && gold.size() == kl.size();
  const auto kl_curve = mean_curve(kl, 1.0);
  const auto proxy_curve = mean_curve(proxy, 1.0);
  const auto gold_curve = has_gold ? mean_curve(gold, 1.0) : std::vector<CurvePoint>{};
  std::vector<RewardPoint> points;
  for (std::size_t i = 0; i < kl_curve.size() && i < proxy_curve.size(); ++i) {
    if (kl_curve[i].tokens != proxy_curve[i].tokens) continue;
    RewardPoint point;
    point.label = "step " + fixed(kl_curve[i].tokens, 0);
    point.kl = {.mean = kl_curve[i].mean, .std = kl_curve[i].std, .n = kl.size()};
    point.d = root_of(kl_curve[i].mean);
    point.proxy = {.mean = proxy_curve[i].mean, .std = proxy_curve[i].std, .n = kl.size()};
    if (has_gold && i < gold_curve.size() && gold_curve[i].tokens == kl_curve[i].tokens) {
      point.gold = {.mean = gold_curve[i].mean, .std = gold_curve[i].std, .n = kl.size()};
      point.has_gold = true;
    }
    points.push_back(point);
  }
  return points;
}

std::string curve_data(const std::string& comment, const std::vector<RewardPoint>& points) {
  std::string text =
      "# " + comment + "\n# d=sqrt(KL) proxy proxy_lo proxy_hi gold gold_lo gold_hi kl_std\n";
  for (const auto& p : points) {
    const double nan = std::nan("");
    text += gnuplot::number(p.d) + " " + gnuplot::number(p.proxy.mean) + " " +
            gnuplot::number(p.proxy.mean - p.proxy.std) + " " +
            gnuplot::number(p.proxy.mean + p.proxy.std) + " " +
            gnuplot::number(p.has_gold ? p.gold.mean : nan) + " " +
            gnuplot::number(p.has_gold ? p.gold.mean - p.gold.std : nan) + " " +
            gnuplot::number(p.has_gold ? p.gold.mean + p.gold.std : nan) + " " +
            gnuplot::number(p.kl.std) + "\n";
  }
  return text;
}

// The error bar in d of a point whose KL has std s: half the spread of sqrt(KL ± s).
double d_error(const RewardPoint& p) {
  return 0.5 * (root_of(p.kl.mean + p.kl.std) - root_of(p.kl.mean - p.kl.std));
}

std::string fit_row(const std::string& curve, GaoForm form, const GaoFit& fit) {
  const std::string shape = form == GaoForm::kBestOfN ? "d (a − b d)" : "d (a − b ln d)";
  if (!fit.ok)
    return "| " + curve + " | " + shape + " | – | – | " + std::to_string(fit.points) +
           " | too few points |\n";
  return "| " + curve + " | " + shape + " | " + fixed(fit.a, 4) + " | " + fixed(fit.b, 4) + " | " +
         std::to_string(fit.points) + " | " + fixed(fit.rms, 4) + " |\n";
}

}  // namespace

GaoFit fit_gao(const std::vector<std::pair<double, double>>& points, GaoForm form) {
  // R = a f(d) + b g(d) with f = d and g = -d^2 (best-of-n) or -d ln d (RL).
  double ff = 0, fg = 0, gg = 0, fy = 0, gy = 0;
  GaoFit fit;
  std::vector<std::array<double, 3>> rows;
  for (const auto& [d, y] : points) {
    if (!(d > 0)) continue;
    const double f = d;
    const double g = form == GaoForm::kBestOfN ? -d * d : -d * std::log(d);
    ff += f * f;
    fg += f * g;
    gg += g * g;
    fy += f * y;
    gy += g * y;
    rows.push_back({f, g, y});
  }
  fit.points = rows.size();
  const double det = ff * gg - fg * fg;
  if (rows.size() < 3 || std::abs(det) <= 1e-12 * std::max(1.0, ff * gg)) return fit;
  fit.a = (fy * gg - gy * fg) / det;
  fit.b = (gy * ff - fy * fg) / det;
  double squares = 0;
  for (const auto& [f, g, y] : rows) {
    const double residual = y - fit.a * f - fit.b * g;
    squares += residual * residual;
  }
  fit.rms = std::sqrt(squares / static_cast<double>(rows.size()));
  fit.ok = true;
  return fit;
}

double gao_curve(GaoForm form, double a, double b, double d) {
  if (d <= 0) return 0;
  return form == GaoForm::kBestOfN ? d * (a - b * d) : d * (a - b * std::log(d));
}

AlignmentReport write_alignment_report(const std::vector<GroupSummary>& groups,
                                       const std::string& title,
                                       const stdfs::path& relative_folder) {
  AlignmentReport report;
  std::vector<const GroupSummary*> evaluated;
  for (const auto& group : groups) {
    if (group.values.count("alignment/kl") != 0) evaluated.push_back(&group);
  }
  if (evaluated.empty()) return report;
  const stdfs::path folder = stdfs::absolute(relative_folder);
  stdfs::create_directories(folder);

  std::vector<Curve> best_of_n, training;
  for (const GroupSummary* group : evaluated) {
    auto points = best_of_n_points(*group);
    if (!points.empty()) best_of_n.push_back({group->label, std::move(points)});
  }
  for (const auto& group : groups) {
    auto points = training_points(group);
    if (!points.empty()) training.push_back({group.label, std::move(points)});
  }
  // The reference's rewards: best-of-1 is a plain sample of the reference.
  std::optional<double> gold_zero, proxy_zero;
  if (!best_of_n.empty() && !best_of_n.front().points.empty()) {
    const RewardPoint& first = best_of_n.front().points.front();
    if (first.label == "n=1") {
      proxy_zero = first.proxy.mean;
      if (first.has_gold) gold_zero = first.gold.mean;
    }
  }

  std::string md = "\n## Alignment: reward against KL to the reference\n\n";
  md += "Each policy on " +
        std::to_string(static_cast<long>(evaluated.front()->values.at("alignment/kl").n)) +
        " seed(s), evaluated on held-out prompts by the `alignment` evaluator: the proxy reward "
        "(the reward model the policies were trained against), the gold reward (a scorer they "
        "never saw), the KL to the reference in nats and the win rate of the gold reward "
        "against the reference's samples (mean ± std over seeds).\n\n";
  md +=
      "| Group | KL (nats) | Proxy reward | Gold reward | Win rate vs ref (%) |\n"
      "|---|---|---|---|---|\n";
  for (const GroupSummary* group : evaluated) {
    const auto value = [&](const std::string& name, double scale = 1.0) -> std::string {
      const auto it = group->values.find(name);
      if (it == group->values.end()) return "–";
      return fixed(scale * it->second.mean, scale == 1.0 ? 3 : 1) + " ± " +
             fixed(scale * it->second.std, scale == 1.0 ? 3 : 1);
    };
    md += "| " + group->label + " | " + value("alignment/kl") + " | " +
          value("alignment/proxy_reward") + " | " + value("alignment/gold_reward") + " | " +
          value("alignment/win_rate", 100.0) + " |\n";
  }
  for (const Curve& curve : best_of_n) {
    md += "\nBest-of-n from " + curve.group + " (KL = ln n − (n − 1)/n):\n\n";
    md += "| n | KL (nats) | Proxy reward | Gold reward |\n|---|---|---|---|\n";
    for (const auto& p : curve.points) {
      md += "| " + p.label.substr(2) + " | " + fixed(p.kl.mean) + " | " + mean_std(p.proxy) +
            " | " + (p.has_gold ? mean_std(p.gold) : "–") + " |\n";
    }
  }

  // Gao et al.'s forms on the gold reward gained over the reference.
  struct FittedCurve {
    std::string group, label;
    GaoForm form;
    GaoFit fit;
    double d_max = 0;
  };
  std::vector<FittedCurve> fits;
  if (gold_zero) {
    for (const auto& [curves, form] : {std::pair{&best_of_n, GaoForm::kBestOfN},
                                       std::pair{&training, GaoForm::kReinforcementLearning}}) {
      for (const Curve& curve : *curves) {
        std::vector<std::pair<double, double>> points;
        double d_max = 0;
        for (const auto& p : curve.points) {
          if (!p.has_gold) continue;
          points.emplace_back(p.d, p.gold.mean - *gold_zero);
          d_max = std::max(d_max, p.d);
        }
        if (points.empty()) continue;
        const std::string label =
            (form == GaoForm::kBestOfN ? "best-of-n (" : "RL during training: ") + curve.group +
            (form == GaoForm::kBestOfN ? ")" : "");
        fits.push_back({curve.group, label, form, fit_gao(points, form), d_max});
      }
    }
  }
  if (!fits.empty()) {
    md +=
        "\nGao et al.'s forms fitted (least squares) to the gold reward gained over the "
        "reference's " +
        fixed(*gold_zero) +
        ", with d = sqrt(KL): a is the initial slope, b how fast the gain bends down "
        "(over-optimisation when b > 0 and d is large enough).\n\n"
        "| Curve | Form | a | b | Points | RMS residual |\n|---|---|---|---|---|---|\n";
    for (const auto& f : fits)
      md += fit_row(f.label, f.form, f.fit);
    for (const auto& f : fits) {
      if (!f.fit.ok || f.fit.b <= 0) continue;
      // The d where the fitted gain peaks: a = 2 b d (best-of-n), a = b (ln d + 1) (RL).
      const double peak =
          f.form == GaoForm::kBestOfN ? f.fit.a / (2 * f.fit.b) : std::exp(f.fit.a / f.fit.b - 1);
      md += "\n- " + f.label + ": the fitted gold gain peaks at d = " + fixed(peak, 2) + " (KL " +
            fixed(peak * peak, 2) + " nats)" +
            (peak < f.d_max ? ", inside the measured range (up to d = " + fixed(f.d_max, 2) +
                                  "): the proxy is over-optimised beyond it."
                            : ", beyond the measured range (up to d = " + fixed(f.d_max, 2) +
                                  "): no over-optimisation measured yet.");
    }
    md += "\n";
  }

  if (!gnuplot::available()) {
    md += "\n_reward-vs-KL plot not drawn: gnuplot is not installed._\n";
    report.markdown = md;
    return report;
  }
  std::string panels;
  for (const bool gold : {false, true}) {
    const int y = gold ? 5 : 2;
    const std::string band = gold ? "1:6:7" : "1:3:4";
    panels +=
        "set grid\nset key bottom right\nset xlabel 'd = sqrt(KL to reference), sqrt(nats)'\n"
        "set ylabel '" +
        std::string(gold ? "gold reward" : "proxy reward (trained reward model)") + "'\n";
    std::vector<std::string> plots;
    int colour = 1;
    const auto add_curve = [&](const Curve& curve, const std::string& stem,
                               const std::string& label, const std::string& dash) {
      const stdfs::path file = folder / (stem + ".dat");
      fs::write_text_atomic(file, curve_data(label, curve.points));
      const std::string lc = "lc " + std::to_string(colour);
      plots.push_back(gnuplot::quote(file) + " using " + band +
                      " with filledcurves fs transparent solid 0.15 noborder " + lc + " notitle");
      plots.push_back(gnuplot::quote(file) + " using 1:" + std::to_string(y) +
                      " with linespoints pt 7 ps 0.6 lw 2 " + dash + lc + " title " +
                      gnuplot::quote(label));
      if (gold) {
        for (const auto& f : fits) {
          const bool same_kind = (f.form == GaoForm::kBestOfN) == (stem.rfind("bon", 0) == 0);
          if (f.group != curve.group || !same_kind || !f.fit.ok) continue;
          const std::string formula = f.form == GaoForm::kBestOfN
                                          ? "(x <= 0 ? 0 : x * (" + gnuplot::number(f.fit.a) +
                                                " - " + gnuplot::number(f.fit.b) + " * x))"
                                          : "(x <= 0 ? 0 : x * (" + gnuplot::number(f.fit.a) +
                                                " - " + gnuplot::number(f.fit.b) + " * log(x)))";
          plots.push_back("[0:" + gnuplot::number(f.d_max * 1.15) + "] " +
                          gnuplot::number(*gold_zero) + " + " + formula + " with lines dt 3 lw 1 " +
                          lc + " title " + gnuplot::quote("fit: " + label));
        }
      }
      ++colour;
    };
    for (std::size_t i = 0; i < best_of_n.size(); ++i)
      add_curve(best_of_n[i], "bon_" + std::to_string(i), "best-of-n (" + best_of_n[i].group + ")",
                "dt 2 ");
    for (std::size_t i = 0; i < training.size(); ++i)
      add_curve(training[i], "rl_" + std::to_string(i), training[i].group + " (training)", "");
    // Final evaluations: one point per group with error bars in d and in the reward.
    std::string finals = "# d d_err proxy proxy_std gold gold_std group\n";
    for (const GroupSummary* group : evaluated) {
      const Statistic kl = group->values.at("alignment/kl");
      RewardPoint p{.d = root_of(kl.mean), .kl = kl};
      const auto get = [&](const std::string& name) {
        const auto it = group->values.find(name);
        return it == group->values.end() ? Statistic{.mean = std::nan("")} : it->second;
      };
      const Statistic proxy = get("alignment/proxy_reward");
      const Statistic gold_value = get("alignment/gold_reward");
      finals += gnuplot::number(p.d) + " " + gnuplot::number(d_error(p)) + " " +
                gnuplot::number(proxy.mean) + " " + gnuplot::number(proxy.std) + " " +
                gnuplot::number(gold_value.mean) + " " + gnuplot::number(gold_value.std) + " \"" +
                group->label + "\"\n";
    }
    const stdfs::path finals_file = folder / "alignment_final.dat";
    fs::write_text_atomic(finals_file, finals);
    const std::string columns = gold ? "1:5:2:6" : "1:3:2:4";
    plots.push_back(gnuplot::quote(finals_file) + " using " + columns +
                    " with xyerrorbars pt 5 ps 1 lc rgb 'black' title 'final evaluation'");
    plots.push_back(gnuplot::quote(finals_file) + " using 1:" + (gold ? "5" : "3") +
                    ":7 with labels offset char 1,1 font ',8' notitle");
    std::string joined;
    for (const auto& p : plots)
      joined += (joined.empty() ? "" : ", \\\n     ") + p;
    panels += "plot " + joined + "\n";
  }
  const std::string script =
      "# Generated by `sslx report`; run `gnuplot alignment.gp` here to redraw.\n" +
      gnuplot::both_terminals("1300,520", folder / "reward_kl",
                              "set multiplot layout 1,2 title " +
                                  gnuplot::quote(title + ": reward against KL to the reference") +
                                  "\n" + panels + "unset multiplot\n");
  if (gnuplot::run(folder, "alignment.gp", script)) {
    report.images = {folder / "reward_kl.png", folder / "reward_kl.svg"};
    md += "\n![reward against KL](report/reward_kl.png)\n";
  } else {
    md += "\n_reward-vs-KL plot not drawn: gnuplot failed; see " +
          (folder / "gnuplot.log").string() + "._\n";
  }
  report.markdown = md;
  return report;
}

}  // namespace sslx::log
