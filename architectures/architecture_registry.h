// The registry of backbones, configured in the [model] section and selected by its `arch` key:
// encoder, decoder, encoder_decoder. The vocabulary size is not part of the model config: it is
// the tokenizer's, passed to create() when the model is built.
#pragma once

#include <cstdint>

#include "config/node.h"
#include "registry/registry.h"

namespace sslx::arch {

class Architecture;
struct ArchitectureOptions;

using ArchitectureRegistry = registry::Registry<Architecture, std::int64_t>;
ArchitectureRegistry& architecture_registry();

// Registers encoder, decoder and encoder_decoder (idempotent).
void register_builtin_architectures();

// The options of a validated [model] table, with the tokenizer's vocabulary size.
ArchitectureOptions options_from_config(const config::Node& model, std::int64_t vocab_size);

}  // namespace sslx::arch
