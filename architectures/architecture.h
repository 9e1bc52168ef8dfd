// The Architecture interface (docs/architecture.md): one forward over named inputs returning named
// outputs, its kind, parameter count and FLOPs per token. Implemented by Encoder (BERT-like),
// Decoder (GPT-like) and EncoderDecoder (T5-like); heads (architectures/heads.h) attach to any of
// them.
//
// Dimensions: B batch, T input positions, U decoder positions, C positions already in a KV cache,
// E model width.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "architectures/architecture_kind.h"
#include "architectures/architecture_options.h"
#include "architectures/embeddings.h"
#include "nn/kv_cache.h"

namespace sslx::arch {

struct ArchitectureInputs {
  at::Tensor token_ids = {};  // (B, T) int64: the encoder's input, or the decoder's in a decoder
  // (B, T) bool, true for real tokens; in a decoder with a cache (B, C + T), covering the cached
  // positions too. In an encoder-decoder it also masks the encoder states for cross-attention.
  at::Tensor key_valid = {};
  at::Tensor segment_ids = {};        // (B, T) int64, packed documents; not with a cache
  at::Tensor position_ids = {};       // (T) or (B, T) int64; default C .. C+T-1
  at::Tensor token_type_ids = {};     // (B, T) int64, with n_token_types > 0 (BERT)
  at::Tensor prefix_length = {};      // (B) int64, decoder only: a bidirectional prefix (prefix LM)
  at::Tensor decoder_token_ids = {};  // (B, U) int64, encoder_decoder only
  at::Tensor decoder_key_valid = {};  // (B, U), or (B, C + U) with a cache
  at::Tensor decoder_position_ids = {};  // (U) or (B, U); default C .. C+U-1
  // (B, T, E): encoder states from an earlier call (encoder_decoder), which skips the encoder.
  at::Tensor encoder_states = {};
  // Incremental decoding (decoder, encoder_decoder): start with an empty KvCache and feed one
  // step (or chunk) at a time; the encoder runs only until the cross-attention cache is filled.
  nn::KvCache* cache = nullptr;
};

struct ArchitectureOutputs {
  at::Tensor hidden_states = {};   // (B, T, E), or (B, U, E) for encoder_decoder: the decoder's
  at::Tensor encoder_states = {};  // (B, T, E), encoder_decoder only (undefined once cached)
};

class Architecture : public torch::nn::Module {
 public:
  explicit Architecture(const ArchitectureOptions& options);

  virtual ArchitectureOutputs forward(const ArchitectureInputs& inputs) = 0;
  virtual ArchitectureKind kind() const = 0;
  // Forward FLOPs per token at context length T (docs/architectures.md); training is 3x.
  virtual double forward_flops_per_token(std::int64_t context) const = 0;
  double training_flops_per_token(std::int64_t context) const {
    return 3.0 * forward_flops_per_token(context);
  }
  // All parameters, or without the token, position and token-type embedding matrices.
  std::int64_t parameter_count(bool include_embeddings) const;

  const ArchitectureOptions& options() const { return options_; }
  // The input embedding (V, E), for a tied LM head.
  torch::nn::Embedding token_embedding() const { return embeddings->tokens; }

  Embeddings embeddings{nullptr};

 protected:
  // Throws (c10::Error) naming the first input that is given but not among `reads` (field
  // names of ArchitectureInputs): an input a kind does not read is refused, never ignored.
  void check_reads(const ArchitectureInputs& inputs,
                   std::initializer_list<std::string_view> reads) const;
  // Position ids of T new positions after C cached ones: `given`, or C .. C+T-1 as (T).
  at::Tensor positions_or_default(const at::Tensor& given, std::int64_t length, std::int64_t cached,
                                  const at::Tensor& like) const;
  // The ids for rotary attention: `given` with positions = rotary, else undefined.
  at::Tensor rotary_positions(const at::Tensor& given) const;

  ArchitectureOptions options_;
};

}  // namespace sslx::arch
