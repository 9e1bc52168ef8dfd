#include "architectures/decoder.h"

#include <ATen/ATen.h>

namespace sslx::arch {

Decoder::Decoder(const ArchitectureOptions& options) : Architecture(options) {
  stack = register_module(
      "stack",
      TransformerStack(options, StackOptions{.n_layers = options.n_layers, .causal = true}));
  nn::initialize(
      *this, nn::InitOptions{
                 .scheme = options.init, .n_layers = options.n_layers, .d_model = options.d_model});
}

ArchitectureOutputs Decoder::forward(const ArchitectureInputs& in) {
  check_reads(in, {"token_ids", "key_valid", "segment_ids", "position_ids", "token_type_ids",
                   "prefix_length", "cache"});
  TORCH_CHECK(in.token_ids.defined(), "the decoder needs token_ids (B, T)");
  TORCH_CHECK(in.cache == nullptr || !in.segment_ids.defined(),
              "segment_ids (packed documents) cannot be combined with a KV cache");
  const std::int64_t T = in.token_ids.size(1);
  const std::int64_t cached = in.cache != nullptr ? in.cache->length() : 0;
  const at::Tensor positions = positions_or_default(in.position_ids, T, cached, in.token_ids);
  const at::Tensor x = embeddings->forward(in.token_ids, positions, in.token_type_ids);
  const StackInputs stack_inputs{.mask = {.causal = true,
                                          .prefix_length = in.prefix_length,
                                          .key_valid = in.key_valid,
                                          .segment_ids = in.segment_ids},
                                 .rotary_positions = rotary_positions(in.position_ids),
                                 .cache = in.cache};
  return {.hidden_states = stack->forward(x, stack_inputs)};
}

double Decoder::forward_flops_per_token(std::int64_t context) const {
  const double N = double(parameter_count(false));
  return 2.0 * N + 2.0 * double(options_.n_layers * context * options_.d_model);
}

}  // namespace sslx::arch
