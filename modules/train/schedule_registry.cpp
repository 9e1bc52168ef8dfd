#include "train/schedule_registry.h"

namespace sslx::train {
namespace {

config::Schema common_schema(bool decays) {
  config::Schema schema;
  schema.add({.key = "lr",
              .type = config::Type::kFloat,
              .default_value = 3e-4,
              .doc = "peak learning rate",
              .min = 0.0});
  schema.add({.key = "warmup_steps",
              .type = config::Type::kInt,
              .default_value = 0,
              .doc = "steps of linear warmup from 0 to lr",
              .min = 0});
  if (decays) {
    schema.add({.key = "total_steps",
                .type = config::Type::kInt,
                .doc = "optimizer steps at which the decay ends (usually the run's budget)",
                .min = 1});
    schema.add({.key = "final_lr_fraction",
                .type = config::Type::kFloat,
                .default_value = 0.1,
                .doc = "lr at total_steps as a fraction of the peak",
                .min = 0.0,
                .max = 1.0});
  }
  return schema;
}

ScheduleOptions options_from(const config::Node& node, bool decays) {
  ScheduleOptions options{.peak_lr = node.get_float("lr"),
                          .warmup_steps = node.get_int("warmup_steps")};
  if (decays) {
    options.total_steps = node.get_int("total_steps");
    options.final_lr_fraction = node.get_float("final_lr_fraction");
  }
  return options;
}

// A decay needs steps after the warmup (the schedules check it again when built).
void check_decay(const config::CheckContext& context) {
  const std::int64_t warmup = context.options().get_int("warmup_steps");
  const std::int64_t total = context.options().get_int("total_steps");
  if (total <= warmup) {
    context.error("total_steps", "total_steps (" + std::to_string(total) +
                                     ") must exceed warmup_steps (" + std::to_string(warmup) +
                                     "): the decay would have no steps");
  }
}

}  // namespace

ScheduleRegistry& schedule_registry() {
  static ScheduleRegistry registry("schedule", "learning-rate schedule", "schedule", "constant");
  return registry;
}

void register_builtin_schedules() {
  auto& registry = schedule_registry();
  if (registry.contains("constant")) return;
  registry.add("constant", "linear warmup, then a constant rate", common_schema(false),
               [](const config::Node& node) {
                 return std::make_unique<ConstantSchedule>(options_from(node, false));
               });
  registry.add(
      "linear", "linear warmup, then linear decay to final_lr_fraction * lr", common_schema(true),
      [](const config::Node& node) {
        return std::make_unique<LinearSchedule>(options_from(node, true));
      },
      check_decay);
  registry.add(
      "cosine", "linear warmup, then half-cosine decay to final_lr_fraction * lr",
      common_schema(true),
      [](const config::Node& node) {
        return std::make_unique<CosineSchedule>(options_from(node, true));
      },
      check_decay);
}

}  // namespace sslx::train
