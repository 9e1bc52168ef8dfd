#include "train/trainer_state.h"

#include "config/node.h"
#include "config/toml_io.h"
#include "util/error.h"

namespace sslx::train {

std::string TrainerState::to_toml() const {
  config::Node root;
  root.set("format", config::Node(kCheckpointFormat));
  root.set("step", config::Node(step));
  root.set("tokens_seen", config::Node(tokens_seen));
  root.set("skipped_steps", config::Node(skipped_steps));
  root.set("elapsed_seconds", config::Node(elapsed_seconds));
  root.set("has_best", config::Node(has_best));
  root.set("best_metric", config::Node(best_metric));
  root.set("best_step", config::Node(best_step));
  root.set("evaluated_step", config::Node(evaluated_step));
  root.set("evaluations_without_improvement", config::Node(evaluations_without_improvement));
  config::Node sampler_node;
  sampler_node.set("epoch", config::Node(sampler.epoch));
  sampler_node.set("position", config::Node(sampler.position));
  root.set("sampler", sampler_node);
  config::Node rng;
  // TOML integers are signed 64-bit: states are stored as their two's-complement bit pattern.
  for (const auto& [name, state] : rng_states) {
    rng.set(name, config::Node(static_cast<std::int64_t>(state)));
  }
  root.set("rng", rng);
  return config::to_toml(root);
}

TrainerState TrainerState::from_toml(const std::string& text, const std::string& source) {
  const config::Node root = config::parse_toml(text, source);
  if (root.get_int("format") != kCheckpointFormat) {
    throw IoError(source + ": checkpoint format " + std::to_string(root.get_int("format")) +
                      ", this sslx reads format " + std::to_string(kCheckpointFormat),
                  "resume with the sslx version that wrote it, or start afresh");
  }
  TrainerState state;
  state.step = root.get_int("step");
  state.tokens_seen = root.get_int("tokens_seen");
  state.skipped_steps = root.get_int("skipped_steps");
  state.elapsed_seconds = root.get_float("elapsed_seconds");
  state.has_best = root.get_bool("has_best");
  state.best_metric = root.get_float("best_metric");
  // Absent in checkpoints written before sslx kept them.
  if (const auto* best = root.find("best_step")) state.best_step = best->as_int();
  if (const auto* evaluated = root.find("evaluated_step"))
    state.evaluated_step = evaluated->as_int();
  state.evaluations_without_improvement = root.get_int("evaluations_without_improvement");
  state.sampler = {root.get_int("sampler.epoch"), root.get_int("sampler.position")};
  for (const auto& [name, value] : root.at_path("rng").as_table()) {
    state.rng_states[name] = static_cast<std::uint64_t>(value.as_int());
  }
  return state;
}

std::uint64_t TrainerState::rng_state(const std::string& name) const {
  const auto found = rng_states.find(name);
  if (found != rng_states.end()) return found->second;
  std::string names;
  for (const auto& entry : rng_states)
    names += (names.empty() ? "\"" : ", \"") + entry.first + "\"";
  throw Error("the checkpoint's trainer_state.toml has no random stream \"" + name +
                  "\" under [rng] (it has " + (names.empty() ? "none" : names) + ")",
              "resume from a checkpoint this objective wrote; was the run's objective changed, or "
              "the file edited?");
}

}  // namespace sslx::train
