#include "interop/hf_convert.h"

#include <ATen/ATen.h>

#include <set>
#include <sstream>

#include "util/error.h"

namespace sslx::interop {
namespace {

std::string shape_text(at::IntArrayRef sizes) {
  std::ostringstream text;
  text << sizes;
  return text.str();
}

// The HF shape of `rule`'s tensor, from the sslx shapes.
std::vector<std::int64_t> hf_shape(const TensorRule& rule, const TensorMap& sslx) {
  std::vector<std::int64_t> shape = sslx.at(rule.sslx.front()).sizes().vec();
  for (std::size_t i = 1; i < rule.sslx.size(); ++i)
    shape[0] += sslx.at(rule.sslx[i]).size(0);
  if (rule.transposed) std::swap(shape[0], shape[1]);
  return shape;
}

}  // namespace

TensorMap to_hf_tensors(const HfFamily& family, const ModelSpec& spec, const TensorMap& sslx,
                        const std::string& source) {
  TensorMap hf;
  std::set<std::string> used;
  for (const auto& rule : tensor_rules(family, spec)) {
    std::vector<at::Tensor> parts;
    for (const auto& name : rule.sslx) {
      const auto it = sslx.find(name);
      if (it == sslx.end())
        throw Error(source + " lacks \"" + name + "\", which " + class_of(family, spec) +
                    " needs for \"" + rule.hf + "\"");
      parts.push_back(it->second.detach());
      used.insert(name);
    }
    at::Tensor tensor = parts.size() == 1 ? parts.front() : at::cat(parts, 0);
    if (rule.transposed) tensor = tensor.t();
    hf.emplace(rule.hf, tensor.contiguous());
  }
  for (const auto& [name, unused] : sslx) {
    if (used.count(name) == 0)
      throw Error(
          source + " holds \"" + name + "\", which " + class_of(family, spec) + " has no place for",
          "only language models (backbone and LM head), reward models and saved classifiers "
          "are exported");
  }
  return hf;
}

TensorMap from_hf_tensors(const HfFamily& family, const ModelSpec& spec, const TensorMap& hf,
                          const TensorMap& expected, const std::string& file) {
  const std::string prefix = family.base_prefix();
  std::set<std::string> used;
  // The tensor stored as `name`, or under the base model's name (without the prefix).
  const auto find = [&](const std::string& name) -> const at::Tensor* {
    for (const std::string& candidate :
         {name, !prefix.empty() && name.starts_with(prefix) ? name.substr(prefix.size()) : name}) {
      const auto it = hf.find(candidate);
      if (it != hf.end()) {
        used.insert(candidate);
        return &it->second;
      }
    }
    return nullptr;
  };
  TensorMap sslx;
  for (const auto& rule : tensor_rules(family, spec)) {
    const at::Tensor* stored = find(rule.hf);
    if (stored == nullptr)
      throw IoError(file + " lacks tensor \"" + rule.hf + "\", which " + class_of(family, spec) +
                    " with this config.json has");
    const auto shape = hf_shape(rule, expected);
    if (stored->sizes().vec() != shape)
      throw IoError(file + ": tensor \"" + rule.hf + "\" is " + shape_text(stored->sizes()) +
                    ", but config.json describes " + shape_text(shape));
    if (!stored->is_floating_point())
      throw IoError(file + ": tensor \"" + rule.hf + "\" has dtype " +
                    std::string(c10::toString(stored->scalar_type())) +
                    "; expected a floating-point dtype");
    at::Tensor tensor = rule.transposed ? stored->t() : *stored;
    std::int64_t row = 0;
    for (const auto& name : rule.sslx) {
      const std::int64_t rows = expected.at(name).size(0);
      sslx.emplace(name, tensor.narrow(0, row, rows).to(at::kFloat).contiguous());
      row += rows;
    }
  }
  // A tied tensor saved anyway (some writers do) is the other one again: accepted when it is.
  for (const auto& [copy_name, original_name] : family.tied_copies(spec)) {
    const at::Tensor* copy = find(copy_name);
    if (copy == nullptr) continue;
    const at::Tensor* original = find(original_name);
    if (original == nullptr || copy->sizes() != original->sizes() ||
        !at::equal(copy->to(at::kFloat), original->to(at::kFloat)))
      throw IoError(file + " holds \"" + copy_name + "\" different from \"" + original_name +
                    "\", but " + class_of(family, spec) + " with this config.json ties them");
  }
  for (const auto& [name, unused] : hf) {
    if (used.count(name) == 0 && !family.ignorable(name))
      throw IoError(file + " holds tensor \"" + name + "\", which " + class_of(family, spec) +
                        " does not have",
                    "sslx reads the families' language-model and sequence-classification classes");
  }
  return sslx;
}

}  // namespace sslx::interop
