#include "interop/run_model.h"

#include "architectures/classifier_table.h"
#include "config/toml_io.h"
#include "nn/state_io.h"
#include "train/checkpoint.h"
#include "util/error.h"

namespace sslx::interop {
namespace stdfs = std::filesystem;

RunModel read_run_model(const stdfs::path& source) {
  RunModel run{.checkpoint = train::resolve_checkpoint(source)};
  const stdfs::path model_file = run.checkpoint / "model.pt";
  if (!stdfs::is_regular_file(model_file))
    throw IoError("no model.pt in " + run.checkpoint.string(),
                  "give a run folder, its checkpoints/ folder or one checkpoint");
  // An imported model keeps config.toml beside model.pt; a checkpoint is <run>/checkpoints/step-N.
  for (const stdfs::path& folder : {run.checkpoint, run.checkpoint.parent_path().parent_path()}) {
    if (stdfs::is_regular_file(folder / "config.toml")) {
      run.config_file = folder / "config.toml";
      break;
    }
  }
  if (run.config_file.empty())
    throw IoError("no config.toml for " + run.checkpoint.string(),
                  "the run's config.toml (beside checkpoints/) names the model and tokenizer");
  run.config = config::load_toml_file(run.config_file);
  for (const char* section : {"model", "tokenizer"}) {
    if (run.config.find(section) == nullptr)
      throw IoError(run.config_file.string() + " has no [" + section + "]",
                    "the model and the tokenizer it was trained with are needed");
  }
  run.state = nn::load_state_dict(train::model_file(run.checkpoint));
  return run;
}

std::optional<ModelSpec::SequenceHead> sequence_head(const RunModel& run) {
  if (run.state.count("reward_head.proj.weight") > 0) return ModelSpec::SequenceHead{};
  const auto weight = run.state.find("classifier_head.proj.weight");
  if (weight == run.state.end()) return std::nullopt;
  const std::string file = run.config_file.string();
  const arch::ClassifierTable table = arch::read_classifier_table(run.config, file);
  if (static_cast<std::int64_t>(table.labels.size()) != weight->second.size(0))
    throw IoError(file + ": classifier.labels has " + std::to_string(table.labels.size()) +
                  " labels, but classifier_head.proj.weight in " +
                  (run.checkpoint / "model.pt").string() + " has " +
                  std::to_string(weight->second.size(0)) + " rows");
  return ModelSpec::SequenceHead{.module = "classifier_head",
                                 .labels = table.labels,
                                 .pooling = arch::pooling_from_name(table.pooling),
                                 .pooler = table.pooler};
}

}  // namespace sslx::interop
