// The registry of learning-rate schedules, configured in the [schedule] section.
#pragma once

#include "registry/registry.h"
#include "train/schedule.h"

namespace sslx::train {

using ScheduleRegistry = registry::Registry<LrSchedule>;
ScheduleRegistry& schedule_registry();

// Registers constant, linear and cosine.
void register_builtin_schedules();

}  // namespace sslx::train
