#include "log/report_tables.h"

#include <cmath>
#include <cstdio>
#include <map>

namespace sslx::log {
namespace {

std::string printf_string(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

bool is_count(const std::string& name) {
  return name == "parameters" || name == "tokens";
}

std::string format_count(double value) {
  if (std::abs(value) >= 1e9) return printf_string("%.2fG", value / 1e9);
  if (std::abs(value) >= 1e6) return printf_string("%.2fM", value / 1e6);
  if (std::abs(value) >= 1e3) return printf_string("%.1fk", value / 1e3);
  return printf_string("%.0f", value);
}

// printf format of a value (and of its std, so both show the same decimals).
const char* number_format(const std::string& name, double mean) {
  if (is_percentage(name)) return "%.1f";
  if (name == "train/seconds" || std::abs(mean) >= 1000) return "%.0f";
  return "%.3f";
}

std::string format_number(const std::string& name, double value, double mean) {
  if (is_count(name)) return format_count(value);
  return printf_string(number_format(name, mean), is_percentage(name) ? 100.0 * value : value);
}

std::string csv_escape(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string latex_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '_' || c == '%' || c == '&' || c == '#' || c == '$' || c == '{' || c == '}') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// Ten significant digits: more than any metric here carries, fewer than a round trip needs.
std::string csv_number(double value) {
  return printf_string("%.10g", value);
}

}  // namespace

bool is_percentage(const std::string& name) {
  const auto ends_with = [&name](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with("accuracy") || ends_with("f1") || ends_with("win_rate") ||
         ends_with("eos_fraction");
}

Better better_direction(const std::string& name) {
  const auto ends_with = [&name](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (name == "probe/majority_accuracy" || ends_with("eos_fraction")) return Better::kNone;
  if (ends_with("loss") || ends_with("perplexity") || ends_with("bits_per_byte"))
    return Better::kLower;
  if (ends_with("accuracy") || ends_with("f1") || ends_with("win_rate") || ends_with("margin") ||
      ends_with("reward"))
    return Better::kHigher;
  return Better::kNone;
}

std::string column_title(const std::string& name) {
  static const std::map<std::string, std::string> titles{
      {"parameters", "Params"},
      {"tokens", "Tokens"},
      {"val/loss", "Val loss (best)"},
      {"train/seconds", "Train time (s)"},
      {"heldout/loss", "Held-out loss"},
      {"heldout/perplexity", "Held-out ppl"},
      {"heldout/accuracy", "Held-out acc"},
      {"heldout/margin", "Held-out margin"},
      {"heldout/bits_per_byte", "Held-out bits/byte"},
      {"probe/accuracy", "Probe acc"},
      {"probe/macro_f1", "Probe macro-F1"},
      {"probe/majority_accuracy", "Majority acc"},
      {"finetune/accuracy", "Fine-tune acc"},
      {"finetune/macro_f1", "Fine-tune macro-F1"},
      {"alignment/kl", "KL to ref (nats)"},
      {"alignment/proxy_reward", "Proxy reward"},
      {"alignment/gold_reward", "Gold reward"},
      {"alignment/win_rate", "Win rate vs ref"},
      {"alignment/response_length", "Response tokens"},
      {"alignment/eos_fraction", "Ends in EOS"},
  };
  const auto it = titles.find(name);
  std::string title = it != titles.end() ? it->second : name;
  if (is_percentage(name)) title += " (%)";
  return title;
}

std::string format_statistic(const std::string& name, const Statistic& value,
                             const std::string& plus_minus) {
  if (value.n == 0) return "–";
  std::string text = format_number(name, value.mean, value.mean);
  if (value.n > 1 && !is_count(name))
    text += plus_minus + format_number(name, value.std, value.mean);
  return text;
}

std::string markdown_table(const std::vector<GroupSummary>& groups,
                           const std::vector<std::string>& columns) {
  std::string out = "| Variant | Seeds |";
  std::string rule = "|---|---:|";
  for (const auto& column : columns) {
    out += " " + column_title(column) + " |";
    rule += "---:|";
  }
  out += "\n" + rule + "\n";
  for (const auto& group : groups) {
    out += "| " + group.label + " | " + std::to_string(group.jobs.size()) + " |";
    for (const auto& column : columns) {
      const auto it = group.values.find(column);
      out += " " +
             (it == group.values.end() ? std::string("–") : format_statistic(column, it->second)) +
             " |";
    }
    out += "\n";
  }
  return out;
}

std::string latex_table(const std::vector<GroupSummary>& groups,
                        const std::vector<std::string>& columns, const std::string& caption) {
  std::string out = "% Generated by `sslx report`; needs \\usepackage{booktabs}.\n";
  out += "\\begin{table}[t]\n\\centering\n\\begin{tabular}{lr";
  for (std::size_t i = 0; i < columns.size(); ++i)
    out += "r";
  out += "}\n\\toprule\nVariant & Seeds";
  for (const auto& column : columns)
    out += " & " + latex_escape(column_title(column));
  out += " \\\\\n\\midrule\n";
  for (const auto& group : groups) {
    out += latex_escape(group.label) + " & " + std::to_string(group.jobs.size());
    for (const auto& column : columns) {
      const auto it = group.values.find(column);
      out += " & ";
      if (it == group.values.end() || it->second.n == 0) {
        out += "--";
      } else {
        out += "$" + latex_escape(format_statistic(column, it->second, " \\pm ")) + "$";
      }
    }
    out += " \\\\\n";
  }
  out += "\\bottomrule\n\\end{tabular}\n\\caption{" + latex_escape(caption) +
         " Mean $\\pm$ standard deviation over seeds.}\n\\end{table}\n";
  return out;
}

std::string csv_table(const std::vector<GroupSummary>& groups,
                      const std::vector<std::string>& columns) {
  std::string out = "group,n";
  for (const auto& column : columns)
    out += "," + csv_escape(column + "_mean") + "," + csv_escape(column + "_std");
  out += "\n";
  for (const auto& group : groups) {
    out += csv_escape(group.label) + "," + std::to_string(group.jobs.size());
    for (const auto& column : columns) {
      const auto it = group.values.find(column);
      if (it == group.values.end() || it->second.n == 0) {
        out += ",,";
      } else {
        out += "," + csv_number(it->second.mean) + "," + csv_number(it->second.std);
      }
    }
    out += "\n";
  }
  return out;
}

std::string jobs_csv(const std::vector<JobRecord>& jobs, const std::vector<std::string>& columns) {
  std::string out = "job,group,variant,seed,status";
  for (const auto& column : columns)
    out += "," + csv_escape(column);
  out += "\n";
  for (const auto& job : jobs) {
    out += csv_escape(job.name) + "," + csv_escape(job.group) + "," + csv_escape(job.variant) +
           "," + (job.seed ? std::to_string(*job.seed) : "") + "," + job.status;
    for (const auto& column : columns) {
      const auto it = job.values.find(column);
      out += "," + (it == job.values.end() ? std::string() : csv_number(it->second));
    }
    out += "\n";
  }
  return out;
}

}  // namespace sslx::log
