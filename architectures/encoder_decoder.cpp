#include "architectures/encoder_decoder.h"

#include <ATen/ATen.h>

namespace sslx::arch {

EncoderDecoder::EncoderDecoder(const ArchitectureOptions& options) : Architecture(options) {
  encoder = register_module(
      "encoder",
      TransformerStack(options, StackOptions{.n_layers = options.n_layers, .causal = false}));
  decoder = register_module("decoder",
                            TransformerStack(options, StackOptions{.n_layers = n_decoder_layers(),
                                                                   .causal = true,
                                                                   .cross_attention = true}));
  nn::initialize(*this, nn::InitOptions{.scheme = options.init,
                                        .n_layers = std::max(options.n_layers, n_decoder_layers()),
                                        .d_model = options.d_model});
}

std::int64_t EncoderDecoder::n_decoder_layers() const {
  return options_.n_decoder_layers > 0 ? options_.n_decoder_layers : options_.n_layers;
}

ArchitectureOutputs EncoderDecoder::forward(const ArchitectureInputs& in) {
  // No prefix_length: an encoder_decoder's prefix is its encoder input.
  check_reads(in, {"token_ids", "key_valid", "segment_ids", "position_ids", "token_type_ids",
                   "decoder_token_ids", "decoder_key_valid", "decoder_position_ids",
                   "encoder_states", "cache"});
  TORCH_CHECK(in.decoder_token_ids.defined(), "encoder_decoder needs decoder_token_ids (B, U)");
  const bool cross_cached =
      in.cache != nullptr && !in.cache->cross.empty() && in.cache->cross.front().key.defined();
  const bool encoder_input = in.token_ids.defined() || in.segment_ids.defined() ||
                             in.position_ids.defined() || in.token_type_ids.defined();
  TORCH_CHECK(!cross_cached || (!encoder_input && !in.encoder_states.defined()),
              "the KV cache already holds the encoder's keys and values: later steps take no "
              "token_ids, segment_ids, position_ids, token_type_ids or encoder_states (start with "
              "an empty cache for a new input)");
  TORCH_CHECK(!(encoder_input && in.encoder_states.defined()),
              "give the encoder's inputs (token_ids, ...) or encoder_states, not both");
  at::Tensor memory = in.encoder_states;
  if (!memory.defined() && !cross_cached) {
    TORCH_CHECK(in.token_ids.defined(), "encoder_decoder needs token_ids (B, T) or encoder_states");
    const std::int64_t T = in.token_ids.size(1);
    const at::Tensor positions = positions_or_default(in.position_ids, T, 0, in.token_ids);
    const at::Tensor x = embeddings->forward(in.token_ids, positions, in.token_type_ids);
    memory = encoder->forward(
        x, StackInputs{.mask = {.key_valid = in.key_valid, .segment_ids = in.segment_ids},
                       .rotary_positions = rotary_positions(in.position_ids)});
  }
  const std::int64_t U = in.decoder_token_ids.size(1);
  const std::int64_t cached = in.cache != nullptr ? in.cache->length() : 0;
  const at::Tensor positions =
      positions_or_default(in.decoder_position_ids, U, cached, in.decoder_token_ids);
  const at::Tensor y = embeddings->forward(in.decoder_token_ids, positions);
  const at::Tensor hidden =
      decoder->forward(y, StackInputs{.mask = {.causal = true, .key_valid = in.decoder_key_valid},
                                      .rotary_positions = rotary_positions(in.decoder_position_ids),
                                      .memory = memory,
                                      .memory_mask = {.key_valid = in.key_valid},
                                      .cache = in.cache});
  return {.hidden_states = hidden, .encoder_states = memory};
}

double EncoderDecoder::forward_flops_per_token(std::int64_t context) const {
  const double N = double(parameter_count(false));
  const double layers = double(options_.n_layers + 2 * n_decoder_layers());
  return 2.0 * N + 2.0 * double(context * options_.d_model) * layers;
}

}  // namespace sslx::arch
