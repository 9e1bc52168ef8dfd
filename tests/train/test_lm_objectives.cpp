// The MLM, span corruption and prefix LM objectives: what their batches contain, where their loss
// looks, what their positions see, that checkpoints resume their data exactly, and that
// prefix LM trains a tiny model on a Markov source to its entropy floor (docs/objectives.md).
#include "nn/torch_catch.h"

#include <torch/torch.h>

#include "config/config_error.h"
#include "data/byte_tokenizer.h"
#include "log/run_log.h"
#include "objectives/clm.h"
#include "objectives/mlm.h"
#include "objectives/prefix_lm.h"
#include "objectives/span_corruption.h"
#include "support.h"
#include "training_fixture.h"

using namespace sslx;
using namespace sslx::objectives;

namespace {

// Summed loss over labelled positions, and d(loss)/d(logits).
std::pair<at::Tensor, at::Tensor> loss_and_gradient(const at::Tensor& logits,
                                                    const at::Tensor& labels) {
  const at::Tensor leaf = logits.detach().clone().requires_grad_(true);
  const at::Tensor loss = next_token_loss(leaf, labels).loss_sum;
  loss.backward();
  return {loss.detach(), leaf.grad()};
}

// Per position (B, T): whether the gradient of the loss reaches its logits.
at::Tensor gets_gradient(const at::Tensor& gradient) {
  return gradient.abs().sum(-1) > 0;
}

double final_validation_loss(test::TrainingFixture& fixture) {
  fixture.trainer->run();
  return log::RunLogReader(fixture.paths.log).read("val", "loss").values.back();
}

const std::string kTraining =
    "[trainer]\nmax_steps = 300\nbatch_size = 16\nsequence_length = 32\neval_every = 0\n"
    "eval_batches = 8\n[schedule]\nname = \"constant\"\nlr = 0.003\nwarmup_steps = 20\n";

}  // namespace

TEST_CASE("mlm: the loss looks only at the chosen positions") {
  test::TempDir dir;
  test::TrainingFixture fixture(dir, test::markov_lm_setup("encoder", "name = \"mlm\"\n", 4, 32),
                                "mlm");
  auto& mlm = dynamic_cast<MlmObjective&>(*fixture.objective);
  const train::Batch batch = mlm.train_batch();
  const at::Tensor labels = batch.at("labels");
  const at::Tensor chosen = labels != kIgnore;
  // exact_count: min(20, max(1, round(32 * 0.15))) = 5 per sequence.
  CHECK(torch::equal(chosen.sum(1), torch::full({4}, 5, torch::kInt64)));
  CHECK(batch.n_targets == 20);

  const at::Tensor logits = mlm.logits(batch).detach();
  const auto [loss, gradient] = loss_and_gradient(logits, labels);
  CHECK(torch::allclose(mlm.loss(batch).loss_sum.detach(), loss));
  CHECK(torch::equal(gets_gradient(gradient), chosen));

  // Changing the logits at an unchosen position leaves the loss bit for bit; at a chosen one not.
  const auto unchosen_index = (~chosen).nonzero()[0];
  const auto chosen_index = chosen.nonzero()[0];
  at::Tensor changed = logits.clone();
  changed[unchosen_index[0]][unchosen_index[1]] += torch::randn({logits.size(-1)}) * 5;
  CHECK(torch::equal(next_token_loss(changed, labels).loss_sum, loss));
  changed[chosen_index[0]][chosen_index[1]] += torch::randn({logits.size(-1)}) * 5;
  CHECK_FALSE(torch::allclose(next_token_loss(changed, labels).loss_sum, loss));
  // The same holds for a label: one set at an unchosen position would enter the loss.
  at::Tensor leaked = labels.clone();
  leaked[unchosen_index[0]][unchosen_index[1]] = 10;
  CHECK_FALSE(torch::allclose(next_token_loss(logits, leaked).loss_sum, loss));
}

TEST_CASE("mlm independent variant: each token with probability rate, no cap") {
  test::TempDir dir;
  test::TrainingFixture fixture(
      dir,
      test::markov_lm_setup("encoder", "name = \"mlm\"\nvariant = \"independent\"\nrate = 0.3\n",
                            16, 32),
      "mlm");
  std::int64_t chosen = 0, tokens = 0, max_per_row = 0;
  for (int i = 0; i < 20; ++i) {
    const train::Batch batch = fixture.objective->train_batch();
    const at::Tensor per_row = (batch.at("labels") != kIgnore).sum(1);
    chosen += per_row.sum().item<std::int64_t>();
    max_per_row = std::max(max_per_row, per_row.max().item<std::int64_t>());
    tokens += batch.n_tokens;
  }
  // 10240 tokens, ~3% of them EOS: the fraction is 0.3 * 0.97 within a few standard errors.
  CHECK(static_cast<double>(chosen) / static_cast<double>(tokens) ==
        Approx(0.3 * 0.97).margin(0.02));
  CHECK(max_per_row > round_half_even(32 * 0.3));  // no exact count
}

TEST_CASE("mlm: byte word starts follow whitespace and specials") {
  const data::ByteTokenizer tokenizer;
  std::vector<TokenId> tokens = tokenizer.encode("ab cd\ne");
  tokens.insert(tokens.begin() + 2, tokenizer.specials().require_eos());
  // a b </s> ' ' c d '\n' e
  const std::vector<bool> expected{true, false, false, true, true, false, false, true};
  CHECK(byte_word_starts(tokens, tokenizer.specials()) == expected);
}

TEST_CASE("lm objectives refuse architectures they do not run on") {
  test::TempDir dir;
  CHECK_THROWS_AS(
      test::TrainingFixture(dir, test::markov_lm_setup("decoder", "name = \"mlm\"\n", 2, 16), "a"),
      config::ConfigError);
  CHECK_THROWS_AS(
      test::TrainingFixture(
          dir, test::markov_lm_setup("encoder", "name = \"span_corruption\"\n", 2, 16), "b"),
      config::ConfigError);
  CHECK_THROWS_AS(test::TrainingFixture(
                      dir, test::markov_lm_setup("encoder", "name = \"prefix_lm\"\n", 2, 16), "c"),
                  config::ConfigError);
}

TEST_CASE("span corruption batches have the reference lengths and round-trip to the text") {
  test::TempDir dir;
  test::TrainingFixture fixture(
      dir, test::markov_lm_setup("encoder_decoder", "name = \"span_corruption\"\n", 4, 32), "span");
  auto& span = dynamic_cast<SpanCorruptionObjective&>(*fixture.objective);
  const SpanLengths expected = expanded_lengths(32, 0.15, 3.0);
  CHECK(span.lengths().raw_tokens == expected.raw_tokens);
  train::Batch batch;
  REQUIRE(span.eval_batch(data::Split::kTrain, 1, batch));  // blocks 4 .. 7
  const at::Tensor inputs = batch.at("inputs"), targets = batch.at("targets");
  REQUIRE(inputs.sizes().vec() == std::vector<std::int64_t>{4, expected.inputs});
  REQUIRE(targets.sizes().vec() == std::vector<std::int64_t>{4, expected.targets});

  // The training split as one stream: documents back to back, no separator.
  const data::TokenCorpus& corpus = fixture.data.corpus.split(data::Split::kTrain);
  std::vector<TokenId> stream;
  for (std::int64_t d = 0; d < 3; ++d) {
    std::vector<TokenId> document(corpus.document_length(d));
    corpus.copy_tokens(d, 0, corpus.document_length(d), document.data());
    stream.insert(stream.end(), document.begin(), document.end());
  }
  const data::SpecialTokens& specials = fixture.data.tokenizer->specials();
  const auto row = [](const at::Tensor& t, std::int64_t b) {
    const at::Tensor r = t[b].to(torch::kInt32).contiguous();
    return std::vector<TokenId>(r.data_ptr<TokenId>(), r.data_ptr<TokenId>() + r.numel());
  };
  for (std::int64_t b = 0; b < 4; ++b) {
    const std::int64_t begin = (4 + b) * expected.raw_tokens;  // block 4 + b of the stream
    const std::vector<TokenId> original(stream.begin() + begin,
                                        stream.begin() + begin + expected.raw_tokens);
    CHECK(reconstruct({row(inputs, b), row(targets, b)}, specials) == original);
    CHECK(inputs[b][expected.inputs - 1].item<TokenId>() == specials.require_eos());
    CHECK(targets[b][expected.targets - 1].item<TokenId>() == specials.require_eos());
    CHECK(targets[b][0].item<TokenId>() == specials.vocab_size - 1);  // <extra_id_0>
  }
  // Decoder inputs: targets shifted right behind <pad>; loss on every target token.
  CHECK(torch::equal(batch.at("decoder_input_ids").slice(1, 1), targets.slice(1, 0, -1)));
  CHECK(torch::equal(batch.at("decoder_input_ids").select(1, 0),
                     torch::full({4}, specials.require_pad(), torch::kInt64)));
  CHECK(torch::equal(batch.at("labels"), targets));
  CHECK(batch.n_targets == 4 * expected.targets);
}

TEST_CASE(
    "span corruption on a decoder: inputs ++ targets, a prefix over the inputs, loss on "
    "targets only") {
  test::TempDir dir;
  test::TrainingFixture fixture(
      dir, test::markov_lm_setup("decoder", "name = \"span_corruption\"\n", 4, 32), "span");
  auto& span = dynamic_cast<SpanCorruptionObjective&>(*fixture.objective);
  const train::Batch batch = span.train_batch();
  const std::int64_t I = span.lengths().inputs, U = span.lengths().targets;
  const at::Tensor ids = batch.at("input_ids");
  REQUIRE(ids.sizes().vec() == std::vector<std::int64_t>{4, I + U - 1});
  CHECK(torch::equal(ids.slice(1, 0, I), batch.at("inputs")));
  CHECK(torch::equal(ids.slice(1, I), batch.at("targets").slice(1, 0, U - 1)));
  CHECK(torch::equal(batch.at("prefix_length"), torch::full({4}, I, torch::kInt64)));
  const auto [loss, gradient] = loss_and_gradient(span.logits(batch).detach(), batch.at("labels"));
  const at::Tensor reached = gets_gradient(gradient);
  CHECK_FALSE(reached.slice(1, 0, I - 1).any().item<bool>());
  CHECK(reached.slice(1, I - 1).all().item<bool>());
  CHECK(torch::equal(batch.at("labels").slice(1, I - 1), batch.at("targets")));
}

TEST_CASE(
    "prefix lm: the split is in 1..L-1, the prefix gets no loss and sees itself, the "
    "rest sees only the past") {
  test::TempDir dir;
  const std::int64_t L = 16;
  test::TrainingFixture fixture(
      dir, test::markov_lm_setup("decoder", "name = \"prefix_lm\"\n", 8, L), "prefix");
  auto& prefix_lm = dynamic_cast<PrefixLmObjective&>(*fixture.objective);
  std::int64_t lowest = L, highest = 0;
  for (int i = 0; i < 30; ++i) {
    const train::Batch batch = prefix_lm.train_batch();
    const at::Tensor labelled = batch.at("labels") != kIgnore;
    for (std::int64_t b = 0; b < 8; ++b) {
      const std::int64_t p = batch.at("prefix_length")[b].item<std::int64_t>();
      lowest = std::min(lowest, p);
      highest = std::max(highest, p);
      // Labels of positions t >= p - 1 (predicting tokens p .. L), none before.
      CHECK(torch::equal(labelled[b], torch::arange(L) >= p - 1));
      CHECK(torch::equal(batch.at("labels")[b].slice(0, p - 1, L - 1),
                         batch.at("input_ids")[b].slice(0, p)));
    }
  }
  CHECK(lowest == 1);
  CHECK(highest == L - 1);

  train::Batch batch = prefix_lm.train_batch();
  batch.tensors["prefix_length"] = torch::full({8}, 8, torch::kInt64);
  const at::Tensor before = prefix_lm.logits(batch).detach();
  const at::Tensor causal_before = prefix_lm.logits(batch, false).detach();
  const auto changed_at = [&](std::int64_t position) {
    train::Batch changed = batch;
    changed.tensors["input_ids"] = batch.at("input_ids").clone();
    const auto id = batch.at("input_ids")[0][position].item<std::int64_t>();
    changed.tensors["input_ids"][0][position] = (id + 1) % 15 + 7;  // another byte token
    return changed;
  };
  // A later prefix token (7) changes the first prefix position's output...
  const train::Batch later_prefix = changed_at(7);
  CHECK_FALSE(torch::allclose(prefix_lm.logits(later_prefix)[0][0], before[0][0]));
  // ...which it would not without the prefix (negative control).
  CHECK(torch::allclose(prefix_lm.logits(later_prefix, false)[0][0], causal_before[0][0]));
  // A token after the split (10) changes nothing before it, itself yes.
  const train::Batch after_split = changed_at(10);
  const at::Tensor after = prefix_lm.logits(after_split).detach();
  CHECK(torch::allclose(after[0].slice(0, 0, 10), before[0].slice(0, 0, 10)));
  CHECK_FALSE(torch::allclose(after[0][10], before[0][10]));
}

TEST_CASE(
    "prefix lm on encoder_decoder: prefix in the encoder, the rest as shifted decoder targets, "
    "loss on the rest only") {
  test::TempDir dir;
  const std::int64_t L = 16, B = 8;
  test::TrainingFixture decoder(
      dir, test::markov_lm_setup("decoder", "name = \"prefix_lm\"\n", B, L), "dec");
  test::TrainingFixture fixture(
      dir, test::markov_lm_setup("encoder_decoder", "name = \"prefix_lm\"\n", B, L), "encdec");
  auto& prefix_lm = dynamic_cast<PrefixLmObjective&>(*fixture.objective);
  const std::int64_t pad = fixture.data.tokenizer->specials().require_pad();
  // The same evaluation batch in decoder form: the same blocks and split points.
  train::Batch batch, reference;
  REQUIRE(prefix_lm.eval_batch(data::Split::kTrain, 0, batch));
  REQUIRE(decoder.objective->eval_batch(data::Split::kTrain, 0, reference));
  CHECK(torch::equal(batch.at("prefix_length"), reference.at("prefix_length")));
  CHECK(batch.n_targets == reference.n_targets);
  for (std::int64_t b = 0; b < B; ++b) {
    const std::int64_t p = batch.at("prefix_length")[b].item<std::int64_t>(), n = L + 1 - p;
    const at::Tensor block =  // L + 1 tokens
        torch::cat({reference.at("input_ids")[b], reference.at("labels")[b].slice(0, L - 1)});
    CHECK(torch::equal(batch.at("input_ids")[b].slice(0, 0, p), block.slice(0, 0, p)));
    CHECK(torch::equal(batch.at("key_valid")[b], torch::arange(L) < p));
    CHECK(torch::equal(batch.at("labels")[b].slice(0, 0, n), block.slice(0, p)));
    CHECK((batch.at("labels")[b].slice(0, n) == kIgnore).all().item<bool>());
    CHECK(batch.at("decoder_input_ids")[b][0].item<std::int64_t>() == pad);
    CHECK(torch::equal(batch.at("decoder_input_ids")[b].slice(0, 1, n),
                       batch.at("labels")[b].slice(0, 0, n - 1)));
  }

  // The loss reaches exactly the decoder positions with a target, and equals loss().
  const at::Tensor logits = prefix_lm.logits(batch).detach();
  const auto [loss, gradient] = loss_and_gradient(logits, batch.at("labels"));
  CHECK(torch::allclose(prefix_lm.loss(batch).loss_sum.detach(), loss));
  CHECK(torch::equal(gets_gradient(gradient), batch.at("labels") != kIgnore));
  // A target token enters the loss; a label set where there is none (the padding) would too.
  const at::Tensor labels = batch.at("labels");
  at::Tensor changed_labels = labels.clone();
  changed_labels[0][0] = (labels[0][0].item<std::int64_t>() + 1) % 15 + 7;
  CHECK_FALSE(torch::allclose(next_token_loss(logits, changed_labels).loss_sum, loss));
  const std::int64_t p0 = batch.at("prefix_length")[0].item<std::int64_t>();
  if (p0 > 1) {
    at::Tensor leaked = labels.clone();
    leaked[0][L - 1] = 10;
    CHECK_FALSE(torch::allclose(next_token_loss(logits, leaked).loss_sum, loss));
  }

  // Row 0 split at 8 by hand: encoder positions 8.. are padding.
  batch.tensors["key_valid"][0] = torch::arange(L) < 8;
  const at::Tensor before = prefix_lm.logits(batch).detach();
  const at::Tensor unmasked_before = prefix_lm.logits(batch, false).detach();
  const auto encoder_changed_at = [&](std::int64_t position) {
    train::Batch changed = batch;
    changed.tensors["input_ids"] = batch.at("input_ids").clone();
    const auto id = batch.at("input_ids")[0][position].item<std::int64_t>();
    changed.tensors["input_ids"][0][position] = (id + 1) % 15 + 7;
    return changed;
  };
  // A padding token of the encoder changes no decoder output...
  const train::Batch in_padding = encoder_changed_at(12);
  CHECK(torch::allclose(prefix_lm.logits(in_padding), before));
  // ...which it would without the padding mask (negative control).
  CHECK_FALSE(torch::allclose(prefix_lm.logits(in_padding, false)[0], unmasked_before[0]));
  // A prefix token reaches every decoder position through cross-attention.
  const at::Tensor from_prefix = prefix_lm.logits(encoder_changed_at(7)).detach();
  CHECK_FALSE(torch::allclose(from_prefix[0][0], before[0][0]));
  // A decoder input changes its own and later outputs, never earlier ones (targets unseen).
  train::Batch decoder_changed = batch;
  decoder_changed.tensors["decoder_input_ids"] = batch.at("decoder_input_ids").clone();
  decoder_changed.tensors["decoder_input_ids"][0][3] = 9;
  const at::Tensor after = prefix_lm.logits(decoder_changed).detach();
  CHECK(torch::allclose(after[0].slice(0, 0, 3), before[0].slice(0, 0, 3)));
  CHECK_FALSE(torch::allclose(after[0][3], before[0][3]));
}

TEST_CASE("lm objectives resume their data exactly from saved state") {
  SECTION("mlm") {
    test::check_resume(test::markov_lm_setup("encoder", "name = \"mlm\"\n", 4, 32));
  }
  SECTION("span_corruption") {
    test::check_resume(
        test::markov_lm_setup("encoder_decoder", "name = \"span_corruption\"\n", 4, 32));
  }
  SECTION("prefix_lm") {
    test::check_resume(test::markov_lm_setup("decoder", "name = \"prefix_lm\"\n", 4, 32));
  }
  SECTION("prefix_lm on encoder_decoder") {
    test::check_resume(test::markov_lm_setup("encoder_decoder", "name = \"prefix_lm\"\n", 4, 32));
  }
}

TEST_CASE("prefix lm on a Markov source: the validation loss approaches the entropy floor") {
  test::TempDir dir;
  test::TrainingFixture fixture(
      dir,
      test::markov_lm_data() + "[model]\narch = \"decoder\"\n[objective]\nname = \"prefix_lm\"\n" +
          kTraining,
      "prefix");
  const double floor = *fixture.data.entropy_rate;
  const double val_loss = final_validation_loss(fixture);
  INFO("entropy floor " << floor << ", validation loss " << val_loss);
  CHECK(val_loss > floor - 0.05);
  CHECK(val_loss < floor + 0.1);
}

TEST_CASE(
    "token loss: the LM head at labelled rows only and the fused cross-entropy give the "
    "plain path's loss, accuracy and gradients") {
  test::TempDir dir;
  test::TrainingFixture fixture(dir, test::markov_lm_setup("encoder", "name = \"mlm\"\n", 4, 32),
                                "mlm");
  auto& mlm = dynamic_cast<MlmObjective&>(*fixture.objective);
  auto& model = dynamic_cast<LanguageModelImpl&>(mlm.model());
  const train::Batch batch = mlm.train_batch();
  struct Outcome {
    train::LossTerms terms;
    std::vector<at::Tensor> gradients;  // of every parameter
  };
  const auto outcome = [&](const at::Tensor& labels, const train::TokenLossOptions& options) {
    model.zero_grad();
    Outcome out{.terms = token_loss(model, mlm.hidden_states(batch), labels, options)};
    out.terms.loss_sum.backward();
    for (const auto& parameter : model.parameters()) {
      REQUIRE(parameter.grad().defined());
      out.gradients.push_back(parameter.grad().clone());
    }
    return out;
  };
  // Equal up to float32 rounding: the products sum in another order over other row counts, so
  // each tensor is compared at its own scale. The key projection's bias has a gradient of 0 in
  // exact arithmetic (softmax ignores a shift shared by all scores): rounding leaves about 1e-10,
  // hence the absolute floor.
  const auto same_gradients = [](const Outcome& a, const Outcome& b) {
    bool same = true;
    for (std::size_t i = 0; i < a.gradients.size(); ++i) {
      const double scale = b.gradients[i].abs().max().item<double>();
      same = same &&
             (a.gradients[i] - b.gradients[i]).abs().max().item<double>() <= 1e-5 * scale + 1e-9;
    }
    return same;
  };
  const at::Tensor labels = batch.at("labels");
  const Outcome plain =
      outcome(labels, {.labelled_rows_only = false, .fused_cross_entropy = false});
  CHECK(plain.terms.n_targets == 20);  // 5 of 32 positions in each of 4 rows
  CHECK(torch::allclose(plain.terms.loss_sum, mlm.loss(batch).loss_sum, 1e-6));
  for (const bool rows_only : {false, true}) {
    for (const bool fused : {false, true}) {
      CAPTURE(rows_only, fused);
      const Outcome got =
          outcome(labels, {.labelled_rows_only = rows_only, .fused_cross_entropy = fused});
      CHECK(torch::allclose(got.terms.loss_sum, plain.terms.loss_sum, 1e-6));
      CHECK(got.terms.n_targets == plain.terms.n_targets);
      CHECK(got.terms.metrics.at("accuracy").sum == plain.terms.metrics.at("accuracy").sum);
      CHECK(got.terms.metrics.at("accuracy").count == plain.terms.metrics.at("accuracy").count);
      CHECK(same_gradients(got, plain));
    }
  }
  // Negative control: one label changed at a labelled position changes the gradients.
  at::Tensor changed = labels.clone();
  const auto labelled = (labels != kIgnore).nonzero()[0];
  const std::int64_t vocab = mlm.logits(batch).size(-1);
  changed[labelled[0]][labelled[1]] =
      (labels[labelled[0]][labelled[1]].item<std::int64_t>() + 1) % vocab;
  CHECK_FALSE(same_gradients(outcome(changed, {}), plain));
}
