#include "architectures/pooling.h"

#include <ATen/ATen.h>

#include <string>

namespace sslx::arch {

Pooling pooling_from_name(std::string_view name) {
  if (name == "first") return Pooling::first;
  if (name == "last") return Pooling::last;
  if (name == "mean") return Pooling::mean;
  TORCH_CHECK(false, "unknown pooling \"", std::string(name), "\"; known: first, last, mean");
}

at::Tensor pool(const at::Tensor& hidden, const at::Tensor& key_valid, Pooling pooling) {
  TORCH_CHECK(hidden.dim() == 3, "hidden states must be (B, T, E), got ", hidden.sizes());
  const std::int64_t B = hidden.size(0), T = hidden.size(1);
  TORCH_CHECK(!key_valid.defined() || key_valid.sizes() == at::IntArrayRef({B, T}),
              "key_valid must be (B, T) = (", B, ", ", T, "), got ", key_valid.sizes());
  if (pooling == Pooling::first) return hidden.select(1, 0);
  const at::Tensor valid = key_valid.defined()
                               ? key_valid.to(at::kBool)
                               : at::ones({B, T}, hidden.options().dtype(at::kBool));
  const at::Tensor counts = valid.sum(1);  // (B)
  TORCH_CHECK(counts.min().item<std::int64_t>() > 0,
              "every sequence needs a valid position for last or mean pooling");
  if (pooling == Pooling::mean) {
    const at::Tensor weights = valid.to(hidden.scalar_type()).unsqueeze(-1);  // (B, T, 1)
    return (hidden * weights).sum(1) / counts.to(hidden.scalar_type()).unsqueeze(-1);
  }
  // The largest valid index: argmax of index * valid works for left and right padding.
  const at::Tensor index = at::arange(T, valid.options().dtype(at::kLong));
  const at::Tensor last = (index * valid.to(at::kLong)).argmax(1);  // (B)
  const at::Tensor gather_index = last.view({B, 1, 1}).expand({B, 1, hidden.size(2)});
  return hidden.gather(1, gather_index).squeeze(1);
}

}  // namespace sslx::arch
