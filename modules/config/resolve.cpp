#include "config/resolve.h"

#include "config/config_error.h"
#include "config/interpolate.h"
#include "config/override.h"
#include "config/search_path.h"
#include "config/toml_io.h"
#include "util/strings.h"

namespace sslx::config {

void apply_overrides(Node& config, const std::vector<Override>& overrides) {
  DiagnosticList diagnostics;
  for (const auto& o : overrides) {
    const Node* existing = config.find_path(o.key);
    switch (o.op) {
      case Override::Op::kDelete:
        if (existing == nullptr) {
          diagnostics.add(o.key, o.origin(),
                          "cannot delete " + in_quotes(o.key) + ": it is not set");
        } else {
          config.erase_path(o.key);
        }
        continue;
      case Override::Op::kAdd:
        if (existing != nullptr) {
          diagnostics.add(o.key, o.origin(),
                          "cannot add " + in_quotes(o.key) + ": already set at " +
                              existing->origin().str() + "; use " + o.key + "=" + o.value_text +
                              " to change it");
          continue;
        }
        break;
      case Override::Op::kSet:
      case Override::Op::kForceSet:
        break;
    }
    if (parse_sweep_values(o.value_text, o.origin())) {
      diagnostics.add(o.key, o.origin(),
                      "this is a sweep (several values); it expands to jobs in `sslx run` and "
                      "`--dry-run`, not in a single config");
      continue;
    }
    Node value = o.value();
    Node* target = config.find_path(o.key);
    if (target != nullptr && target->is_table() && value.is_table()) {
      merge_into(*target, value);  // tables merge, as in composition
      continue;
    }
    std::string conflict;
    if (!config.set_path(o.key, std::move(value), &conflict)) {
      diagnostics.add(o.key, o.origin(),
                      in_quotes(conflict) + " is " +
                          std::string(kind_name(config.find_path(conflict)->kind())) +
                          ", not a table, so it has no key " + in_quotes(o.key));
    }
  }
  diagnostics.throw_if_any();
}

Resolved compose_with_overrides(const ResolveRequest& request) {
  const SearchPath search_path = SearchPath::for_primary(request.file, request.config_dirs);
  std::vector<Override> overrides;
  for (const auto& text : request.overrides)
    overrides.push_back(parse_override(text));
  const auto group_overrides = take_group_overrides(overrides, search_path);

  Composition composition = compose(request.file, search_path, group_overrides);
  Resolved resolved{.config = std::move(composition.config),
                    .defaults_tree = std::move(composition.defaults_tree),
                    .overrides = request.overrides,
                    .sweep = {},
                    .variants = {}};
  if (const Node* sweep = resolved.config.find("sweep")) {
    resolved.sweep = axes_from_table(*sweep);
    resolved.config.erase("sweep");
  }
  if (const Node* variants = resolved.config.find("variants")) {
    resolved.variants = variants_from_table(*variants);
    resolved.config.erase("variants");
  }
  apply_overrides(resolved.config, overrides);
  return resolved;
}

Resolved resolve(const ResolveRequest& request, const SchemaForConfig& schema_for) {
  Resolved resolved = compose_with_overrides(request);
  const Schema schema = schema_for(resolved.config);
  {
    DiagnosticList diagnostics;
    validate(resolved.config, schema, "", diagnostics, {.skip_unresolved = true});
    diagnostics.throw_if_any();
  }
  interpolate(resolved.config);
  DiagnosticList diagnostics;
  validate(resolved.config, schema, "", diagnostics, {.skip_unresolved = false});
  diagnostics.throw_if_any();
  return resolved;
}

}  // namespace sslx::config
