// GPT-like decoder: embeddings, then a stack of causal self-attention blocks. A prefix length
// makes it a prefix LM; a KV cache makes it decode incrementally.
// Registered submodules (state-dict keys): embeddings, stack.
#pragma once

#include "architectures/architecture.h"
#include "architectures/transformer_stack.h"

namespace sslx::arch {

class Decoder : public Architecture {
 public:
  explicit Decoder(const ArchitectureOptions& options);

  // Reads token_ids, key_valid, segment_ids, position_ids, token_type_ids, prefix_length, cache
  // -> hidden_states.
  ArchitectureOutputs forward(const ArchitectureInputs& inputs) override;
  ArchitectureKind kind() const override { return ArchitectureKind::decoder; }
  // 2 N + 2 L T E, N the parameters without embeddings.
  double forward_flops_per_token(std::int64_t context) const override;

  TransformerStack stack{nullptr};
};

}  // namespace sslx::arch
