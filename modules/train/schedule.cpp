#include "train/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>

#include "util/error.h"

namespace sslx::train {
namespace {

// The warmup factor in (0, 1], or nullopt after warmup.
std::optional<double> warmup_factor(const ScheduleOptions& options, std::int64_t step) {
  if (step >= options.warmup_steps) return std::nullopt;
  return static_cast<double>(step + 1) / static_cast<double>(options.warmup_steps);
}

// Progress through the decay phase, 0 at the end of warmup, 1 at total_steps (clamped).
double decay_progress(const ScheduleOptions& options, std::int64_t step) {
  const double span = static_cast<double>(options.total_steps - options.warmup_steps);
  return std::clamp(static_cast<double>(step - options.warmup_steps) / span, 0.0, 1.0);
}

void check_decay_options(const ScheduleOptions& options, const char* name) {
  if (options.total_steps <= options.warmup_steps) {
    throw Error(std::string(name) + " schedule: total_steps (" +
                    std::to_string(options.total_steps) + ") must exceed warmup_steps (" +
                    std::to_string(options.warmup_steps) + ")",
                "set schedule.total_steps to the number of optimizer steps of the run");
  }
}

}  // namespace

double ConstantSchedule::lr(std::int64_t step) const {
  return options_.peak_lr * warmup_factor(options_, step).value_or(1.0);
}

LinearSchedule::LinearSchedule(ScheduleOptions options) : options_(options) {
  check_decay_options(options_, "linear");
}

double LinearSchedule::lr(std::int64_t step) const {
  if (auto factor = warmup_factor(options_, step)) return options_.peak_lr * *factor;
  const double progress = decay_progress(options_, step);
  return options_.peak_lr * (1.0 - progress * (1.0 - options_.final_lr_fraction));
}

CosineSchedule::CosineSchedule(ScheduleOptions options) : options_(options) {
  check_decay_options(options_, "cosine");
}

double CosineSchedule::lr(std::int64_t step) const {
  if (auto factor = warmup_factor(options_, step)) return options_.peak_lr * *factor;
  const double progress = decay_progress(options_, step);
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  const double floor = options_.final_lr_fraction;
  return options_.peak_lr * (floor + (1.0 - floor) * cosine);
}

}  // namespace sslx::train
