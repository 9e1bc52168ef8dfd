#include "interop/run_model.h"

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

}  // namespace sslx::interop
