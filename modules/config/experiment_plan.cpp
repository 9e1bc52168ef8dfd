#include "config/experiment_plan.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "config/config_error.h"
#include "config/override.h"
#include "config/toml_io.h"
#include "util/strings.h"

namespace sslx::config {
namespace {

// Leaves of a variant's value tables as "a.b=<toml>" overrides, in file order.
void flatten_values(const Node& node, const std::string& path, std::vector<std::string>& out) {
  if (node.is_table()) {
    for (const auto& [key, child] : node.as_table())
      flatten_values(child, path.empty() ? key : path + "." + key, out);
    return;
  }
  out.push_back(path + "=" + to_toml_inline(node));
}

Variant parse_variant(const std::string& name, const Node& table, DiagnosticList& diagnostics) {
  const std::string where = "variants." + name;
  Variant variant{.name = name, .origin = table.origin()};
  if (!table.is_table()) {
    diagnostics.add(where, table.origin(),
                    "a variant must be a table of config values, e.g. [variants." + name + "]");
    return variant;
  }
  if (name.find_first_of(",=/ ") != std::string::npos) {
    diagnostics.add(where, table.origin(),
                    "a variant name may not contain ',', '=', '/' or spaces");
  }
  std::vector<std::string> values;
  for (const auto& [key, value] : table.as_table()) {
    if (key == "groups") {
      if (!value.is_table()) {
        diagnostics.add(where + ".groups", value.origin(),
                        "expected a table of group = \"option\", e.g. { model = \"small\" }");
        continue;
      }
      for (const auto& [group, option] : value.as_table()) {
        if (!option.is_string()) {
          diagnostics.add(where + ".groups." + group, option.origin(),
                          "the option of a group must be a string");
          continue;
        }
        variant.overrides.push_back(group + "=" + option.as_string());
      }
    } else if (key == "init_from") {
      if (!value.is_string() || value.as_string().empty()) {
        diagnostics.add(where + ".init_from", value.origin(),
                        "expected the name of another variant");
        continue;
      }
      variant.init_from = value.as_string();
    } else if (key == "job_paths") {
      if (!value.is_table()) {
        diagnostics.add(where + ".job_paths", value.origin(),
                        "expected a table of \"<key>\" = \"<variant>\", e.g. "
                        "{ \"objective.reward.checkpoint\" = \"reward\" }");
        continue;
      }
      for (const auto& [path_key, other] : value.as_table()) {
        if (!other.is_string() || other.as_string().empty()) {
          diagnostics.add(where + ".job_paths." + path_key, other.origin(),
                          "expected the name of another variant");
          continue;
        }
        variant.job_paths.emplace_back(path_key, other.as_string());
      }
    } else {
      flatten_values(value, key, values);
    }
  }
  variant.overrides.insert(variant.overrides.end(), values.begin(), values.end());
  variant.overrides.push_back("experiment.variant=" + to_toml_inline(Node(name)));
  return variant;
}

bool is_seed_assignment(const std::string& assignment) {
  return assignment.rfind("seed=", 0) == 0;
}

}  // namespace

std::vector<Variant> variants_from_table(const Node& variants_table) {
  if (!variants_table.is_table()) {
    throw ConfigError("variants", variants_table.origin(),
                      "[variants] must be a table of [variants.<name>] tables");
  }
  DiagnosticList diagnostics;
  std::vector<Variant> variants;
  for (const auto& [name, table] : variants_table.as_table())
    variants.push_back(parse_variant(name, table, diagnostics));
  diagnostics.throw_if_any();

  std::map<std::string, const Variant*> by_name;
  for (const auto& variant : variants)
    by_name[variant.name] = &variant;
  std::vector<std::string> names;
  for (const auto& variant : variants)
    names.push_back(variant.name);
  // What each variant waits for: init_from, then its job_paths variants.
  const auto upstream_of = [](const Variant& variant) {
    std::vector<std::pair<std::string, std::string>> upstream;  // (key, variant)
    if (!variant.init_from.empty()) upstream.emplace_back("init_from", variant.init_from);
    for (const auto& [key, other] : variant.job_paths)
      upstream.emplace_back("job_paths." + key, other);
    return upstream;
  };
  bool all_known = true;
  for (const auto& variant : variants) {
    for (const auto& [key, other] : upstream_of(variant)) {
      if (by_name.count(other) != 0) continue;
      all_known = false;
      std::string message =
          (key == "init_from" ? "init_from names no variant: " : "names no variant: ") +
          in_quotes(other) + "; variants: " + join(names, ", ");
      const std::string hint = did_you_mean(other, names);
      if (!hint.empty()) message += "; " + hint;
      diagnostics.add("variants." + variant.name + "." + key, variant.origin, message);
    }
  }
  // The stages must form no cycle: a depth-first search over what each variant waits for.
  if (all_known) {
    std::map<std::string, int> state;  // 1: on the current path, 2: done
    std::function<bool(const Variant&)> visit = [&](const Variant& variant) {
      state[variant.name] = 1;
      for (const auto& [key, other] : upstream_of(variant)) {
        if (state[other] == 1) {
          diagnostics.add("variants." + variant.name + "." + key, variant.origin,
                          "stages form a cycle through " + in_quotes(other));
          return false;
        }
        if (state[other] == 0 && !visit(*by_name[other])) return false;
      }
      state[variant.name] = 2;
      return true;
    };
    for (const auto& variant : variants) {
      if (state[variant.name] == 0 && !visit(variant)) break;
    }
  }
  diagnostics.throw_if_any();
  return variants;
}

std::vector<PlannedJob> plan_jobs(const std::vector<Variant>& variants,
                                  const std::vector<SweepAxis>& file_axes,
                                  const std::vector<std::string>& command_line,
                                  const std::string& output) {
  const std::vector<Job> points = expand_jobs(file_axes, command_line);
  std::vector<PlannedJob> jobs;
  const auto plan_point = [&](const Variant* variant, const Job& point) {
    PlannedJob job{.index = jobs.size(), .axis_overrides = point.axis_overrides};
    std::vector<std::string> group_parts;
    if (variant != nullptr) {
      job.variant = variant->name;
      group_parts.push_back(variant->name);
      job.overrides = variant->overrides;
    }
    for (const auto& assignment : point.axis_overrides) {
      if (is_seed_assignment(assignment)) {
        const Node value = parse_override(assignment).value();
        if (value.kind() == Kind::kInt) job.seed = value.as_int();
      } else {
        group_parts.push_back(assignment);
      }
    }
    job.overrides.insert(job.overrides.end(), point.overrides.begin(), point.overrides.end());
    std::vector<std::string> name_parts = group_parts;
    for (const auto& assignment : point.axis_overrides) {
      if (is_seed_assignment(assignment)) name_parts.push_back(assignment);
    }
    job.group = group_parts.empty() ? "base" : join(group_parts, ",");
    job.name = name_parts.empty() ? "base" : join(name_parts, ",");
    jobs.push_back(std::move(job));
  };
  if (variants.empty()) {
    for (const auto& point : points)
      plan_point(nullptr, point);
    return jobs;
  }
  for (const auto& variant : variants) {
    for (const auto& point : points)
      plan_point(&variant, point);
  }
  // Stages: the upstream job is the same sweep point of the variant named by init_from (or by
  // a job_paths entry).
  const std::size_t per_variant = points.size();
  const auto index_of = [&](const std::string& name) {
    return static_cast<std::size_t>(
        std::find_if(variants.begin(), variants.end(),
                     [&](const Variant& other) { return other.name == name; }) -
        variants.begin());
  };
  for (std::size_t v = 0; v < variants.size(); ++v) {
    for (std::size_t p = 0; p < per_variant; ++p) {
      PlannedJob& job = jobs[v * per_variant + p];
      // Before the command line's overrides, so that a user can still point elsewhere.
      auto position =
          job.overrides.begin() + static_cast<std::ptrdiff_t>(variants[v].overrides.size());
      if (!variants[v].init_from.empty()) {
        const PlannedJob& from = jobs[index_of(variants[v].init_from) * per_variant + p];
        job.after.push_back(from.index);
        const std::string checkpoints = output + "/" + job_directory_name(from) + "/checkpoints";
        position = job.overrides.insert(
                       position, "objective.init_from=" + to_toml_inline(Node(checkpoints))) +
                   1;
      }
      for (const auto& [key, other] : variants[v].job_paths) {
        const PlannedJob& from = jobs[index_of(other) * per_variant + p];
        if (std::find(job.after.begin(), job.after.end(), from.index) == job.after.end())
          job.after.push_back(from.index);
        const std::string folder = output + "/" + job_directory_name(from);
        position = job.overrides.insert(position, key + "=" + to_toml_inline(Node(folder))) + 1;
      }
    }
  }
  return jobs;
}

std::string job_directory_name(const PlannedJob& job) {
  std::string name = job.name;
  std::replace(name.begin(), name.end(), '/', '_');
  return name;
}

}  // namespace sslx::config
