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

std::vector<OptionProblem> problems(const ArchitectureOptions& o, bool causal) {
  std::vector<OptionProblem> found;
  const auto require = [&found](bool holds, const char* key, std::string message) {
    if (!holds) found.push_back({key, std::move(message)});
  };
  const auto text = [](std::int64_t value) { return std::to_string(value); };
  require(o.vocab_size > 0, "vocab_size", "vocab_size must be > 0, got " + text(o.vocab_size));
  require(o.d_model > 0, "d_model", "d_model must be > 0, got " + text(o.d_model));
  require(o.n_layers > 0, "n_layers", "n_layers must be > 0, got " + text(o.n_layers));
  require(o.d_ff > 0, "d_ff", "d_ff must be > 0, got " + text(o.d_ff));
  require(o.max_positions > 0, "max_positions",
          "max_positions must be > 0, got " + text(o.max_positions));
  require(o.n_decoder_layers >= 0, "n_decoder_layers",
          "n_decoder_layers must be >= 0, got " + text(o.n_decoder_layers));
  require(o.n_token_types >= 0, "token_types",
          "token_types must be >= 0, got " + text(o.n_token_types));
  const bool heads_divide = o.n_heads > 0 && o.d_model % o.n_heads == 0;
  require(heads_divide, "n_heads",
          "n_heads = " + text(o.n_heads) + " must divide d_model = " + text(o.d_model));
  require(o.n_kv_heads >= 0 && (o.n_kv_heads == 0 || o.n_heads % o.n_kv_heads == 0), "n_kv_heads",
          "n_kv_heads = " + text(o.n_kv_heads) + " must divide n_heads = " + text(o.n_heads));
  require(o.positions != PositionKind::sinusoidal || o.d_model % 2 == 0, "d_model",
          "sinusoidal positions need an even d_model, got " + text(o.d_model));
  if (heads_divide) {
    require(o.positions != PositionKind::rotary || (o.d_model / o.n_heads) % 2 == 0, "n_heads",
            "rotary positions need an even head width, got d_model / n_heads = " +
                text(o.d_model / o.n_heads));
  }
  require(!o.lm_head_transform || !nn::is_gated(o.activation), "lm_head_transform",
          "lm_head_transform applies the activation to one projection: it needs gelu, gelu_tanh or "
          "relu, not a gated activation");
  if (o.positions == PositionKind::relative) {
    // Buckets below half (causal) or a quarter (bidirectional) of relative_buckets are exact
    // distances; the rest grow logarithmically up to relative_max_distance.
    const std::int64_t exact = causal ? o.relative_buckets / 2 : o.relative_buckets / 4;
    require(o.relative_max_distance > exact, "relative_max_distance",
            "relative_max_distance = " + text(o.relative_max_distance) +
                " must exceed the exact distances of relative_buckets = " +
                text(o.relative_buckets) + " (" + text(exact) + ")");
  }
  return found;
}

void check(const ArchitectureOptions& o) {
  std::string message;
  for (const auto& problem : problems(o, /*causal=*/false))
    message += (message.empty() ? "" : "; ") + problem.message;
  TORCH_CHECK(message.empty(), message);
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
