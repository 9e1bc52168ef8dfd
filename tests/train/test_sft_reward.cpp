// The sft and reward_model objectives: the reward loss against reference values, the prompt
// boundary and EOS of SFT examples, dropped examples, init_from, and training through the Trainer.
#include "nn/torch_catch.h"

#include <torch/torch.h>

#include "data/byte_tokenizer.h"
#include "objectives/language_model.h"
#include "objectives/mlm_masking.h"
#include "objectives/reward_model.h"
#include "objectives/sft.h"
#include "support.h"
#include "training_fixture.h"

using namespace sslx;

namespace {

const std::string kData =
    "[data]\nsource = \"markov\"\ndocuments = 20\ndocument_length = 16\nstates = 8\n";
const std::string kSftFile = SSLX_SOURCE_DIR "/tests/data/sft_prompt_completion.jsonl";
const std::string kPairsFile = SSLX_SOURCE_DIR "/tests/data/preferences.jsonl";

std::string sft_config(const std::string& extra = "") {
  return kData + "[objective]\nname = \"sft\"\ntrain_files = [\"" + kSftFile +
         "\"]\nvalidation_files = [\"" + kSftFile + "\"]\n" + extra +
         "[trainer]\nbatch_size = 4\nsequence_length = 40\n";
}

std::string reward_config(const std::string& extra = "") {
  return kData + "[objective]\nname = \"reward_model\"\ntrain_files = [\"" + kPairsFile +
         "\"]\nvalidation_files = [\"" + kPairsFile + "\"]\n" + extra +
         "[trainer]\nbatch_size = 5\nsequence_length = 64\n";
}

double mean_loss(const train::LossTerms& terms) {
  return terms.loss_sum.item<double>() / static_cast<double>(terms.n_targets);
}

double value(const train::LossTerms& terms, const std::string& metric) {
  return terms.metrics.at(metric).sum / terms.metrics.at(metric).count;
}

}  // namespace

TEST_CASE("reward loss: r_c = [1, 0], r_r = [0, 1] gives 0.81326 and accuracy 0.5") {
  // Reference values in float64: log1p(exp(-1)) = 0.3132617, log1p(exp(1)) = 1.3132617.
  const auto chosen = torch::tensor({1.0, 0.0}), rejected = torch::tensor({0.0, 1.0});
  const auto terms = objectives::reward_pair_loss(chosen, rejected, torch::zeros({2}), 0.0);
  CHECK(terms.n_targets == 2);
  CHECK(mean_loss(terms) == Approx(0.8132617).epsilon(1e-6));
  CHECK(value(terms, "accuracy") == 0.5);
  CHECK(value(terms, "margin") == 0.0);
  // A tie counts as wrong (strict), a per-pair margin shifts the difference, and the centring
  // term adds coef * mean((r_c + r_r)^2) = 0.1 * (1 + 1) / 2.
  const auto tie = objectives::reward_pair_loss(torch::tensor({0.5}), torch::tensor({0.5}),
                                                torch::zeros({1}), 0.0);
  CHECK(value(tie, "accuracy") == 0.0);
  const auto with_margin =
      objectives::reward_pair_loss(chosen, rejected, torch::tensor({1.0, 0.0}), 0.0);
  CHECK(mean_loss(with_margin) == Approx((0.6931472 + 1.3132617) / 2).epsilon(1e-6));
  const auto centred = objectives::reward_pair_loss(chosen, rejected, torch::zeros({2}), 0.1);
  CHECK(mean_loss(centred) == Approx(0.8132617 + 0.1).epsilon(1e-6));
}

TEST_CASE(
    "reward_model: swapping chosen and rejected flips the margin, and long pairs are dropped") {
  test::TempDir dir;
  test::TrainingFixture fixture(dir, reward_config(), "reward");
  auto& objective = dynamic_cast<objectives::RewardModelObjective&>(*fixture.objective);
  // The last pair is longer than sequence_length = 64: dropped and counted, not truncated.
  CHECK(objective.train_counts().kept == 5);
  CHECK(objective.train_counts().dropped == 1);
  CHECK(objective.metric_names() == std::vector<std::string>{"accuracy", "margin"});

  train::Batch batch;
  REQUIRE(objective.eval_batch(data::Split::kValidation, 0, batch));
  REQUIRE(batch.n_targets == 5);
  torch::NoGradGuard no_grad;
  const auto terms = objective.loss(batch);
  train::Batch swapped = batch;
  for (const auto* name : {"input_ids", "key_valid"}) {
    const at::Tensor rows = batch.at(name);
    swapped.tensors[name] = torch::cat({rows.slice(0, 5, 10), rows.slice(0, 0, 5)});
  }
  const auto swapped_terms = objective.loss(swapped);
  const double margin = value(terms, "margin");
  INFO("margin " << margin);
  CHECK(std::abs(margin) > 1e-6);
  CHECK(value(swapped_terms, "margin") == Approx(-margin).epsilon(1e-5));
  CHECK(value(terms, "accuracy") + value(swapped_terms, "accuracy") == Approx(1.0));
  // The reward is read at each row's last valid token: padding after it changes nothing.
  train::Batch padded = batch;
  padded.tensors["input_ids"] =
      torch::cat({batch.at("input_ids"), torch::full({10, 3}, 7, torch::kInt64)}, 1);
  padded.tensors["key_valid"] =
      torch::cat({batch.at("key_valid"), torch::zeros({10, 3}, torch::kBool)}, 1);
  CHECK(value(objective.loss(padded), "margin") == Approx(margin).epsilon(1e-5));
}

TEST_CASE("SFT examples: EOS appended to each trainable run, prompt labels ignored") {
  const data::ByteTokenizer tokenizer;
  const data::TokenId eos = tokenizer.specials().require_eos();
  const auto example = objectives::tokenize_segments({{"Q:", false}, {" 4", true}}, tokenizer, eos);
  REQUIRE(example.tokens.size() == 5);
  CHECK(example.tokens.back() == eos);
  CHECK(example.trainable == std::vector<bool>{false, false, true, true, true});

  // Chat: every assistant turn (content and suffix) is trainable and ends with EOS.
  const data::Conversation conversation{
      .messages = {{"user", "2+2?"}, {"assistant", "4"}, {"user", "3+3?"}, {"assistant", "6"}}};
  const auto chat =
      objectives::tokenize_segments(data::ChatTemplate{}.render(conversation), tokenizer, eos);
  std::vector<data::TokenId> trained;
  for (std::size_t i = 0; i < chat.tokens.size(); ++i)
    if (chat.trainable[i]) trained.push_back(chat.tokens[i]);
  CHECK(tokenizer.decode(trained) == "4\n</s>6\n</s>");

  // The shift: label t is token t + 1 where that token is trainable.
  objectives::SftCounts counts;
  const auto sequence = objectives::sft_sequence(example, 8, counts);
  REQUIRE(sequence);
  CHECK(sequence->inputs ==
        std::vector<data::TokenId>(example.tokens.begin(), example.tokens.end() - 1));
  CHECK(sequence->labels ==
        std::vector<data::TokenId>{objectives::kIgnore, example.tokens[2], example.tokens[3], eos});
  // Truncated to 2 inputs: one completion label left, counted as truncated.
  CHECK(objectives::sft_sequence(example, 2, counts)->labels.back() == example.tokens[2]);
  // Truncated to 1 input: only the prompt's label is left, so the example is dropped.
  CHECK_FALSE(objectives::sft_sequence(example, 1, counts));
  CHECK(counts.kept == 2);
  CHECK(counts.truncated == 1);
  CHECK(counts.dropped == 1);
}

TEST_CASE("SFT: prompt positions receive no gradient, completion positions do") {
  test::TempDir dir;
  test::TrainingFixture fixture(dir, sft_config(), "sft");
  auto& objective = dynamic_cast<objectives::SftObjective&>(*fixture.objective);
  // The long-prompt example leaves no completion token within 40 inputs: dropped and counted.
  CHECK(objective.train_counts().kept == 3);
  CHECK(objective.train_counts().dropped == 1);

  train::Batch batch;
  REQUIRE(objective.eval_batch(data::Split::kTrain, 0, batch));
  auto& model = dynamic_cast<objectives::LanguageModelImpl&>(objective.model());
  const auto gradient_of_logits = [&](const at::Tensor& labels) {
    const at::Tensor logits =
        model.logits({.token_ids = batch.at("input_ids"), .key_valid = batch.at("key_valid")});
    logits.retain_grad();
    objectives::next_token_loss(logits, labels).loss_sum.backward();
    return logits.grad().abs().sum(-1);  // (B, T)
  };
  const at::Tensor labels = batch.at("labels");
  const at::Tensor gradient = gradient_of_logits(labels);
  // Row 0 is "Q: 2+2?\nA:" + " 4" + EOS: 10 prompt tokens, so inputs 0..8 predict prompt tokens.
  const std::int64_t prompt = 10;
  CHECK((labels[0].slice(0, 0, prompt - 1) == objectives::kIgnore).all().item<bool>());
  CHECK(gradient[0].slice(0, 0, prompt - 1).abs().max().item<double>() == 0.0);
  CHECK(gradient[0][prompt - 1].item<double>() > 0.0);  // predicts " " of " 4"
  CHECK(gradient[0][prompt + 1].item<double>() > 0.0);  // predicts EOS
  CHECK(labels[0][prompt + 1].item<std::int64_t>() == 2);
  // Padding (by length) gets no gradient either.
  const auto lengths = batch.at("key_valid").sum(1);
  CHECK(gradient[0].slice(0, lengths[0].item<std::int64_t>()).abs().max().item<double>() == 0.0);
  // The objective's loss is this loss.
  model.zero_grad();
  const auto terms = objective.loss(batch);
  CHECK(terms.n_targets == batch.n_targets);
  CHECK(terms.n_targets == (labels != objectives::kIgnore).sum().item<std::int64_t>());

  // Negative control: with the prompt's own next tokens as labels, the prompt gets gradient.
  model.zero_grad();
  at::Tensor full_labels = labels.clone();
  full_labels[0].slice(0, 0, prompt - 1).copy_(batch.at("input_ids")[0].slice(0, 1, prompt));
  CHECK(gradient_of_logits(full_labels)[0].slice(0, 0, prompt - 1).min().item<double>() > 0.0);
}

TEST_CASE("SFT packing: rows of several examples give the loss of the examples one per row") {
  test::TempDir dir;
  // Rows of 48 inputs: examples of 12, 30 and 27 inputs fill two rows.
  const auto rows_of_48 = [](std::string toml) {
    return toml.replace(toml.find("sequence_length = 40"), 20, "sequence_length = 48");
  };
  test::TrainingFixture padded(dir, rows_of_48(sft_config()), "sft_padded");
  test::TrainingFixture packed(dir, rows_of_48(sft_config("packing = true\n")), "sft_packed");
  objectives::copy_state(padded.objective->model(), packed.objective->model());
  auto& objective = dynamic_cast<objectives::SftObjective&>(*packed.objective);
  CHECK(objective.train_counts().kept == 3);
  CHECK(objective.train_counts().rows == 2);

  train::Batch one_per_row, rows;
  REQUIRE(padded.objective->eval_batch(data::Split::kTrain, 0, one_per_row));
  REQUIRE(packed.objective->eval_batch(data::Split::kTrain, 0, rows));
  CHECK(one_per_row.at("input_ids").size(0) == 3);
  CHECK(rows.at("input_ids").size(0) == 2);
  CHECK(rows.at("position_ids")[0][12].item<std::int64_t>() == 0);  // the second example starts
  CHECK(rows.n_targets == one_per_row.n_targets);
  CHECK(rows.n_tokens == one_per_row.n_tokens);

  torch::NoGradGuard no_grad;
  const auto expected = padded.objective->loss(one_per_row);
  const auto terms = packed.objective->loss(rows);
  CHECK(terms.n_targets == expected.n_targets);
  // float32 sums of ~60 terms.
  CHECK(terms.loss_sum.item<double>() == Approx(expected.loss_sum.item<double>()).epsilon(1e-5));
  CHECK(value(terms, "accuracy") == value(expected, "accuracy"));

  // Negative control: the same rows without segments and restarted positions let the second
  // example attend to the first, and its loss changes.
  train::Batch leaking = rows;
  leaking.tensors.erase("segment_ids");
  leaking.tensors.erase("position_ids");
  const double leaked = packed.objective->loss(leaking).loss_sum.item<double>();
  CHECK(std::abs(leaked - expected.loss_sum.item<double>()) > 1e-3);
}

TEST_CASE("SFT trains through the Trainer and its validation loss falls") {
  test::TempDir dir;
  test::TrainingFixture fixture(
      dir,
      sft_config("[schedule]\nname = \"constant\"\nlr = 0.003\nwarmup_steps = 0\n") +
          "max_steps = 40\neval_every = 0\neval_batches = 1\n",
      "sft_train");
  train::Batch batch;
  REQUIRE(fixture.objective->eval_batch(data::Split::kValidation, 0, batch));
  const double before = [&] {
    torch::NoGradGuard no_grad;
    return mean_loss(fixture.objective->loss(batch));
  }();
  fixture.trainer->run();
  const log::RunLogReader reader(fixture.paths.log);
  const double after = reader.read("val", "loss").values.back();
  INFO("validation loss " << before << " -> " << after);
  CHECK(after < before - 1.0);
}

TEST_CASE("init_from loads a pretraining checkpoint strictly into sft and reward_model") {
  test::TempDir dir;
  test::TrainingFixture pretraining(
      dir, kData + "[trainer]\nmax_steps = 1\nbatch_size = 2\nsequence_length = 8\n", "clm");
  pretraining.trainer->run();
  const auto checkpoint = pretraining.paths.checkpoints / "step-00000001";
  const auto pretrained = pretraining.parameters();
  const auto& clm_model = pretraining.objective->model();

  test::TrainingFixture sft(dir, sft_config("init_from = \"" + checkpoint.string() + "\"\n"),
                            "sft_init");
  const auto sft_parameters = sft.parameters();
  REQUIRE(sft_parameters.size() == pretrained.size());
  for (std::size_t i = 0; i < pretrained.size(); ++i)
    CHECK(torch::equal(sft_parameters[i], pretrained[i]));

  test::TrainingFixture reward(dir, reward_config("init_from = \"" + checkpoint.string() + "\"\n"),
                               "reward_init");
  std::int64_t compared = 0;
  for (const auto& item : reward.objective->model().named_parameters()) {
    if (item.key().rfind("backbone.", 0) != 0) continue;
    CHECK(torch::equal(item.value(), clm_model.named_parameters()[item.key()]));
    ++compared;
  }
  CHECK(compared > 0);
  CHECK(compared + 2 == static_cast<std::int64_t>(reward.parameters().size()));  // + reward_head

  // A checkpoint of another shape is refused, naming the key.
  CHECK_THROWS_WITH(
      test::TrainingFixture(
          dir,
          "[model]\nd_model = 16\n" + sft_config("init_from = \"" + checkpoint.string() + "\"\n"),
          "sft_bad"),
      Catch::Contains("backbone."));
}
