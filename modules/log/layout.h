// Paths of the run log layout (docs/hdf5-schema.md), shared by the writer and the reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "log/h5.h"

namespace sslx::log {

// "metrics/<split>/<name>": the group holding the step, value and time datasets of a metric.
std::string metric_path(const std::string& split, const std::string& name);

// "eval/texts/step_<NNNNNNNN>": the texts of the evaluation at `step` during training.
std::string training_texts_path(std::int64_t step);
// The step of a member of eval/texts named "step_<N>"; nullopt for any other name.
std::optional<std::int64_t> training_texts_step(const std::string& member);

// (split, name) of every metric in the file, sorted.
std::vector<std::pair<std::string, std::string>> list_metrics(hid_t file);

}  // namespace sslx::log
