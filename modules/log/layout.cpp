#include "log/layout.h"

#include <algorithm>

namespace sslx::log {

std::string metric_path(const std::string& split, const std::string& name) {
  return "metrics/" + split + "/" + name;
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
