#include "train/device.h"

#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cctype>

#include "util/error.h"

namespace sslx::train {
namespace {

// "cuda" -> 0, "cuda:N" -> N, anything else -> -1.
int cuda_index(const std::string& setting) {
  if (setting == "cuda") return 0;
  if (setting.rfind("cuda:", 0) != 0 || setting.size() == 5 || setting.size() > 8) return -1;
  int index = 0;
  for (std::size_t i = 5; i < setting.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(setting[i])) == 0) return -1;
    index = 10 * index + (setting[i] - '0');
  }
  return index;
}

bool names_cuda(const std::string& setting) {
  return cuda_index(setting) >= 0;
}

}  // namespace

int cuda_device_count() {
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

std::string device_problem(const std::string& device, bool check_machine) {
  if (device != "cpu" && device != "auto" && !names_cuda(device)) {
    return "\"" + device + "\" is not a device: use \"cpu\", \"cuda\", \"cuda:N\" or \"auto\"";
  }
  if (!check_machine || !names_cuda(device)) return "";
  const int gpus = cuda_device_count();
  if (cuda_index(device) < gpus) return "";
  if (gpus == 0) {
    return "\"" + device +
           "\" needs a CUDA GPU, and this sslx (LibTorch " TORCH_VERSION
           ") sees none: it was built without CUDA or no GPU is visible; use \"cpu\" or "
           "\"auto\"";
  }
  return "\"" + device + "\": this machine has " + std::to_string(gpus) +
         " CUDA device(s), cuda:0 to cuda:" + std::to_string(gpus - 1);
}

std::string precision_problem(const std::string& device, const std::string& precision,
                              bool check_machine) {
  if (precision != "bf16") return "";
  const bool on_cpu =
      device == "cpu" || (check_machine && device == "auto" && cuda_device_count() == 0);
  if (!on_cpu) return "";
  return "\"bf16\" autocasts on CUDA only, and this job trains on the CPU (bfloat16 matrix "
         "products are slower than fp32 ones there): use \"fp32\", or a CUDA device";
}

c10::Device resolve_device(const std::string& setting, bool accelerators_allowed) {
  if (setting == "auto") {
    return accelerators_allowed && cuda_device_count() > 0 ? c10::Device(c10::kCUDA, 0)
                                                           : c10::Device(c10::kCPU);
  }
  if (const std::string problem = device_problem(setting, true); !problem.empty())
    throw Error("trainer.device: " + problem);
  if (setting == "cpu") return c10::Device(c10::kCPU);
  if (!accelerators_allowed) {
    throw Error("trainer.device = \"" + setting + "\": this objective trains on the CPU only",
                "set trainer.device = \"cpu\" or \"auto\"");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(cuda_index(setting)));
}

AutocastScope::AutocastScope(const c10::Device& device, bool bf16)
    : active_(bf16 && device.is_cuda()) {
  if (!active_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
  at::autocast::set_enabled(true);
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Casts cached for this scope's weights are dropped when the outermost scope ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
  at::autocast::set_enabled(false);
#endif
}

}  // namespace sslx::train
