// Tiny encoder (BERT-like), decoders (LLaMA-like: rotary, RMSNorm, SwiGLU, grouped kv heads;
// GPT-2-like: learned positions, LayerNorm, GELU, biases) and encoder-decoder (T5-like) against an
// independent float64 implementation, tests/python/arch_reference.py, whose output is checked in
// as arch_reference.txt: hidden states, the gradient of every parameter for a fixed loss, and 10
// AdamW steps (the losses and every parameter after them) with sslx's weight-decay policy and
// clipping. Weights are set by formula from each parameter's rank among the sorted names, in both
// implementations. Dimensions: B batch, T positions, E model width.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>
#include <torch/nn/utils/clip_grad.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "architectures/decoder.h"
#include "architectures/encoder.h"
#include "architectures/encoder_decoder.h"
#include "train/optimizer.h"

using namespace sslx;
using namespace sslx::arch;

// A namespace named after the file, around its test cases too: a unity build compiles it in
// one translation unit with other test files, whose helpers may share these names.
namespace reference_values_test {

constexpr std::int64_t V = 11, B = 2, T = 5, E = 8;

struct Reference {
  std::map<std::string, std::vector<std::int64_t>> shapes;
  at::Tensor hidden;
  double loss = 0;
  std::map<std::string, at::Tensor> grads, trained;  // by parameter name
  std::vector<double> trajectory;                    // the loss before each AdamW step
};

std::vector<double> numbers(std::istream& in) {
  std::vector<double> data;
  for (double value = 0; in >> value;)
    data.push_back(value);
  return data;
}

// The line after `file`'s current one, as float64 values shaped like parameter `name`.
at::Tensor values_line(std::istream& file, const std::vector<std::int64_t>& shape) {
  std::string line;
  std::getline(file, line);
  std::istringstream in(line);
  return at::tensor(numbers(in), at::kDouble).view(shape);
}

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
      current->hidden = values_line(file, shape);
    } else if (word == "loss") {
      in >> current->loss;
    } else if (word == "grad" || word == "trained") {
      in >> line;
      (word == "grad" ? current->grads : current->trained)[line] =
          values_line(file, current->shapes.at(line));
    } else if (word == "trajectory") {
      current->trajectory = numbers(in);
    }
  }
  return result;
}

std::map<std::string, at::Tensor> parameters_of(const torch::nn::Module& model) {
  std::map<std::string, at::Tensor> parameters;
  for (const auto& item : model.named_parameters())
    parameters.emplace(item.key(), item.value());
  return parameters;
}

// Every parameter by formula, as the Python script sets it; the key set and shapes must match.
void set_weights(Architecture& model, const Reference& reference) {
  const auto parameters = parameters_of(model);
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
          .d_model = E,
          .n_layers = 2,
          .n_heads = 2,
          .n_kv_heads = 1,
          .d_ff = 16,
          .max_positions = 16,
          .relative_buckets = 8,
          .relative_max_distance = 16};
}

// One of the script's models: the backbone with its weights set, its fixed inputs, and the
// positions the loss counts.
struct Case {
  std::shared_ptr<Architecture> model;
  ArchitectureInputs inputs;
  at::Tensor counted;  // (B, T') bool

  at::Tensor hidden() { return model->forward(inputs).hidden_states; }
};

ArchitectureOptions encoder_options() {
  ArchitectureOptions options = common();
  options.activation = nn::Activation::gelu;
  options.norm_eps = 1e-12;
  options.norm_position = nn::NormPosition::post;
  options.n_token_types = 2;
  return options;
}

ArchitectureOptions llama_options() {
  ArchitectureOptions options = common();
  options.activation = nn::Activation::swiglu;
  options.norm = nn::NormKind::rms_norm;
  options.positions = PositionKind::rotary;
  options.bias = false;
  return options;
}

ArchitectureOptions gpt2_options() {
  ArchitectureOptions options = common();
  options.activation = nn::Activation::gelu;
  options.norm_eps = 1e-5;
  return options;
}

ArchitectureOptions t5_options() {
  ArchitectureOptions options = common();
  options.activation = nn::Activation::relu;
  options.norm = nn::NormKind::rms_norm;
  options.positions = PositionKind::relative;
  options.bias = false;
  options.scale_attention = false;
  return options;
}

template <class Model>
Case make_case(const ArchitectureOptions& options, const Reference& reference,
               ArchitectureInputs inputs, at::Tensor counted) {
  auto model = std::make_shared<Model>(options);
  model->to(at::kDouble);
  set_weights(*model, reference);
  return {model, std::move(inputs), std::move(counted)};
}

// The script's models by name, built with `options` (the script's unless a test changes them).
Case make_case(const std::string& name, const Reference& reference,
               const ArchitectureOptions& options) {
  const at::Tensor all = at::ones({B, T}, at::kBool);
  if (name == "encoder") {
    const at::Tensor types = at::tensor({0L, 0L, 1L, 1L, 1L, 0L, 1L, 1L, 1L, 1L}).view({B, T});
    return make_case<Encoder>(
        options, reference,
        {.token_ids = tokens(T, 1), .key_valid = key_valid(), .token_type_ids = types},
        key_valid());
  }
  if (name == "decoder")
    return make_case<Decoder>(options, reference, {.token_ids = tokens(T, 2)}, all);
  if (name == "decoder_gpt2")
    return make_case<Decoder>(options, reference, {.token_ids = tokens(T, 5)}, all);
  return make_case<EncoderDecoder>(
      options, reference,
      {.token_ids = tokens(T, 3), .key_valid = key_valid(), .decoder_token_ids = tokens(T - 1, 4)},
      at::ones({B, T - 1}, at::kBool));
}

const std::map<std::string, ArchitectureOptions>& script_options() {
  static const std::map<std::string, ArchitectureOptions> options = {
      {"encoder", encoder_options()},
      {"decoder", llama_options()},
      {"decoder_gpt2", gpt2_options()},
      {"encoder_decoder", t5_options()}};
  return options;
}

// The script's loss: mean cross-entropy of hidden @ W^T, W (V, E) = 0.3 cos(0.7 i + 0.2)
// frozen, against labels (3 b + 5 t + 7) mod V at the counted positions.
at::Tensor loss_of(const at::Tensor& hidden, const at::Tensor& counted) {
  const at::Tensor head = (0.3 * at::cos(0.7 * at::arange(V * E, at::kDouble) + 0.2)).view({V, E});
  const at::Tensor log_probs = at::log_softmax(at::matmul(hidden, head.t()), -1);
  const at::Tensor labels = tokens(hidden.size(1), 7);
  const at::Tensor nll = -log_probs.gather(-1, labels.unsqueeze(-1)).squeeze(-1);
  const at::Tensor weights = counted.to(at::kDouble);
  return (nll * weights).sum() / weights.sum();
}

// The script's training: AdamW (lr 1e-2, betas 0.9 / 0.95, eps 1e-8, weight decay 0.1 by sslx's
// policy), gradients clipped to norm 1, as the trainer clips them. The losses before each step.
std::vector<double> train_steps(Case& c, const train::OptimizerOptions& options, int steps) {
  auto optimizer = train::make_adamw(train::split_for_weight_decay(*c.model, options), options);
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    optimizer->zero_grad();
    const at::Tensor loss = loss_of(c.hidden(), c.counted);
    losses.push_back(loss.item<double>());
    loss.backward();
    torch::nn::utils::clip_grad_norm_(c.model->parameters(), 1.0);
    optimizer->step();
  }
  return losses;
}

train::OptimizerOptions script_optimizer() {
  return {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1};
}

double max_abs_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// Float64 throughout; sums of a few hundred terms of size ~1 round to ~1e-14.
constexpr double tolerance = 1e-12;

TEST_CASE("tiny encoder, decoders and encoder-decoder match the float64 Python reference") {
  const auto references = read_references();
  REQUIRE(references.size() == 4);
  for (const auto& [name, options] : script_options()) {
    INFO(name);
    Case c = make_case(name, references.at(name), options);
    c.model->eval();
    // Padding positions differ in neither: compare all, real and padded.
    CHECK(max_abs_difference(c.hidden(), references.at(name).hidden) < tolerance);
  }
  // Negative control: T5 with scaled scores is far from the reference.
  ArchitectureOptions scaled = t5_options();
  scaled.scale_attention = true;
  Case c = make_case("encoder_decoder", references.at("encoder_decoder"), scaled);
  CHECK(max_abs_difference(c.hidden(), references.at("encoder_decoder").hidden) > 1e-5);
}

TEST_CASE("the gradient of every parameter matches the float64 Python reference") {
  const auto references = read_references();
  for (const auto& [name, options] : script_options()) {
    const Reference& reference = references.at(name);
    Case c = make_case(name, reference, options);
    const at::Tensor loss = loss_of(c.hidden(), c.counted);
    CHECK(std::abs(loss.item<double>() - reference.loss) < tolerance);
    loss.backward();
    const auto parameters = parameters_of(*c.model);
    REQUIRE(reference.grads.size() == parameters.size());
    for (const auto& [parameter, value] : parameters) {
      INFO(name << " " << parameter);
      REQUIRE(value.grad().defined());
      CHECK(max_abs_difference(value.grad(), reference.grads.at(parameter)) < tolerance);
    }
  }
}

TEST_CASE("10 AdamW steps follow the float64 Python reference's losses and parameters") {
  const auto references = read_references();
  for (const auto& [name, options] : script_options()) {
    const Reference& reference = references.at(name);
    Case c = make_case(name, reference, options);
    const std::vector<double> losses = train_steps(c, script_optimizer(), 10);
    REQUIRE(losses.size() == reference.trajectory.size());
    for (std::size_t step = 0; step < losses.size(); ++step) {
      INFO(name << " step " << step);
      CHECK(std::abs(losses[step] - reference.trajectory[step]) < 1e-10);
    }
    // The loss fell: the steps are not a no-op that the comparison could miss.
    CHECK(losses.back() < losses.front() - 0.02);
    for (const auto& [parameter, value] : parameters_of(*c.model)) {
      INFO(name << " " << parameter);
      CHECK(max_abs_difference(value, reference.trained.at(parameter)) < 1e-10);
    }
  }
}

TEST_CASE("negative control: decaying the embedding tables leaves the reference's path") {
  const Reference reference = read_references().at("decoder_gpt2");
  Case c = make_case("decoder_gpt2", reference, gpt2_options());
  train::OptimizerOptions decayed = script_optimizer();
  decayed.decay_embeddings = true;
  train_steps(c, decayed, 10);
  for (const std::string table : {"embeddings.tokens.weight", "embeddings.positions.weight"}) {
    INFO(table);
    CHECK(max_abs_difference(parameters_of(*c.model).at(table), reference.trained.at(table)) >
          1e-5);
  }
}

}  // namespace reference_values_test
