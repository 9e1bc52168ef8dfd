// An out-of-tree objective plugin: replaced-token detection (ELECTRA's discriminator task) with a
// fixed, non-learned generator. docs/writing-an-objective.md walks through this file.
//
// Data: documents packed with EOS into blocks of sequence_length tokens (no shift: every position
// is its own target). Each non-special token is replaced with probability `rate` by a different
// non-special token, drawn from the training split's unigram distribution ("unigram": a token at
// a uniformly random position of the training blocks) or uniformly over the vocabulary
// ("uniform"). The discriminator (an encoder with a per-position scalar head) predicts for every
// position whether its token was replaced. The loss is the binary cross-entropy summed over all
// positions of the batch; "accuracy" is the fraction of positions classified correctly.
//
// A model that ignores its input can do no better than predicting the replacement fraction q
// everywhere: a loss of H(q) = -q log q - (1 - q) log(1 - q) nats per token.
//
// Use it from a config:
//   plugins = ["path/to/libsslx_objective_rtd.so"]
//   [objective]
//   name = "rtd"
//   rate = 0.15
//   replacement = "unigram"
//
// Dimensions: B batch, L sequence length, E model width.
#include <torch/nn/functional/loss.h>
#include <torch/torch.h>

#include <memory>

#include "architectures/architecture.h"
#include "architectures/architecture_registry.h"
#include "architectures/heads.h"
#include "data/packing.h"
#include "objectives/batch_indices.h"
#include "objectives/objective_registry.h"
#include "objectives/run_checks.h"
#include "objectives/split_blocks.h"
#include "registry/plugin.h"
#include "train/objective.h"
#include "util/error.h"
#include "util/rng.h"

namespace {

using namespace sslx;
namespace F = torch::nn::functional;

constexpr const char* kRngName = "rtd_replacement";
// Draws tried for a replacement that differs from the original token before leaving it as is.
constexpr int kReplacementTries = 16;

// The discriminator: a backbone and one logit per position. Registered names "backbone" and
// "rtd_head" are the checkpoint keys.
class DiscriminatorImpl : public torch::nn::Module {
 public:
  DiscriminatorImpl(const config::Node& model, std::int64_t vocab_size) {
    backbone = register_module(
        "backbone", std::shared_ptr<arch::Architecture>(
                        arch::architecture_registry().create(model, vocab_size).release()));
    head = register_module(
        "rtd_head", arch::ScalarHead(arch::ScalarHeadOptions{.d_model = backbone->options().d_model,
                                                             .per_position = true}));
  }

  // token_ids (B, L) -> logits (B, L) of "this token was replaced"
  at::Tensor forward(const at::Tensor& token_ids) {
    return head(backbone->forward({.token_ids = token_ids}).hidden_states);
  }

  std::shared_ptr<arch::Architecture> backbone;
  arch::ScalarHead head{nullptr};
};
TORCH_MODULE(Discriminator);

class RtdObjective : public train::Objective {
 public:
  RtdObjective(const config::Node& options, const objectives::ObjectiveContext& context)
      : rate_(options.get_float("rate")),
        unigram_(options.get_string("replacement") == "unigram"),
        batch_size_(context.trainer.batch_size),
        sequence_length_(context.trainer.sequence_length),
        seed_(context.seed),
        specials_(context.tokenizer.specials()),
        vocab_size_(context.tokenizer.vocab_size()),
        blocks_(context.corpus, specials_.require_eos(), sequence_length_),
        draws_(blocks_.train().size(), context.seed, kRngName) {
    objectives::require_architecture("rtd", context.model, {"encoder"});
    if (blocks_.train().size() == 0) {
      throw Error("rtd: the training split holds no block of " + std::to_string(sequence_length_) +
                      " tokens",
                  "use more data or a shorter trainer.sequence_length");
    }
    model_ = Discriminator(context.model, vocab_size_);
  }

  std::string name() const override { return "rtd"; }
  std::vector<std::string> metric_names() const override { return {"accuracy"}; }
  torch::nn::Module& model() override { return *model_; }
  double training_flops_per_token() const override {
    return model_->backbone->training_flops_per_token(sequence_length_);
  }

  train::Batch train_batch() override {
    const auto indices = objectives::sampled_indices(draws_.sampler, batch_size_);
    return batch_of(blocks_.train(), indices, draws_.rng);
  }

  // Batch `index` of a split: blocks [index * B, (index + 1) * B) with replacements from a
  // stream of its own, so it is the same batch at every evaluation.
  bool eval_batch(data::Split split, std::int64_t index, train::Batch& batch) override {
    const data::PackedBlocks& blocks = blocks_.of(split);
    const auto indices = objectives::evaluation_indices(index, batch_size_, blocks.size());
    if (indices.empty()) return false;
    RngStream rng(seed_, "rtd_eval/" + data::to_string(split) + "/" + std::to_string(index));
    batch = batch_of(blocks, indices, rng);
    return true;
  }

  train::LossTerms loss(const train::Batch& batch) override {
    const at::Tensor logits = model_->forward(batch.at("input_ids"));  // (B, L)
    const at::Tensor labels = batch.at("labels");                      // (B, L) 0. or 1.
    train::LossTerms terms;
    terms.loss_sum = F::binary_cross_entropy_with_logits(
        logits, labels, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kSum));
    terms.n_targets = labels.numel();
    const at::Tensor correct = (logits > 0) == (labels > 0.5);
    terms.metrics["accuracy"] = {static_cast<double>(correct.sum().item<std::int64_t>()),
                                 static_cast<double>(terms.n_targets)};
    return terms;
  }

  // The sampler position and the replacement stream's state (under kRngName).
  void save_state(train::TrainerState& state) const override { draws_.save(state); }
  void load_state(const train::TrainerState& state) override { draws_.load(state); }

 private:
  // A non-special token other than `original`, or `original` when none was found.
  data::TokenId replacement_for(data::TokenId original, RngStream& rng) const {
    for (int attempt = 0; attempt < kReplacementTries; ++attempt) {
      data::TokenId candidate = 0;
      if (unigram_) {
        const auto block = static_cast<std::int64_t>(
            rng.uniform_below(static_cast<std::uint64_t>(blocks_.train().size())));
        const auto position = rng.uniform_below(static_cast<std::uint64_t>(sequence_length_));
        candidate = blocks_.train().block(block).tokens[position];
      } else {
        candidate =
            static_cast<data::TokenId>(rng.uniform_below(static_cast<std::uint64_t>(vocab_size_)));
      }
      if (candidate != original && !specials_.is_special(candidate)) return candidate;
    }
    return original;
  }

  train::Batch batch_of(const data::PackedBlocks& blocks, const std::vector<std::int64_t>& indices,
                        RngStream& rng) const {
    const auto B = static_cast<std::int64_t>(indices.size());
    const std::int64_t L = sequence_length_;
    std::vector<std::int64_t> originals(B * L), inputs(B * L);
    std::vector<float> labels(B * L);
    for (std::int64_t b = 0; b < B; ++b) {
      const data::PackedBlock block = blocks.block(indices[b]);  // L tokens
      for (std::int64_t t = 0; t < L; ++t) {
        const data::TokenId original = block.tokens[t];
        data::TokenId input = original;
        if (!specials_.is_special(original) && rng.uniform01() < rate_) {
          input = replacement_for(original, rng);
        }
        originals[b * L + t] = original;
        inputs[b * L + t] = input;
        labels[b * L + t] = input != original ? 1.0F : 0.0F;
      }
    }
    train::Batch batch;
    batch.tensors["original_ids"] = torch::tensor(originals, torch::kInt64).reshape({B, L});
    batch.tensors["input_ids"] = torch::tensor(inputs, torch::kInt64).reshape({B, L});
    batch.tensors["labels"] = torch::tensor(labels, torch::kFloat32).reshape({B, L});
    batch.n_tokens = B * L;
    batch.n_targets = B * L;
    return batch;
  }

  double rate_;
  bool unigram_;
  std::int64_t batch_size_;
  std::int64_t sequence_length_;
  std::uint64_t seed_;
  const data::SpecialTokens& specials_;
  std::int64_t vocab_size_;
  Discriminator model_{nullptr};
  objectives::SplitBlocks<data::PackedBlocks> blocks_;
  objectives::TrainingDraws draws_;
};

void register_rtd() {
  using config::Type;
  config::Schema schema;
  schema.add({.key = "rate",
              .type = Type::kFloat,
              .default_value = 0.15,
              .doc = "probability that a non-special token is replaced",
              .min = 0.0,
              .max = 1.0});
  schema.add({.key = "replacement",
              .type = Type::kString,
              .default_value = "unigram",
              .doc = "where replacements come from: the training split's unigram distribution, "
                     "or uniform over the vocabulary",
              .choices = {"unigram", "uniform"}});
  objectives::objective_registry().add(
      "rtd",
      "replaced-token detection (ELECTRA's discriminator, fixed generator) on an encoder "
      "(example plugin)",
      std::move(schema),
      [](const config::Node& options, const objectives::ObjectiveContext& context) {
        return std::make_unique<RtdObjective>(options, context);
      },
      objectives::accepts_architectures("rtd", {"encoder"}));
}

}  // namespace

SSLX_PLUGIN(register_rtd)
