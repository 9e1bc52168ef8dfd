#include "architectures/architecture.h"

#include <ATen/ATen.h>

#include <string>
#include <utility>

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

std::optional<ArchitectureKind> kind_from_name(std::string_view name) {
  for (const auto kind :
       {ArchitectureKind::encoder, ArchitectureKind::decoder, ArchitectureKind::encoder_decoder}) {
    if (kind_name(kind) == name) return kind;
  }
  return std::nullopt;
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

void Architecture::check_reads(const ArchitectureInputs& in,
                               std::initializer_list<std::string_view> reads) const {
  const std::pair<std::string_view, bool> given[] = {
      {"token_ids", in.token_ids.defined()},
      {"key_valid", in.key_valid.defined()},
      {"segment_ids", in.segment_ids.defined()},
      {"position_ids", in.position_ids.defined()},
      {"token_type_ids", in.token_type_ids.defined()},
      {"prefix_length", in.prefix_length.defined()},
      {"decoder_token_ids", in.decoder_token_ids.defined()},
      {"decoder_key_valid", in.decoder_key_valid.defined()},
      {"decoder_position_ids", in.decoder_position_ids.defined()},
      {"encoder_states", in.encoder_states.defined()},
      {"cache", in.cache != nullptr}};
  std::string known;
  for (const auto r : reads)
    known += (known.empty() ? "" : ", ") + std::string(r);
  for (const auto& [name, defined] : given) {
    if (!defined) continue;
    bool read = false;
    for (const auto r : reads)
      read = read || r == name;
    TORCH_CHECK(read, kind_name(kind()), " does not read ", std::string(name), "; it reads ",
                known);
  }
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
