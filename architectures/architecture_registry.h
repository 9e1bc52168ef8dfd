// The registry of backbones, configured in the [model] section and selected by its `arch` key:
// encoder, decoder, encoder_decoder. The vocabulary size is not part of the model config: it is
// the tokenizer's, passed to create() when the model is built.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "architectures/architecture_kind.h"
#include "config/check.h"
#include "config/node.h"
#include "registry/registry.h"

namespace sslx::arch {

class Architecture;
struct ArchitectureOptions;

class ArchitectureRegistry : public registry::Registry<Architecture, std::int64_t> {
 public:
  using Registry::Registry;

  // Every architecture declares its kind: what objectives and evaluators check, at --dry-run and
  // when they build a backbone. `check`: its rules over the config (check_standard_options for
  // one that reads the standard [model] keys).
  void add(std::string name, std::string doc, ArchitectureKind kind, config::Schema schema,
           Factory factory, config::Check check = {});

  // The kind of the architecture registered as `name`; throws ConfigError naming the known ones.
  ArchitectureKind kind_of(std::string_view name) const;

 private:
  std::map<std::string, ArchitectureKind, std::less<>> kinds_;
};
ArchitectureRegistry& architecture_registry();

// The kind of the backbone a validated config's [model] section selects (model.arch).
ArchitectureKind model_kind(const config::Node& config);

// Registers encoder, decoder and encoder_decoder (idempotent).
void register_builtin_architectures();

// The options of a validated [model] table, with the tokenizer's vocabulary size.
ArchitectureOptions options_from_config(const config::Node& model, std::int64_t vocab_size);

// The schema of the built-in backbones' [model] keys, and their check (problems() of the
// options; with learned positions, trainer.sequence_length within max_positions): for a plugin
// architecture that reads the same keys.
config::Schema standard_schema(bool encoder_decoder);
config::Check check_standard_options(ArchitectureKind kind);

}  // namespace sslx::arch
