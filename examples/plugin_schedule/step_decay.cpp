// An example sslx plugin: a step-decay learning-rate schedule (multiply the rate by `gamma`
// every `step_size` steps), registered from a shared library that sslx loads at run time.
//
// Use it from a config:
//   plugins = ["path/to/libsslx_example_step_decay.so"]
//   [schedule]
//   name = "step_decay"
//   lr = 1e-3
//   step_size = 1000
#include <cmath>
#include <memory>

#include "registry/plugin.h"
#include "train/schedule_registry.h"

namespace {

class StepDecaySchedule : public sslx::train::LrSchedule {
 public:
  StepDecaySchedule(double lr, std::int64_t step_size, double gamma)
      : lr_(lr), step_size_(step_size), gamma_(gamma) {}

  double lr(std::int64_t step) const override {
    return lr_ * std::pow(gamma_, static_cast<double>(step / step_size_));
  }

 private:
  double lr_;
  std::int64_t step_size_;
  double gamma_;
};

void register_step_decay() {
  using sslx::config::Type;
  sslx::config::Schema schema;
  schema.add({.key = "lr",
              .type = Type::kFloat,
              .default_value = 1e-3,
              .doc = "initial learning rate",
              .min = 0.0});
  schema.add({.key = "step_size", .type = Type::kInt, .doc = "steps between two decays", .min = 1});
  schema.add({.key = "gamma",
              .type = Type::kFloat,
              .default_value = 0.5,
              .doc = "factor applied at each decay",
              .min = 0.0,
              .max = 1.0});
  sslx::train::schedule_registry().add(
      "step_decay", "multiply the rate by gamma every step_size steps", std::move(schema),
      [](const sslx::config::Node& options) {
        return std::make_unique<StepDecaySchedule>(
            options.get_float("lr"), options.get_int("step_size"), options.get_float("gamma"));
      });
}

}  // namespace

SSLX_PLUGIN(register_step_decay)
