#include "architectures/architecture.h"

#include <ATen/ATen.h>

namespace sslx::arch {

std::string_view kind_name(ArchitectureKind kind) {
  switch (kind) {
    case ArchitectureKind::encoder:
      return "encoder";
    case ArchitectureKind::decoder:
      return "decoder";
    case ArchitectureKind::encoder_decoder:
      return "encoder_decoder";
  }
  return "unknown";
}

Architecture::Architecture(const ArchitectureOptions& options) : options_(options) {
  check(options);
  embeddings = register_module("embeddings", Embeddings(options));
}

std::int64_t Architecture::parameter_count(bool include_embeddings) const {
  std::int64_t count = 0;
  for (const auto& parameter : parameters())
    count += parameter.numel();
  if (include_embeddings) return count;
  count -= embeddings->tokens->weight.numel();
  if (embeddings->positions) count -= embeddings->positions->weight.numel();
  if (embeddings->token_types) count -= embeddings->token_types->weight.numel();
  return count;
}

at::Tensor Architecture::positions_or_default(const at::Tensor& given, std::int64_t length,
                                              std::int64_t cached, const at::Tensor& like) const {
  if (given.defined()) return given;
  return at::arange(cached, cached + length, like.options().dtype(at::kLong));
}

at::Tensor Architecture::rotary_positions(const at::Tensor& given) const {
  return options_.positions == PositionKind::rotary ? given : at::Tensor();
}

}  // namespace sslx::arch
