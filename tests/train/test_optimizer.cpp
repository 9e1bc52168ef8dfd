#include "nn/torch_catch.h"

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "nn/learned_positions.h"
#include "nn/relative_position_bias.h"
#include "train/optimizer.h"

using namespace sslx;

namespace {
// An embedding, a linear layer with bias, a norm and a tied output (the embedding again).
struct TinyImpl : torch::nn::Module {
  TinyImpl() {
    embed = register_module("embed", torch::nn::Embedding(10, 4));
    proj = register_module("proj", torch::nn::Linear(4, 4));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({4})));
    register_parameter("tied_output", embed->weight);  // the same tensor under a second name
  }
  torch::nn::Embedding embed{nullptr};
  torch::nn::Linear proj{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(Tiny);
}  // namespace

TEST_CASE("weight decay applies to matrices only, unless configured - tied weights counted once") {
  Tiny model;
  auto groups = train::split_for_weight_decay(*model, {});
  CHECK(groups.decay_names == std::vector<std::string>{"proj.weight"});
  // The embedding (once, though registered twice), the bias and the norm's weight and bias.
  CHECK(groups.no_decay_names.size() == 4);
  CHECK(groups.no_decay_elements == 40 + 4 + 4 + 4);

  groups = train::split_for_weight_decay(*model, {.decay_embeddings = true});
  CHECK(groups.decay.size() == 2);
  groups = train::split_for_weight_decay(*model, {.decay_biases_and_norms = true});
  CHECK(groups.decay.size() == 4);
  CHECK_THAT(train::describe(groups, {.weight_decay = 0.1}),
             Catch::Contains("weight decay 0.1 on 4 tensors"));
}

TEST_CASE("learned positions and relative-position buckets are embedding tables, not matrices") {
  const auto model = std::make_shared<torch::nn::Module>();
  model->register_module("positions", nn::LearnedPositions(nn::LearnedPositionsOptions{
                                          .max_positions = 8, .d_model = 4}));
  model->register_module("relative_bias",
                         nn::RelativePositionBias(nn::RelativePositionBiasOptions{.n_heads = 2}));
  model->register_module("proj", torch::nn::Linear(4, 4));
  auto groups = train::split_for_weight_decay(*model, {});
  CHECK(groups.decay_names == std::vector<std::string>{"proj.weight"});
  CHECK(groups.no_decay_names ==
        std::vector<std::string>{"positions.weight", "relative_bias.weight", "proj.bias"});
  groups = train::split_for_weight_decay(*model, {.decay_embeddings = true});
  CHECK(groups.decay_names ==
        std::vector<std::string>{"positions.weight", "relative_bias.weight", "proj.weight"});
}

TEST_CASE("AdamW groups: decoupled decay only where the policy says - lr is set per step") {
  Tiny model;
  const train::OptimizerOptions options{.lr = 0.1, .weight_decay = 0.5};
  const auto groups = train::split_for_weight_decay(*model, options);
  auto optimizer = train::make_adamw(groups, options);
  const auto proj_before = model->proj->weight.detach().clone();
  const auto bias_before = model->proj->bias.detach().clone();
  // Zero gradients: Adam's update is 0, so only decoupled weight decay moves parameters.
  for (auto& p : model->parameters())
    p.mutable_grad() = torch::zeros_like(p);
  train::set_learning_rate(*optimizer, 0.1);
  optimizer->step();
  CHECK(torch::allclose(model->proj->weight, proj_before * (1 - 0.1 * 0.5)));
  CHECK(torch::equal(model->proj->bias, bias_before));
}
