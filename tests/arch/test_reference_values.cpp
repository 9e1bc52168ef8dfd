// Tiny encoder (BERT-like), decoder (LLaMA-like: rotary, RMSNorm, SwiGLU, grouped kv heads) and
// encoder-decoder (T5-like) against an independent float64 implementation,
// tests/python/arch_reference.py, whose output is checked in as arch_reference.txt. Weights are
// set by formula from each parameter's rank among the sorted names, in both implementations.
// Dimensions: B batch, T positions, E model width.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "architectures/decoder.h"
#include "architectures/encoder.h"
#include "architectures/encoder_decoder.h"

using namespace sslx;
using namespace sslx::arch;

namespace {

constexpr std::int64_t V = 11, B = 2, T = 5;

struct Reference {
  std::map<std::string, std::vector<std::int64_t>> shapes;
  at::Tensor hidden;
};

std::map<std::string, Reference> read_references() {
  std::ifstream file(SSLX_SOURCE_DIR "/tests/python/arch_reference.txt");
  REQUIRE(file.good());
  std::map<std::string, Reference> result;
  Reference* current = nullptr;
  for (std::string line; std::getline(file, line);) {
    std::istringstream in(line);
    std::string word;
    in >> word;
    if (word == "model") {
      in >> word;
      current = &result[word];
    } else if (word == "param") {
      in >> word;
      auto& shape = current->shapes[word];
      for (std::int64_t size = 0; in >> size;)
        shape.push_back(size);
    } else if (word == "hidden") {
      std::vector<std::int64_t> shape;
      for (std::int64_t size = 0; in >> size;)
        shape.push_back(size);
      std::getline(file, line);
      std::istringstream values(line);
      std::vector<double> data;
      for (double value = 0; values >> value;)
        data.push_back(value);
      current->hidden = at::tensor(data, at::kDouble).view(shape);
    }
  }
  return result;
}

// Every parameter by formula, as the Python script sets it; the key set and shapes must match.
void set_weights(Architecture& model, const Reference& reference) {
  std::map<std::string, at::Tensor> parameters;
  for (const auto& item : model.named_parameters())
    parameters.emplace(item.key(), item.value());
  REQUIRE(parameters.size() == reference.shapes.size());
  const at::NoGradGuard no_grad;
  double rank = 0;
  for (const auto& [name, tensor] : parameters) {
    INFO(name);
    REQUIRE(reference.shapes.count(name) == 1);
    REQUIRE(tensor.sizes() == at::IntArrayRef(reference.shapes.at(name)));
    const at::Tensor i = at::arange(tensor.numel(), at::kDouble);
    tensor.copy_((0.3 * at::sin(0.9 * i + 0.5 * rank + 0.1)).view(tensor.sizes()));
    rank += 1;
  }
}

// (b, t) -> (3 b + 5 t + shift) mod V, as the script's tokens().
at::Tensor tokens(std::int64_t length, std::int64_t shift) {
  const at::Tensor b = at::arange(B).unsqueeze(1), t = at::arange(length).unsqueeze(0);
  return (3 * b + 5 * t + shift).remainder(V);
}

at::Tensor key_valid() {
  at::Tensor valid = at::ones({B, T}, at::kBool);
  valid[1].narrow(0, T - 2, 2).fill_(false);
  return valid;
}

ArchitectureOptions common() {
  return {.vocab_size = V,
          .d_model = 8,
          .n_layers = 2,
          .n_heads = 2,
          .n_kv_heads = 1,
          .d_ff = 16,
          .max_positions = 16,
          .relative_buckets = 8,
          .relative_max_distance = 16};
}

template <class Model>
at::Tensor run(const ArchitectureOptions& options, const Reference& reference,
               const ArchitectureInputs& inputs) {
  Model model(options);
  model.to(at::kDouble);
  model.eval();
  set_weights(model, reference);
  return model.forward(inputs).hidden_states;
}

constexpr double tolerance = 1e-8;

}  // namespace

TEST_CASE("tiny encoder, decoder and encoder-decoder match the float64 Python reference") {
  const auto references = read_references();
  REQUIRE(references.size() == 3);
  SECTION("encoder: BERT-like, post-norm, token types, padding") {
    ArchitectureOptions options = common();
    options.activation = nn::Activation::gelu;
    options.norm_eps = 1e-12;
    options.norm_position = nn::NormPosition::post;
    options.n_token_types = 2;
    const at::Tensor types = at::tensor({0L, 0L, 1L, 1L, 1L, 0L, 1L, 1L, 1L, 1L}).view({B, T});
    const at::Tensor hidden = run<Encoder>(
        options, references.at("encoder"),
        {.token_ids = tokens(T, 1), .key_valid = key_valid(), .token_type_ids = types});
    const at::Tensor expected = references.at("encoder").hidden;
    // Padding positions differ in neither: compare all, real and padded.
    CHECK((hidden - expected).abs().max().item<double>() < tolerance);
  }
  SECTION("decoder: rotary, RMSNorm, SwiGLU, grouped kv heads, no biases") {
    ArchitectureOptions options = common();
    options.activation = nn::Activation::swiglu;
    options.norm = nn::NormKind::rms_norm;
    options.positions = PositionKind::rotary;
    options.bias = false;
    const at::Tensor hidden =
        run<Decoder>(options, references.at("decoder"), {.token_ids = tokens(T, 2)});
    CHECK((hidden - references.at("decoder").hidden).abs().max().item<double>() < tolerance);
  }
  SECTION("encoder_decoder: T5-like, relative bias, unscaled scores, encoder padding") {
    ArchitectureOptions options = common();
    options.activation = nn::Activation::relu;
    options.norm = nn::NormKind::rms_norm;
    options.positions = PositionKind::relative;
    options.bias = false;
    options.scale_attention = false;
    const at::Tensor hidden = run<EncoderDecoder>(options, references.at("encoder_decoder"),
                                                  {.token_ids = tokens(T, 3),
                                                   .key_valid = key_valid(),
                                                   .decoder_token_ids = tokens(T - 1, 4)});
    const at::Tensor expected = references.at("encoder_decoder").hidden;
    CHECK((hidden - expected).abs().max().item<double>() < tolerance);
    // Negative control: the same model with scaled scores is far from the reference.
    options.scale_attention = true;
    const at::Tensor scaled = run<EncoderDecoder>(options, references.at("encoder_decoder"),
                                                  {.token_ids = tokens(T, 3),
                                                   .key_valid = key_valid(),
                                                   .decoder_token_ids = tokens(T - 1, 4)});
    CHECK((scaled - expected).abs().max().item<double>() > 1e-5);
  }
}
