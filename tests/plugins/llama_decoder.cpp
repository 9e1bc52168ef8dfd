// A test plugin: a second decoder-style architecture, registered under another name. It proves
// that objectives and evaluators accept backbones by kind: clm trains it and generate samples
// from it without either knowing its name.
//
// "llama_decoder" is the built-in decoder with Llama's choices fixed: rotary positions, RMSNorm,
// SwiGLU, no biases (the [model] keys that would choose otherwise are ignored).
#include <memory>

#include "architectures/architecture_registry.h"
#include "architectures/decoder.h"
#include "registry/plugin.h"

namespace {

void register_llama_decoder() {
  using sslx::arch::ArchitectureKind;
  sslx::arch::architecture_registry().add(
      "llama_decoder", "a decoder with Llama's choices (test plugin)", ArchitectureKind::decoder,
      sslx::arch::standard_schema(false),
      [](const sslx::config::Node& model, std::int64_t vocab_size) {
        auto options = sslx::arch::options_from_config(model, vocab_size);
        options.positions = sslx::arch::PositionKind::rotary;
        options.norm = sslx::nn::NormKind::rms_norm;
        options.activation = sslx::nn::Activation::swiglu;
        options.bias = false;
        return std::make_unique<sslx::arch::Decoder>(options);
      },
      sslx::arch::check_standard_options(ArchitectureKind::decoder));
}

}  // namespace

SSLX_PLUGIN(register_llama_decoder)
