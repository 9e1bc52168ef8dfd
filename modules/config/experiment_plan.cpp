#include "config/experiment_plan.h"

#include <algorithm>
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
  for (const auto& variant : variants) {
    if (variant.init_from.empty()) continue;
    if (by_name.count(variant.init_from) == 0) {
      std::string message = "init_from names no variant: " + in_quotes(variant.init_from) +
                            "; variants: " + join(names, ", ");
      const std::string hint = did_you_mean(variant.init_from, names);
      if (!hint.empty()) message += "; " + hint;
      diagnostics.add("variants." + variant.name + ".init_from", variant.origin, message);
      continue;
    }
    // Follow the chain of stages: it must end, not come back.
    std::set<std::string> seen{variant.name};
    for (const Variant* step = by_name[variant.init_from]; step != nullptr;) {
      if (!seen.insert(step->name).second) {
        diagnostics.add("variants." + variant.name + ".init_from", variant.origin,
                        "stages form a cycle through " + in_quotes(step->name));
        break;
      }
      const auto next = by_name.find(step->init_from);
      step = next == by_name.end() ? nullptr : next->second;
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
  // Stages: the upstream job is the same sweep point of the variant named by init_from.
  const std::size_t per_variant = points.size();
  for (std::size_t v = 0; v < variants.size(); ++v) {
    if (variants[v].init_from.empty()) continue;
    const auto upstream = static_cast<std::size_t>(
        std::find_if(variants.begin(), variants.end(),
                     [&](const Variant& other) { return other.name == variants[v].init_from; }) -
        variants.begin());
    for (std::size_t p = 0; p < per_variant; ++p) {
      PlannedJob& job = jobs[v * per_variant + p];
      const PlannedJob& from = jobs[upstream * per_variant + p];
      job.after = from.index;
      const std::string checkpoints = output + "/" + job_directory_name(from) + "/checkpoints";
      // Before the command line's overrides, so that a user can still point elsewhere.
      job.overrides.insert(
          job.overrides.begin() + static_cast<std::ptrdiff_t>(variants[v].overrides.size()),
          "objective.init_from=" + to_toml_inline(Node(checkpoints)));
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
