#include "config/sweep.h"

#include <algorithm>

#include "config/config_error.h"
#include "config/override.h"
#include "config/toml_io.h"
#include "util/strings.h"

namespace sslx::config {
namespace {

constexpr std::size_t kMaxJobs = 100000;

void collect_axes(const Node& node, const std::string& path, std::vector<SweepAxis>& axes) {
  for (const auto& [key, value] : node.as_table()) {
    const std::string key_path = path.empty() ? key : path + "." + key;
    if (value.is_table()) {
      collect_axes(value, key_path, axes);
      continue;
    }
    SweepAxis axis{.key = key_path, .origin = value.origin()};
    if (value.is_array()) {
      for (const auto& element : value.as_array())
        axis.values.push_back(to_toml_inline(element));
    } else if (value.is_string()) {
      auto values = parse_sweep_values(value.as_string(), value.origin());
      axis.values = values ? *values : std::vector<std::string>{to_toml_inline(value)};
    } else {
      axis.values.push_back(to_toml_inline(value));
    }
    if (axis.values.empty())
      throw ConfigError("sweep." + key_path, value.origin(), "empty sweep axis");
    axes.push_back(std::move(axis));
  }
}

}  // namespace

std::vector<SweepAxis> axes_from_table(const Node& sweep_table) {
  if (!sweep_table.is_table()) {
    throw ConfigError("sweep", sweep_table.origin(), "[sweep] must be a table of key = [values]");
  }
  std::vector<SweepAxis> axes;
  collect_axes(sweep_table, "", axes);
  return axes;
}

std::vector<Job> expand_jobs(const std::vector<SweepAxis>& file_axes,
                             const std::vector<std::string>& command_line) {
  std::vector<SweepAxis> axes = file_axes;
  std::vector<std::string> plain;
  // The position of the file's axis on `key` (its values are replaced in place), or end.
  const auto find_axis = [&axes](const std::string& key) {
    return std::find_if(axes.begin(), axes.end(),
                        [&key](const SweepAxis& axis) { return axis.key == key; });
  };
  for (const auto& text : command_line) {
    const Override parsed = parse_override(text);
    std::optional<std::vector<std::string>> values;
    if (parsed.op != Override::Op::kDelete) {
      values = parse_sweep_values(parsed.value_text, parsed.origin());
    }
    const auto existing = find_axis(parsed.key);
    if (values) {
      // Keep the prefix ("+", "++") the user wrote: it is part of each job's override.
      const std::string key = text.substr(0, text.size() - parsed.value_text.size() - 1);
      SweepAxis axis{.key = key, .values = *values, .origin = parsed.origin()};
      if (existing != axes.end()) {
        *existing = std::move(axis);
      } else {
        axes.push_back(std::move(axis));
      }
    } else {
      if (existing != axes.end()) axes.erase(existing);
      plain.push_back(text);
    }
  }

  std::size_t total = 1;
  for (const auto& axis : axes) {
    total *= axis.values.size();
    if (total > kMaxJobs) {
      throw ConfigError("sweep", axis.origin,
                        "the sweep expands to more than " + std::to_string(kMaxJobs) + " jobs");
    }
  }
  std::vector<Job> jobs;
  for (std::size_t index = 0; index < total; ++index) {
    Job job{.index = index, .overrides = plain};
    // Mixed-radix decomposition of the index; the last axis varies fastest.
    std::size_t remainder = index;
    std::vector<std::string> assignments(axes.size());
    for (std::size_t a = axes.size(); a-- > 0;) {
      const auto& values = axes[a].values;
      assignments[a] = axes[a].key + "=" + values[remainder % values.size()];
      remainder /= values.size();
    }
    for (const auto& assignment : assignments) {
      job.overrides.push_back(assignment);
      job.axis_overrides.push_back(assignment);
    }
    job.name = assignments.empty() ? "base" : join(assignments, ",");
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace sslx::config
