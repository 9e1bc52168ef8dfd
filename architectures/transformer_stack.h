// A stack of Transformer blocks with what the layers share: T5's relative position bias (one
// table for the stack) and, in pre-norm models, the final norm.
//
// Dimensions: B batch, T positions, C positions already in the KV cache, S = C + T keys,
// S_mem memory positions, E model width, H heads.
// Registered submodules (state-dict keys): layers.<i>.*, [relative_bias], [final_norm].
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "architectures/architecture_options.h"
#include "nn/attention_mask.h"
#include "nn/kv_cache.h"
#include "nn/relative_position_bias.h"
#include "nn/transformer_block.h"

namespace sslx::arch {

struct StackOptions {
  std::int64_t n_layers = 0;
  bool causal = false;           // decoder stacks: the relative bias is then unidirectional
  bool cross_attention = false;  // decoder of an encoder-decoder
};

struct StackInputs {
  nn::AttentionMask mask = {};         // self-attention, over S = C + T keys
  at::Tensor rotary_positions = {};    // (T) or (B, T), with positions = rotary
  at::Tensor memory = {};              // (B, S_mem, E), with cross-attention
  nn::AttentionMask memory_mask = {};  // cross-attention, over S_mem keys
  nn::KvCache* cache = nullptr;        // incremental decoding; sized on first use
};

class TransformerStackImpl : public torch::nn::Module {
 public:
  TransformerStackImpl(const ArchitectureOptions& options, const StackOptions& stack);

  // x: (B, T, E) -> (B, T, E)
  at::Tensor forward(const at::Tensor& x, const StackInputs& inputs);

  torch::nn::ModuleList layers{nullptr};
  nn::RelativePositionBias relative_bias{nullptr};  // null unless positions = relative
  torch::nn::AnyModule final_norm;                  // empty unless norm_position = pre

 private:
  std::vector<nn::TransformerBlock> blocks_;
  StackOptions stack_;
};
TORCH_MODULE(TransformerStack);

}  // namespace sslx::arch
