#include "architectures/transformer_stack.h"

#include <ATen/ATen.h>

namespace sslx::arch {

TransformerStackImpl::TransformerStackImpl(const ArchitectureOptions& options,
                                           const StackOptions& stack)
    : stack_(stack) {
  TORCH_CHECK(stack.n_layers > 0, "a stack needs n_layers > 0, got ", stack.n_layers);
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < stack.n_layers; ++i) {
    blocks_.emplace_back(block_options(options, stack.cross_attention));
    layers->push_back(blocks_.back());
  }
  if (options.positions == PositionKind::relative) {
    relative_bias =
        register_module("relative_bias", nn::RelativePositionBias(nn::RelativePositionBiasOptions{
                                             .n_heads = options.n_heads,
                                             .bidirectional = !stack.causal,
                                             .num_buckets = options.relative_buckets,
                                             .max_distance = options.relative_max_distance}));
  }
  if (options.norm_position == nn::NormPosition::pre) {
    final_norm = nn::make_norm(nn::NormOptions{.kind = options.norm,
                                               .d_model = options.d_model,
                                               .eps = options.norm_eps,
                                               .bias = options.bias});
    register_module("final_norm", final_norm.ptr());
  }
}

at::Tensor TransformerStackImpl::forward(const at::Tensor& x, const StackInputs& inputs) {
  const auto n = static_cast<std::size_t>(stack_.n_layers);
  nn::KvCache* cache = inputs.cache;
  if (cache != nullptr) {
    if (cache->self.empty()) cache->self.resize(n);
    if (stack_.cross_attention && cache->cross.empty()) cache->cross.resize(n);
    TORCH_CHECK(cache->self.size() == n && cache->cross.size() == (stack_.cross_attention ? n : 0),
                "the KV cache has ", cache->self.size(), " self and ", cache->cross.size(),
                " cross entries; this stack has ", n, " layers");
  }
  const std::int64_t cached = cache != nullptr ? cache->length() : 0;  // C
  nn::BlockContext context{.self_mask = inputs.mask,
                           .positions = inputs.rotary_positions,
                           .memory = inputs.memory,
                           .memory_mask = inputs.memory_mask};
  // Each mask is resolved into additive scores once here, not once per layer.
  const std::int64_t B = x.size(0), T = x.size(1), S = cached + T;
  context.self_mask.resolved = nn::resolve_mask(inputs.mask, B, T, S, x.scalar_type(), x.device());
  const bool memory_cached =
      stack_.cross_attention && cache != nullptr && cache->cross.front().key.defined();
  // Without memory or a filled cache there is nothing to resolve: the first layer's
  // cross-attention then says what is missing.
  if (stack_.cross_attention && (memory_cached || inputs.memory.defined())) {
    const std::int64_t memory_length =
        memory_cached ? cache->cross.front().key.size(2) : inputs.memory.size(1);
    context.memory_mask.resolved =
        nn::resolve_mask(inputs.memory_mask, B, T, memory_length, x.scalar_type(), x.device());
  }
  if (relative_bias) {
    context.self_bias = relative_bias->forward(T, S, cached);  // (1, H, T, S)
    // The mask folded into the relative bias once: every layer then adds one (B, H, T, S) bias.
    nn::ScoreMask& mask = context.self_mask.resolved;
    if (mask.bias.defined()) {
      context.self_bias = context.self_bias + mask.bias;
      mask.bias = at::Tensor();
    }
  }
  at::Tensor h = x;
  for (std::size_t i = 0; i < n; ++i) {
    nn::BlockCache block_cache;
    if (cache != nullptr) {
      block_cache.self = &cache->self[i];
      if (stack_.cross_attention) block_cache.cross = &cache->cross[i];
    }
    h = blocks_[i]->forward(h, context, block_cache);
  }
  return final_norm.is_empty() ? h : final_norm.forward(h);
}

}  // namespace sslx::arch
