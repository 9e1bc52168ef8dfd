// Where a job trains (trainer.device) and in which precision (trainer.precision).
//
//   device:    "cpu"; "cuda" or "cuda:N" (a GPU of this machine, refused with a clear error when
//              this LibTorch was built without CUDA or sees no such GPU); "auto" (the first GPU
//              when there is one, else the CPU).
//   precision: "fp32"; "bf16": autocast to bfloat16 on CUDA, with fp32 master weights and
//              optimizer state. Refused on the CPU, where bfloat16 matrix products are slower than
//              fp32 ones on the processors sslx has been measured on.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace sslx::train {

// What this process's LibTorch can use: the number of CUDA devices it sees (0 without CUDA).
int cuda_device_count();

// The problem with trainer.device / trainer.precision on this machine, or "" when there is
// none. With `check_machine` false only the values themselves are checked (a job submitted to a
// cluster runs elsewhere).
std::string device_problem(const std::string& device, bool check_machine);
std::string precision_problem(const std::string& device, const std::string& precision,
                              bool check_machine);

// The device `setting` names here; "auto" is the CPU when `accelerators_allowed` is false (an
// objective that runs on the CPU only). Throws sslx::Error naming trainer.device.
c10::Device resolve_device(const std::string& setting, bool accelerators_allowed);

// While alive, operations on `device` run under bfloat16 autocast when `bf16` (CUDA only).
class AutocastScope {
 public:
  AutocastScope(const c10::Device& device, bool bf16);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
};

}  // namespace sslx::train
