// The `small` preset (configs/model/small.toml) built as `sslx run` builds it, for the benchmarks.
#pragma once

#include <memory>
#include <string>

#include "architectures/architecture.h"
#include "architectures/architecture_registry.h"
#include "config/schema.h"
#include "config/toml_io.h"

namespace sslx::bench {

// configs/model/small.toml with `arch` set, validated (defaults filled), for `vocab` tokens.
inline std::shared_ptr<arch::Architecture> build_small(const std::string& kind,
                                                       std::int64_t vocab) {
  arch::register_builtin_architectures();
  config::Node model = config::load_toml_file(SSLX_SOURCE_DIR "/configs/model/small.toml");
  model.set("arch", config::Node(kind));
  config::Node root;
  root.set("model", model);
  config::Schema schema;
  schema.add({.key = "model",
              .default_value = config::Node("decoder"),
              .doc = "",
              .component = &arch::architecture_registry()});
  config::DiagnosticList problems;
  config::validate(root, schema, "", problems);
  problems.throw_if_any();
  at::manual_seed(1);
  return std::shared_ptr<arch::Architecture>(
      arch::architecture_registry().create(*root.find("model"), vocab));
}

}  // namespace sslx::bench
