#include "cli/generation_model.h"

#include "architectures/architecture_registry.h"
#include "data/data_registry.h"
#include "data/lm_data.h"
#include "data/sentencepiece_tokenizer.h"
#include "interop/hf_import.h"
#include "interop/run_model.h"
#include "nn/state_io.h"
#include "util/error.h"

namespace sslx::cli {
namespace stdfs = std::filesystem;
namespace {

GenerationModel from_hf_directory(const stdfs::path& path) {
  const interop::HfDirectory directory = interop::read_hf_directory(path);
  interop::require_language_model(directory, "generation");
  const auto tokenizer_file = interop::hf_tokenizer_file(directory);
  if (!tokenizer_file)
    throw IoError(path.string() + " has no tokenizer.model",
                  "sslx reads SentencePiece tokenizers (tokenizer.model); other HF tokenizers "
                  "(tokenizer.json of byte-level BPE) are not supported");
  GenerationModel result;
  result.tokenizer = std::make_unique<data::SentencePieceTokenizer>(
      tokenizer_file->model, static_cast<std::int32_t>(tokenizer_file->sentinels));
  if (result.tokenizer->vocab_size() != directory.vocab_size)
    throw IoError(path.string() + ": tokenizer.model with " +
                  std::to_string(tokenizer_file->sentinels) + " extra ids has " +
                  std::to_string(result.tokenizer->vocab_size()) +
                  " tokens, config.json's vocab_size is " + std::to_string(directory.vocab_size));
  result.model = objectives::LanguageModel(directory.model_table, directory.vocab_size);
  nn::load_state(*result.model, interop::read_hf_weights(directory), path.string());
  result.max_positions = directory.model_table.get_int("max_positions");
  result.description = path.string() + " (" + directory.family->hf_class() + ")";
  return result;
}

GenerationModel from_run(const stdfs::path& source) {
  const interop::RunModel run = interop::read_run_model(source);
  data::register_builtin_data();
  GenerationModel result;
  result.tokenizer = data::build_tokenizer(run.config);
  const config::Node& model = run.config.at_path("model");
  result.model = objectives::LanguageModel(model, result.tokenizer->vocab_size());
  nn::load_state(*result.model, run.state, (run.checkpoint / "model.pt").string());
  result.max_positions = model.get_int("max_positions");
  result.description = run.checkpoint.string() + " (" + model.get_string("arch") + ")";
  return result;
}

}  // namespace

GenerationModel load_generation_model(const stdfs::path& source) {
  arch::register_builtin_architectures();
  GenerationModel result =
      stdfs::is_regular_file(source / "config.json") ? from_hf_directory(source) : from_run(source);
  result.kind = result.model->backbone->kind();
  if (result.kind == arch::ArchitectureKind::encoder)
    throw Error(result.description +
                    " is an encoder: it fills in masked tokens and does not "
                    "generate text left to right",
                "generate from a decoder or an encoder_decoder");
  result.model->eval();
  return result;
}

}  // namespace sslx::cli
