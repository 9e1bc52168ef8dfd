// The alignment part of a report, for experiments whose jobs ran the `alignment` evaluator:
// reward against KL to the reference, as Gao, Schulman & Hilton ("Scaling laws for reward model
// overoptimization", 2022) plot it, with d = sqrt(KL) on the x axis and two panels, the proxy
// reward (the reward model the policies were trained against) and the gold reward (one they never
// saw). On the plot:
//   - the best-of-n baseline (n samples of the reference, the proxy's favourite kept; its KL is
//     log n - (n - 1) / n), mean over seeds with a ±1 std band;
//   - each policy objective's course during training (its validation evaluations: reward,
//     kl_sequence, gold_reward), mean over seeds with a band;
//   - each group's final evaluation as a point with ±1 std error bars in both directions;
//   - Gao et al.'s functional forms fitted to the gold curves: best-of-n R(d) = d (a - b d),
//     RL R(d) = d (a - b ln d), where R is the gold reward gained over the reference (best-of-1).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "log/experiment_records.h"

namespace sslx::log {

enum class GaoForm { kBestOfN, kReinforcementLearning };

struct GaoFit {
  double a = 0, b = 0;
  std::size_t points = 0;  // points with d > 0 that the fit used
  double rms = 0;          // root-mean-square residual
  // false with fewer than three points (two would be fitted exactly, whatever the form) or a
  // singular system
  bool ok = false;
};

// The least-squares (a, b) of R(d) = d (a - b d) or d (a - b ln d) over (d, R) points; both forms
// are linear in (a, b). Points with d <= 0 carry no information (R(0) = 0) and are skipped.
GaoFit fit_gao(const std::vector<std::pair<double, double>>& points, GaoForm form);
double gao_curve(GaoForm form, double a, double b, double d);

struct AlignmentReport {
  std::string markdown;  // "" when no job ran the alignment evaluator
  std::vector<std::filesystem::path> images;
};

// Writes reward_kl.{png,svg}, its data files and alignment.gp into `folder` and returns the
// report section: the plot, the best-of-n table, the fitted coefficients and what they show.
AlignmentReport write_alignment_report(const std::vector<GroupSummary>& groups,
                                       const std::string& title,
                                       const std::filesystem::path& folder);

}  // namespace sslx::log
