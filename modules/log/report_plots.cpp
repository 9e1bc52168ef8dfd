#include "log/report_plots.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "util/console.h"
#include "util/fs.h"

namespace sslx::log {
namespace stdfs = std::filesystem;
namespace {

std::string gp_quoted(const stdfs::path& path) {
  std::string text = "'";
  for (const char c : path.string()) {
    if (c == '\'')
      text += "''";  // gnuplot's escape inside single quotes
    else
      text += c;
  }
  return text + "'";
}

std::string number(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%.8g", value);
  return buffer;
}

std::string shell_quoted(const stdfs::path& path) {
  std::string text = "'";
  for (const char c : path.string()) {
    if (c == '\'')
      text += "'\\''";
    else
      text += c;
  }
  return text + "'";
}

bool have_gnuplot() {
  return std::system("command -v gnuplot >/dev/null 2>&1") == 0;
}

// The same plot commands rendered once as PNG and once as SVG.
std::string both_terminals(const std::string& size, const stdfs::path& stem,
                           const std::string& commands) {
  return "set terminal pngcairo size " + size + " noenhanced font ',10'\nset output " +
         gp_quoted(stem.string() + ".png") + "\n" + commands + "\nset terminal svg size " + size +
         " dynamic noenhanced font ',10'\nset output " + gp_quoted(stem.string() + ".svg") + "\n" +
         commands + "\nunset output\n";
}

std::string curves_commands(const std::vector<GroupSummary>& groups, const std::string& title,
                            const stdfs::path& folder, std::vector<stdfs::path>& data_files) {
  std::string commands = "set multiplot layout 1,2 title " + gp_quoted(title) + "\n";
  for (const std::string split : {"train", "val"}) {
    commands += "set grid\nset key top right\nset xlabel 'input tokens'\nset ylabel '" +
                std::string(split == "train" ? "training loss" : "validation loss") + "'\n";
    std::vector<std::string> plots;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      std::vector<const MetricSeries*> seeds;
      double tokens_per_step = 0;
      for (const JobRecord* job : groups[g].jobs) {
        seeds.push_back(split == "train" ? &job->train_loss : &job->val_loss);
        tokens_per_step = job->tokens_per_step;
      }
      const auto curve = mean_curve(seeds, tokens_per_step);
      if (curve.empty()) continue;
      const stdfs::path file = folder / ("curve_" + std::to_string(g) + "_" + split + ".dat");
      std::string text =
          "# tokens mean lower upper (mean ± std over seeds): " + groups[g].label + "\n";
      for (const auto& point : curve) {
        text += number(point.tokens) + " " + number(point.mean) + " " +
                number(point.mean - point.std) + " " + number(point.mean + point.std) + "\n";
      }
      fs::write_text_atomic(file, text);
      data_files.push_back(file);
      const std::string colour = "lc " + std::to_string(g + 1);
      plots.push_back(gp_quoted(file) + " using 1:3:4 with filledcurves fs transparent solid 0.2 " +
                      "noborder " + colour + " notitle");
      plots.push_back(gp_quoted(file) + " using 1:2 with lines lw 2 " + colour + " title " +
                      gp_quoted(groups[g].label));
    }
    if (plots.empty()) {
      commands += "set label 1 'no " + split +
                  " loss logged' at graph 0.5,0.5 center\n"
                  "plot [0:1] [0:1] NaN notitle\nunset label 1\n";
    } else {
      std::string joined;
      for (const auto& p : plots)
        joined += (joined.empty() ? "" : ", \\\n     ") + p;
      commands += "plot " + joined + "\n";
    }
  }
  return commands + "unset multiplot\n";
}

}  // namespace

std::vector<CurvePoint> mean_curve(const std::vector<const MetricSeries*>& seeds,
                                   double tokens_per_step) {
  std::vector<CurvePoint> curve;
  if (seeds.empty()) return curve;
  // Steps every seed logged (seeds of one group run the same schedule).
  std::map<std::int64_t, std::vector<double>> by_step;
  for (const MetricSeries* series : seeds) {
    for (std::size_t i = 0; i < series->steps.size(); ++i)
      by_step[series->steps[i]].push_back(series->values[i]);
  }
  for (const auto& [step, values] : by_step) {
    if (values.size() != seeds.size()) continue;
    const Statistic s = statistic(values);
    curve.push_back(
        {.tokens = static_cast<double>(step) * tokens_per_step, .mean = s.mean, .std = s.std});
  }
  return curve;
}

PlotFiles write_plots(const std::vector<GroupSummary>& groups, const std::string& title,
                      const stdfs::path& relative_folder) {
  // Absolute: gnuplot runs in the folder, and its paths must not depend on where that is.
  const stdfs::path folder = stdfs::absolute(relative_folder);
  PlotFiles files;
  if (!have_gnuplot()) {
    files.note = "plots not drawn: gnuplot is not installed (scripts/setup.sh installs it)";
    return files;
  }
  stdfs::create_directories(folder);
  std::vector<stdfs::path> data_files;
  std::string script = "# Generated by `sslx report`; run `gnuplot plots.gp` here to redraw.\n";
  script += both_terminals("1200,450", folder / "curves",
                           curves_commands(groups, title, folder, data_files));
  files.images = {folder / "curves.png", folder / "curves.svg"};

  // Downstream accuracies: linear probe and fine-tune, with the majority-class baseline.
  const std::vector<std::pair<std::string, std::string>> bars{{"probe/accuracy", "linear probe"},
                                                              {"finetune/accuracy", "fine-tune"}};
  std::vector<std::pair<std::string, std::string>> present;
  for (const auto& bar : bars) {
    for (const auto& group : groups) {
      if (group.values.count(bar.first) != 0) {
        present.push_back(bar);
        break;
      }
    }
  }
  if (present.empty()) {
    files.note = "no downstream bar chart: no job ran the probe or fine-tune evaluators";
  } else {
    std::string data = "# group";
    for (const auto& [key, label] : present)
      data += "  " + key + "_mean_percent " + key + "_std_percent";
    data += "\n";
    double baseline_sum = 0;
    std::size_t baseline_count = 0;
    for (const auto& group : groups) {
      data += "\"" + group.label + "\"";
      for (const auto& [key, label] : present) {
        const auto it = group.values.find(key);
        data += it == group.values.end()
                    ? " NaN NaN"
                    : " " + number(100 * it->second.mean) + " " + number(100 * it->second.std);
      }
      data += "\n";
      if (const auto it = group.values.find("probe/majority_accuracy"); it != group.values.end()) {
        baseline_sum += it->second.mean;
        ++baseline_count;
      }
    }
    const stdfs::path data_file = folder / "downstream.dat";
    fs::write_text_atomic(data_file, data);
    std::string commands =
        "reset\nset title " +
        gp_quoted(title + ": downstream accuracy (fortune categories, test split)") +
        "\nset style data histogram\nset style histogram errorbars gap 1 lw 1\n"
        "set style fill solid 0.6 border -1\nset yrange [0:100]\nset grid ytics\n"
        "set ylabel 'accuracy (%)'\nset key top left\n";
    std::string plot = "plot ";
    for (std::size_t i = 0; i < present.size(); ++i) {
      const auto column = std::to_string(2 + 2 * i);
      const auto error = std::to_string(3 + 2 * i);
      plot += (i == 0 ? gp_quoted(data_file) : std::string("''")) + " using " + column + ":" +
              error + (i == 0 ? ":xtic(1)" : "") + " title " + gp_quoted(present[i].second) + ", ";
    }
    if (baseline_count > 0) {
      plot += number(100 * baseline_sum / static_cast<double>(baseline_count)) +
              " with lines dt 2 lw 2 lc rgb 'black' title 'majority class'";
    } else {
      plot.resize(plot.size() - 2);
    }
    script += both_terminals("800,500", folder / "downstream", commands + plot + "\n");
    files.images.push_back(folder / "downstream.png");
    files.images.push_back(folder / "downstream.svg");
  }
  const stdfs::path script_file = folder / "plots.gp";
  fs::write_text_atomic(script_file, script);
  const std::string command = "cd " + shell_quoted(folder) + " && gnuplot plots.gp 2>" +
                              shell_quoted(folder / "gnuplot.log");
  if (std::system(command.c_str()) != 0) {
    files.images.clear();
    files.note = "gnuplot failed; see " + (folder / "gnuplot.log").string();
  }
  return files;
}

}  // namespace sslx::log
