// Paths of the run log layout (docs/hdf5-schema.md), shared by the writer and the reader.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "log/h5.h"

namespace sslx::log {

// "metrics/<split>/<name>": the group holding the step, value and time datasets of a metric.
std::string metric_path(const std::string& split, const std::string& name);

// (split, name) of every metric in the file, sorted.
std::vector<std::pair<std::string, std::string>> list_metrics(hid_t file);

}  // namespace sslx::log
