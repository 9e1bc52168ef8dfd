#include "objectives/objective_registry.h"

#include <algorithm>

#include "architectures/architecture_registry.h"
#include "config/config_error.h"
#include "objectives/clm.h"
#include "objectives/dpo.h"
#include "objectives/group_policy.h"
#include "objectives/mlm.h"
#include "objectives/ppo.h"
#include "objectives/prefix_lm.h"
#include "objectives/reward_model.h"
#include "objectives/sft.h"
#include "objectives/span_corruption.h"
#include "util/strings.h"

namespace sslx::objectives {

ObjectiveRegistry& objective_registry() {
  static ObjectiveRegistry registry("objective", "training objective", "objective", "clm");
  return registry;
}

void register_builtin_objectives() {
  if (objective_registry().contains("clm")) return;
  register_clm();
  register_sft();
  register_reward_model();
  register_mlm();
  register_prefix_lm();
  register_span_corruption();
  register_dpo();
  register_group_policy_objectives();
  register_ppo();
}

void require_architecture(const std::string& objective, const config::Node& model,
                          const std::vector<std::string>& kinds) {
  const config::Node& arch = model.at_path("arch");
  const std::string kind(arch::kind_name(arch::architecture_registry().kind_of(arch.as_string())));
  if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) return;
  throw config::ConfigError("model.arch", arch.origin(),
                            "objective " + in_quotes(objective) + " does not train " +
                                in_quotes(arch.as_string()) + " (kind " + kind +
                                "); it trains kinds: " + join(kinds, ", "));
}

bool is_kind(const config::Node& model, std::string_view kind) {
  return arch::kind_name(arch::architecture_registry().kind_of(model.get_string("arch"))) == kind;
}

}  // namespace sslx::objectives
