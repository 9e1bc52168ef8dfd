// A language model's tensors between sslx's names (model.pt: backbone.*, lm_head.*) and an HF
// family's, following the family's TensorRules; strict both ways: every tensor has exactly one
// place, and shapes are checked against the model the config describes.
#pragma once

#include <string>

#include "interop/hf_family.h"
#include "interop/tensor_file.h"

namespace sslx::interop {

// The family's tensors for `sslx` (a model.pt state of `spec`); throws Error naming any sslx
// tensor the family has no place for (a reward head, say) or lacks. `source` names the file.
TensorMap to_hf_tensors(const HfFamily& family, const ModelSpec& spec, const TensorMap& sslx,
                        const std::string& source);

// sslx's tensors from an HF file's `hf` tensors; `expected` gives the shape of every sslx tensor
// (the model built from config.json). Names without the family's base prefix are read too,
// ignorable() names are skipped, anything else unused is an error, as is a missing tensor or one
// whose shape differs from what config.json says (naming `file` and the tensor).
TensorMap from_hf_tensors(const HfFamily& family, const ModelSpec& spec, const TensorMap& hf,
                          const TensorMap& expected, const std::string& file);

}  // namespace sslx::interop
