#include "log/layout.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace sslx::log {

std::string metric_path(const std::string& split, const std::string& name) {
  return "metrics/" + split + "/" + name;
}

std::string training_texts_path(std::int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step_%08lld", static_cast<long long>(step));
  return std::string("eval/texts/") + name;
}

std::optional<std::int64_t> training_texts_step(const std::string& member) {
  constexpr std::string_view prefix = "step_";
  if (member.size() <= prefix.size() || member.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  std::int64_t step = 0;
  for (std::size_t i = prefix.size(); i < member.size(); ++i) {
    if (member[i] < '0' || member[i] > '9') return std::nullopt;
    step = step * 10 + (member[i] - '0');
  }
  return step;
}

std::vector<std::pair<std::string, std::string>> list_metrics(hid_t file) {
  std::vector<std::pair<std::string, std::string>> result;
  if (!h5::exists(file, "metrics")) return result;
  const h5::Handle metrics = h5::open_group(file, "metrics");
  for (const auto& split : h5::member_names(metrics.get())) {
    const h5::Handle group = h5::open_group(metrics.get(), split);
    for (const auto& name : h5::member_names(group.get()))
      result.emplace_back(split, name);
  }
  std::sort(result.begin(), result.end());
  return result;
}

}  // namespace sslx::log
