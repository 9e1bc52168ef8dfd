// T5-like encoder-decoder: one embedding table shared by a bidirectional encoder stack and a
// causal decoder stack whose blocks cross-attend to the encoder states.
// Registered submodules (state-dict keys): embeddings, encoder, decoder.
#pragma once

#include "architectures/architecture.h"
#include "architectures/transformer_stack.h"

namespace sslx::arch {

class EncoderDecoder : public Architecture {
 public:
  explicit EncoderDecoder(const ArchitectureOptions& options);

  // Encoder: token_ids, key_valid, segment_ids, position_ids, token_type_ids (or given
  // encoder_states). Decoder: decoder_token_ids, decoder_key_valid, decoder_position_ids, cache.
  // -> hidden_states (the decoder's), encoder_states.
  ArchitectureOutputs forward(const ArchitectureInputs& inputs) override;
  ArchitectureKind kind() const override { return ArchitectureKind::encoder_decoder; }
  // Per position, with T encoder and T decoder positions: 2 N + 2 T E (L_enc + 2 L_dec), the
  // decoder attending to T of its own keys and T encoder states.
  double forward_flops_per_token(std::int64_t context) const override;

  std::int64_t n_decoder_layers() const;

  TransformerStack encoder{nullptr};
  TransformerStack decoder{nullptr};
};

}  // namespace sslx::arch
