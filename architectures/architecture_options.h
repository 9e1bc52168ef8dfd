// The shape and choices of a backbone, shared by encoder, decoder and encoder_decoder. Parsed
// from the [model] section (architectures/architecture_registry.h); vocab_size comes from the
// tokenizer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nn/feed_forward.h"
#include "nn/init.h"
#include "nn/norm.h"
#include "nn/transformer_block.h"

namespace sslx::arch {

enum class PositionKind {
  learned,     // trained absolute embeddings added to the tokens (GPT-2, BERT)
  sinusoidal,  // fixed absolute encodings added to the tokens (Vaswani et al.)
  rotary,      // RoPE on queries and keys in self-attention
  relative,    // T5's bucketed relative bias on the self-attention scores, one table per stack
  none,        // no positional information (causal models can still infer some)
};
// "learned", "sinusoidal", "rotary", "relative" or "none"; throws (c10::Error) otherwise.
PositionKind position_kind_from_name(std::string_view name);

struct ArchitectureOptions {
  std::int64_t vocab_size = 0;        // V, from the tokenizer
  std::int64_t d_model = 0;           // E
  std::int64_t n_layers = 0;          // L: the encoder's, or the decoder's in a decoder
  std::int64_t n_decoder_layers = 0;  // encoder_decoder only; 0 means n_layers
  std::int64_t n_heads = 0;           // H
  std::int64_t n_kv_heads = 0;        // G; 0 means H
  std::int64_t d_ff = 0;              // F
  nn::Activation activation = nn::Activation::gelu;
  nn::NormKind norm = nn::NormKind::layer_norm;
  double norm_eps = 0.0;  // 0: the norm's default
  nn::NormPosition norm_position = nn::NormPosition::pre;
  PositionKind positions = PositionKind::learned;
  std::int64_t max_positions = 0;  // P, for learned positions and the input check
  std::int64_t relative_buckets = 32;
  std::int64_t relative_max_distance = 128;
  std::int64_t n_token_types = 0;  // BERT's sentence A/B embeddings; 0: none
  bool bias = true;                // in projections and LayerNorms (T5 has none)
  bool scale_attention = true;     // scores / √D; T5 folds it into the init instead
  double dropout = 0.0;            // residual: each sub-layer's output
  double attention_dropout = 0.0;  // attention probabilities
  double embedding_dropout = 0.0;  // embedding output
  nn::InitScheme init = nn::InitScheme::gpt2;
  bool tie_embeddings = true;  // the LM head reuses the token embedding
  // A tied LM head multiplies the hidden states by E^-1/2 first (T5, whose embeddings are N(0, 1)).
  bool tied_head_scale = false;
  // BERT's LM head: a dense E -> E layer, the activation and the norm before the projection to
  // the vocabulary, and a bias on that projection (BertLMPredictionHead).
  bool lm_head_transform = false;
};

// An inconsistent option: the [model] key it is about and what is wrong.
struct OptionProblem {
  std::string key;  // "n_heads", ...
  std::string message;
};

// Every inconsistent value, for `causal` self-attention (the decoder's; T5's relative buckets
// split differently for bidirectional attention) or not. Run on the config before a job starts,
// and again when a backbone is built.
std::vector<OptionProblem> problems(const ArchitectureOptions& options, bool causal);

// Throws (c10::Error) with every problem that holds with either kind of attention.
void check(const ArchitectureOptions& options);

// The options of one block of a stack.
nn::TransformerBlockOptions block_options(const ArchitectureOptions& options, bool cross_attention);

}  // namespace sslx::arch
