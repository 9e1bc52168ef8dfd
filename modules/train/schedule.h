// Learning-rate schedules: lr(step) for step = 0, 1, 2, ... (the step about to be taken).
//
// All schedules share a linear warmup from 0 over `warmup_steps` (lr(0) = 0 would waste the first
// step, so warmup uses (step + 1) / warmup_steps, as nanoGPT does), then:
//   constant: peak lr
//   linear:   peak -> peak * final_lr_fraction at total_steps (HF get_linear_schedule_with_warmup)
//   cosine:   half cosine from peak to peak * final_lr_fraction at total_steps
// After total_steps the rate stays at its final value.
#pragma once

#include <cstdint>
#include <string>

namespace sslx::train {

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  virtual double lr(std::int64_t step) const = 0;
};

struct ScheduleOptions {
  double peak_lr = 3e-4;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 0;    // ignored by "constant"
  double final_lr_fraction = 0.1;  // ignored by "constant"
};

class ConstantSchedule : public LrSchedule {
 public:
  explicit ConstantSchedule(ScheduleOptions options) : options_(options) {}
  double lr(std::int64_t step) const override;

 private:
  ScheduleOptions options_;
};

class LinearSchedule : public LrSchedule {
 public:
  explicit LinearSchedule(ScheduleOptions options);
  double lr(std::int64_t step) const override;

 private:
  ScheduleOptions options_;
};

class CosineSchedule : public LrSchedule {
 public:
  explicit CosineSchedule(ScheduleOptions options);
  double lr(std::int64_t step) const override;

 private:
  ScheduleOptions options_;
};

}  // namespace sslx::train
