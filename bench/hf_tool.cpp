// The sslx side of bench/hf_parity.py, which compares sslx with transformers on a machine that
// has transformers (this program needs only sslx):
//
//   bench_hf_tool logits DIR INPUTS OUT     sslx's logits of the Hugging Face directory DIR (read
//                                            as init_from = "hf:DIR" reads it) on input_ids (and
//                                            decoder_input_ids) of the safetensors file INPUTS,
//                                            written to OUT as "logits"; of a
//                                            ...ForSequenceClassification, its (B, K) logits
//   bench_hf_tool reexport DIR OUT           DIR imported into sslx and exported again as sslx
//                                            writes it (a byte tokenizer sized to the vocabulary
//                                            stands in for the tokenizer, so no tokenizer files)
#include <cstdio>
#include <exception>
#include <string>

#include "architectures/architecture_registry.h"
#include "architectures/heads.h"
#include "data/byte_tokenizer.h"
#include "interop/hf_export.h"
#include "interop/hf_import.h"
#include "interop/tensor_file.h"
#include "nn/state_io.h"
#include "objectives/language_model.h"
#include "util/error.h"

namespace {

using sslx::interop::TensorMap;

// A sequence classifier's logits (B, K): a reward model's scores at the last token (K = 1), or
// the classification head's.
at::Tensor classifier_logits(const sslx::interop::HfDirectory& hf, const TensorMap& state,
                             const at::Tensor& input_ids) {
  const auto backbone = sslx::arch::architecture_registry().create(hf.model_table, hf.vocab_size);
  sslx::nn::load_state(*backbone, sslx::nn::submodule_state(state, "backbone"), hf.path.string());
  backbone->eval();
  const at::Tensor hidden = backbone->forward({.token_ids = input_ids}).hidden_states;
  const std::int64_t E = hidden.size(-1);
  if (hf.head->module == "reward_head") {
    sslx::arch::ScalarHead head(sslx::arch::ScalarHeadOptions{.d_model = E});
    sslx::nn::load_state(*head, sslx::nn::submodule_state(state, "reward_head"), hf.path.string());
    return head->forward(hidden).view({-1, 1});
  }
  sslx::arch::ClassificationHead head(sslx::arch::ClassificationHeadOptions{
      .d_model = E,
      .n_classes = static_cast<std::int64_t>(hf.head->labels.size()),
      .pooling = hf.head->pooling,
      .pooler = hf.head->pooler});
  sslx::nn::load_state(*head, sslx::nn::submodule_state(state, hf.head->module), hf.path.string());
  head->eval();
  return head->forward(hidden);
}

int logits(const std::string& directory, const std::string& inputs_file, const std::string& out) {
  const auto hf = sslx::interop::read_hf_directory(directory);
  const TensorMap state = sslx::interop::read_hf_weights(hf);
  sslx::arch::register_builtin_architectures();
  const TensorMap inputs = sslx::interop::read_tensor_file(inputs_file);
  sslx::arch::ArchitectureInputs batch{.token_ids = inputs.at("input_ids").to(at::kLong)};
  if (const auto it = inputs.find("decoder_input_ids"); it != inputs.end())
    batch.decoder_token_ids = it->second.to(at::kLong);
  const at::NoGradGuard no_grad;
  at::Tensor result;
  if (hf.head) {
    result = classifier_logits(hf, state, batch.token_ids);
  } else {
    sslx::objectives::LanguageModel model(hf.model_table, hf.vocab_size);
    sslx::nn::load_state(*model, state, directory);
    model->eval();
    result = model->logits(batch);
  }
  sslx::interop::write_tensor_file(out, {{"logits", result.contiguous()}});
  return 0;
}

int reexport(const std::string& directory, const std::string& out) {
  const auto hf = sslx::interop::read_hf_directory(directory);
  const TensorMap state = sslx::interop::read_hf_weights(hf);
  constexpr std::int64_t kByteVocabulary = 263;  // 256 bytes and the specials, no sentinel
  if (hf.vocab_size < kByteVocabulary)
    throw sslx::Error(directory + ": vocab_size " + std::to_string(hf.vocab_size) +
                      " is below the byte tokenizer's 263; use a larger vocabulary");
  const sslx::data::ByteTokenizer tokenizer(
      static_cast<std::int32_t>(hf.vocab_size - kByteVocabulary));
  auto spec = sslx::interop::model_spec(hf.model_table, hf.vocab_size);
  spec.head = hf.head;
  sslx::interop::write_hf_directory(out, spec, state, tokenizer, at::kFloat, directory);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "logits" && argc == 5) return logits(argv[2], argv[3], argv[4]);
    if (mode == "reexport" && argc == 4) return reexport(argv[2], argv[3]);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_hf_tool: %s\n", error.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: bench_hf_tool logits DIR INPUTS.safetensors OUT.safetensors\n"
               "       bench_hf_tool reexport DIR OUT_DIR\n");
  return 2;
}
