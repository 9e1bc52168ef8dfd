// What a backbone computes, as objectives and evaluators see it: they accept an architecture by
// its kind, never by its registered name, so a plugin's second decoder works with every
// objective and evaluator that takes a decoder. Kept free of LibTorch for config checks.
#pragma once

#include <optional>
#include <string_view>

namespace sslx::arch {

enum class ArchitectureKind { encoder, decoder, encoder_decoder };
std::string_view kind_name(ArchitectureKind kind);  // "encoder", "decoder", "encoder_decoder"
std::optional<ArchitectureKind> kind_from_name(std::string_view name);

}  // namespace sslx::arch
