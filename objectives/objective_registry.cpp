#include "objectives/objective_registry.h"

#include <algorithm>

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
                          const std::vector<std::string>& compatible) {
  const config::Node& arch = model.at_path("arch");
  if (std::find(compatible.begin(), compatible.end(), arch.as_string()) != compatible.end()) return;
  throw config::ConfigError("model.arch", arch.origin(),
                            "objective " + in_quotes(objective) + " does not run on " +
                                in_quotes(arch.as_string()) +
                                "; compatible: " + join(compatible, ", "));
}

}  // namespace sslx::objectives
