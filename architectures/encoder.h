// BERT-like encoder: embeddings, then a stack of bidirectional self-attention blocks.
// Registered submodules (state-dict keys): embeddings, stack.
#pragma once

#include "architectures/architecture.h"
#include "architectures/transformer_stack.h"

namespace sslx::arch {

class Encoder : public Architecture {
 public:
  explicit Encoder(const ArchitectureOptions& options);

  // Reads token_ids, key_valid, segment_ids, position_ids, token_type_ids -> hidden_states.
  ArchitectureOutputs forward(const ArchitectureInputs& inputs) override;
  ArchitectureKind kind() const override { return ArchitectureKind::encoder; }
  // 2 N + 2 L T E, N the parameters without embeddings.
  double forward_flops_per_token(std::int64_t context) const override;

  TransformerStack stack{nullptr};
};

}  // namespace sslx::arch
