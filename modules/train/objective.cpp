#include "train/objective.h"

#include "util/error.h"

namespace sslx::train {

const at::Tensor& Batch::at(const std::string& name) const {
  const auto it = tensors.find(name);
  if (it == tensors.end()) throw Error("batch has no tensor " + name);
  return it->second;
}

Batch Batch::to(const c10::Device& device) const {
  Batch moved = *this;
  for (auto& [name, tensor] : moved.tensors) {
    if (tensor.defined()) tensor = tensor.to(device);
  }
  return moved;
}

StepReport Objective::train_step(torch::optim::Optimizer&) {
  throw Error("objective " + name() + " does not override train_step()",
              "return true from overrides_step() only together with a train_step()");
}

}  // namespace sslx::train
