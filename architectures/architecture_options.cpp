#include "architectures/architecture_options.h"

#include <c10/util/Exception.h>

#include <string>

namespace sslx::arch {

PositionKind position_kind_from_name(std::string_view name) {
  if (name == "learned") return PositionKind::learned;
  if (name == "sinusoidal") return PositionKind::sinusoidal;
  if (name == "rotary") return PositionKind::rotary;
  if (name == "relative") return PositionKind::relative;
  if (name == "none") return PositionKind::none;
  TORCH_CHECK(false, "unknown positions \"", std::string(name),
              "\"; known: learned, sinusoidal, rotary, relative, none");
}

void check(const ArchitectureOptions& o) {
  TORCH_CHECK(o.vocab_size > 0, "vocab_size must be > 0, got ", o.vocab_size);
  TORCH_CHECK(o.d_model > 0 && o.n_layers > 0 && o.d_ff > 0,
              "d_model, n_layers and d_ff must be > 0, got ", o.d_model, ", ", o.n_layers, ", ",
              o.d_ff);
  TORCH_CHECK(o.n_heads > 0 && o.d_model % o.n_heads == 0, "n_heads = ", o.n_heads,
              " must divide d_model = ", o.d_model);
  TORCH_CHECK(o.n_kv_heads >= 0 && (o.n_kv_heads == 0 || o.n_heads % o.n_kv_heads == 0),
              "n_kv_heads = ", o.n_kv_heads, " must divide n_heads = ", o.n_heads);
  TORCH_CHECK(o.max_positions > 0, "max_positions must be > 0, got ", o.max_positions);
  TORCH_CHECK(o.positions != PositionKind::sinusoidal || o.d_model % 2 == 0,
              "sinusoidal positions need an even d_model, got ", o.d_model);
  TORCH_CHECK(o.n_decoder_layers >= 0 && o.n_token_types >= 0,
              "n_decoder_layers and n_token_types must be >= 0");
}

nn::TransformerBlockOptions block_options(const ArchitectureOptions& o, bool cross_attention) {
  return nn::TransformerBlockOptions{.d_model = o.d_model,
                                     .n_heads = o.n_heads,
                                     .n_kv_heads = o.n_kv_heads,
                                     .d_ff = o.d_ff,
                                     .activation = o.activation,
                                     .norm = o.norm,
                                     .norm_eps = o.norm_eps,
                                     .norm_position = o.norm_position,
                                     .bias = o.bias,
                                     .dropout = o.dropout,
                                     .attention_dropout = o.attention_dropout,
                                     .rotary = o.positions == PositionKind::rotary,
                                     .scale_scores = o.scale_attention,
                                     .cross_attention = cross_attention};
}

}  // namespace sslx::arch
