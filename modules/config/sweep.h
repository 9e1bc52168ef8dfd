// Sweeps: a cartesian product of axes, each axis a key with several values. Axes come from the
// `[sweep]` table of the experiment file and from command-line overrides with sweep syntax
// (`k=a,b,c`, `k=range(0,10,2)`, `k=choice(a,b)`); a command-line axis or plain override on the
// same key replaces the file's axis. Every job is a list of plain overrides, composed on its own.
#pragma once

#include <string>
#include <vector>

#include "config/node.h"

namespace sslx::config {

struct SweepAxis {
  std::string key;
  std::vector<std::string> values;  // override right-hand sides, e.g. "0.001", "small"
  Origin origin;
};

struct Job {
  std::size_t index = 0;
  std::vector<std::string> overrides;  // plain overrides: the command line's, then the axes'
  std::vector<std::string> axis_overrides;
  std::string name;  // "k1=v1,k2=v2" of the axis values, or "base" without axes
};

// Axes of a `[sweep]` table: `"key" = [values]`, `"key" = "range(...)"` or nested tables whose
// leaves are such values. Throws ConfigError for malformed entries.
std::vector<SweepAxis> axes_from_table(const Node& sweep_table);

// Expands the file's axes and the command-line overrides into jobs (first axis outermost).
std::vector<Job> expand_jobs(const std::vector<SweepAxis>& file_axes,
                             const std::vector<std::string>& command_line);

}  // namespace sslx::config
