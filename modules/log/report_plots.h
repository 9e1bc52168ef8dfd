// Plots of an experiment with gnuplot (PNG via cairo and SVG): learning curves (train and
// validation loss against input tokens, one line per group, the seeds' ±1 std as a band) and a
// bar chart of the downstream accuracies with the majority-class baseline. The data files and
// the gnuplot script stay beside the images, so a figure can be restyled for a paper.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "log/experiment_records.h"

namespace sslx::log {

struct PlotFiles {
  std::vector<std::filesystem::path> images;  // written
  std::string note;  // why a plot is missing (no gnuplot, no downstream evaluation), or ""
};

// Points of one group's curve: at each step every seed logged, the mean and std over seeds.
struct CurvePoint {
  double tokens = 0, mean = 0, std = 0;
};
std::vector<CurvePoint> mean_curve(const std::vector<const MetricSeries*>& seeds,
                                   double tokens_per_step);

PlotFiles write_plots(const std::vector<GroupSummary>& groups, const std::string& title,
                      const std::filesystem::path& folder);

}  // namespace sslx::log
