// A module whose weight is a lookup table: rows picked by an index (a position, a distance
// bucket), never multiplied with the input. torch::nn::Embedding is one too; modules of sslx that
// are tables say so by this interface, so that policies about tables (AdamW does not decay them
// by default) find every table by what it is, not by its name.
#pragma once

#include <ATen/core/Tensor.h>

namespace sslx::nn {

class LookupTable {
 public:
  virtual ~LookupTable() = default;
  virtual const at::Tensor& table() const = 0;
};

}  // namespace sslx::nn
