#include "architectures/encoder.h"

#include <ATen/ATen.h>

namespace sslx::arch {

Encoder::Encoder(const ArchitectureOptions& options) : Architecture(options) {
  stack = register_module(
      "stack",
      TransformerStack(options, StackOptions{.n_layers = options.n_layers, .causal = false}));
  nn::initialize(
      *this, nn::InitOptions{
                 .scheme = options.init, .n_layers = options.n_layers, .d_model = options.d_model});
}

ArchitectureOutputs Encoder::forward(const ArchitectureInputs& in) {
  check_reads(in, {"token_ids", "key_valid", "segment_ids", "position_ids", "token_type_ids"});
  TORCH_CHECK(in.token_ids.defined(), "the encoder needs token_ids (B, T)");
  const std::int64_t T = in.token_ids.size(1);
  const at::Tensor positions = positions_or_default(in.position_ids, T, 0, in.token_ids);
  const at::Tensor x = embeddings->forward(in.token_ids, positions, in.token_type_ids);
  const StackInputs stack_inputs{.mask = {.key_valid = in.key_valid, .segment_ids = in.segment_ids},
                                 .rotary_positions = rotary_positions(in.position_ids)};
  return {.hidden_states = stack->forward(x, stack_inputs)};
}

double Encoder::forward_flops_per_token(std::int64_t context) const {
  const double N = double(parameter_count(false));
  return 2.0 * N + 2.0 * double(options_.n_layers * context * options_.d_model);
}

}  // namespace sslx::arch
