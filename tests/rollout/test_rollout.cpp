// The rollout engine (modules/rollout): batched sampling through the KV cache. Its log-probs must
// equal a fresh forward pass over the finished sequences, its masks must cover exactly the
// generated tokens up to and including EOS, a row must come out as it would alone, and samples
// must follow the temperature-scaled distribution.
#include "nn/torch_catch.h"

#include <cmath>
#include <map>

#include "arch/tiny_models.h"
#include "architectures/decoder.h"
#include "architectures/encoder_decoder.h"
#include "architectures/heads.h"
#include "rollout/rollout.h"

using namespace sslx;
using sslx::test::kVocab;

namespace {

struct TinyPolicy {
  explicit TinyPolicy(arch::PositionKind positions) {
    decoder = test::make_model<arch::Decoder>(test::tiny_options(positions));
    head = arch::lm_head_for(*decoder);
    head->to(at::kDouble);
  }
  rollout::LogitsFunction logits() {
    return [this](const arch::ArchitectureInputs& inputs) {
      return head(decoder->forward(inputs).hidden_states);
    };
  }
  std::shared_ptr<arch::Decoder> decoder;
  arch::LmHead head{nullptr};
};

const std::vector<std::vector<data::TokenId>> kPrompts{{5}, {7, 8, 9, 10, 11}, {12, 13}, {1, 2, 3}};

std::vector<std::string> streams(std::size_t n, const std::string& prefix = "row/") {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i)
    names.push_back(prefix + std::to_string(i));
  return names;
}

}  // namespace

TEST_CASE("rollout: log-probs equal a fresh forward pass, for every kind of positions") {
  for (const auto positions : test::kAllPositions) {
    INFO("positions " << static_cast<int>(positions));
    TinyPolicy policy(positions);
    const rollout::RolloutOptions options{
        .max_new_tokens = 7, .sampling = {.temperature = 0.7}, .eos = 4, .pad = 0};
    const rollout::Rollout r =
        rollout::generate(policy.logits(), kPrompts, options, 11, streams(kPrompts.size()));
    REQUIRE(r.prompt_width == 5);
    const at::NoGradGuard no_grad;
    const at::Tensor fresh =
        rollout::token_log_probs(rollout::response_logits(policy.logits(), r), r.responses, 0.7);
    CHECK(test::max_difference(fresh * r.response_mask, r.log_probs) < 1e-9);
    CHECK((r.log_probs.masked_select(r.response_mask) < 0).all().item<bool>());
    // Negative control: the same pass with the padding visible to attention differs.
    const at::Tensor leaky =
        policy.logits()({.token_ids = r.sequences, .position_ids = r.position_ids});
    const at::Tensor leaky_log_p = rollout::token_log_probs(
        leaky.slice(1, r.prompt_width - 1, r.sequences.size(1) - 1), r.responses, 0.7);
    CHECK(test::max_difference(leaky_log_p * r.response_mask, r.log_probs) > 1e-4);
  }
}

TEST_CASE("rollout: a row ends with its EOS, which is in its mask - nothing after it is") {
  TinyPolicy policy(arch::PositionKind::rotary);
  // Greedy: the first token of prompt 1 is known, so make it EOS for that row's end.
  const rollout::RolloutOptions greedy{.max_new_tokens = 6, .sampling = {.temperature = 0}};
  const rollout::Rollout first =
      rollout::generate(policy.logits(), kPrompts, greedy, 1, streams(kPrompts.size()));
  const auto eos = static_cast<data::TokenId>(first.responses[1][0].item<std::int64_t>());
  rollout::RolloutOptions options = greedy;
  options.eos = eos;
  options.pad = kVocab - 1;
  const rollout::Rollout r =
      rollout::generate(policy.logits(), kPrompts, options, 1, streams(kPrompts.size()));
  CHECK(r.ended_with_eos[1].item<bool>());
  CHECK(r.lengths[1].item<std::int64_t>() == 1);
  CHECK(r.response_mask[1][0].item<bool>());
  CHECK_FALSE(r.response_mask[1].slice(0, 1).any().item<bool>());
  CHECK((r.responses[1].slice(0, 1) == kVocab - 1).all().item<bool>());  // padding after it
  CHECK(rollout::response_text_tokens(r, 1).empty());                    // EOS is not text
  for (std::int64_t b = 0; b < r.batch(); ++b) {
    const std::int64_t length = r.lengths[b].item<std::int64_t>();
    const at::Tensor row = r.responses[b].slice(0, 0, length);
    // EOS only as the last token of a row that ended with it; the mask is a prefix.
    const bool ended = r.ended_with_eos[b].item<bool>();
    CHECK((row.slice(0, 0, length - 1) != eos).all().item<bool>());
    CHECK((row[length - 1].item<std::int64_t>() == eos) == ended);
    CHECK(r.response_mask[b].sum().item<std::int64_t>() == length);
    CHECK((ended || length == 6));
  }
  // Right-padded packing keeps every real token in order.
  const rollout::PackedSequences packed = rollout::right_padded(r);
  for (std::int64_t b = 0; b < r.batch(); ++b) {
    CHECK(torch::equal(packed.token_ids[b].masked_select(packed.valid[b]),
                       r.sequences[b].masked_select(r.valid[b])));
    const std::int64_t n = packed.valid[b].sum().item<std::int64_t>();
    CHECK(packed.valid[b].slice(0, 0, n).all().item<bool>());
  }
}

TEST_CASE("rollout: a row in a batch comes out as it does alone - seeds and streams decide") {
  TinyPolicy policy(arch::PositionKind::learned);
  const rollout::RolloutOptions options{
      .max_new_tokens = 5, .sampling = {.temperature = 1.0}, .eos = 4};
  const auto names = streams(kPrompts.size());
  const rollout::Rollout batch = rollout::generate(policy.logits(), kPrompts, options, 3, names);
  for (std::size_t i = 0; i < kPrompts.size(); ++i) {
    const rollout::Rollout alone =
        rollout::generate(policy.logits(), {kPrompts[i]}, options, 3, {names[i]});
    const auto b = static_cast<std::int64_t>(i);
    const std::int64_t n = alone.lengths[0].item<std::int64_t>();
    INFO("prompt " << i);
    REQUIRE(batch.lengths[b].item<std::int64_t>() == n);
    CHECK(torch::equal(batch.responses[b].slice(0, 0, n), alone.responses[0].slice(0, 0, n)));
    CHECK(test::max_difference(batch.log_probs[b].slice(0, 0, n),
                               alone.log_probs[0].slice(0, 0, n)) < 1e-9);
  }
  const rollout::Rollout again = rollout::generate(policy.logits(), kPrompts, options, 3, names);
  CHECK(torch::equal(again.sequences, batch.sequences));
  const rollout::Rollout other_seed =
      rollout::generate(policy.logits(), kPrompts, options, 4, names);
  CHECK_FALSE(torch::equal(other_seed.sequences, batch.sequences));
}

TEST_CASE("rollout: samples follow the temperature-scaled distribution") {
  TinyPolicy policy(arch::PositionKind::learned);
  constexpr int kRows = 4000;
  const std::vector<std::vector<data::TokenId>> prompts(kRows, {5, 6});
  const double temperature = 0.1;
  const rollout::RolloutOptions options{.max_new_tokens = 1,
                                        .sampling = {.temperature = temperature}};
  const rollout::Rollout r =
      rollout::generate(policy.logits(), prompts, options, 9, streams(kRows));
  const at::NoGradGuard no_grad;
  const at::Tensor logits = policy.logits()({.token_ids = torch::tensor({{5L, 6L}})})[0][1];
  const at::Tensor p = torch::softmax(logits / temperature, 0);
  const at::Tensor counts = torch::bincount(r.responses.select(1, 0), {}, kVocab);
  const at::Tensor frequency = counts.to(at::kDouble) / kRows;
  INFO("largest probability " << p.max().item<double>());
  CHECK(p.max().item<double>() > 0.05);              // the test has something to find
  CHECK(test::max_difference(frequency, p) < 0.03);  // 4 sigma at p = 0.5
  // The log-prob of each sample is the temperature-scaled one, not the plain softmax's.
  const at::Tensor first = r.responses[0][0];
  CHECK(r.log_probs[0][0].item<double>() ==
        Approx(torch::log(p[first]).item<double>()).margin(1e-9));
}

TEST_CASE("rollout: prompts that leave no room, empty prompts and stream mismatches are refused") {
  TinyPolicy policy(arch::PositionKind::learned);
  rollout::RolloutOptions options{.max_new_tokens = 4, .max_positions = 5};
  CHECK_THROWS_WITH(rollout::generate(policy.logits(), {{1, 2, 3, 4, 5}}, options, 1, {"a"}),
                    Catch::Contains("no room"));
  CHECK_THROWS_WITH(
      rollout::generate(policy.logits(), {std::vector<data::TokenId>{}}, options, 1, {"a"}),
      Catch::Contains("no token"));
  CHECK_THROWS(rollout::generate(policy.logits(), {{1}, {2}}, options, 1, {"a"}));
  // max_positions caps the response: 5 positions, 3 prompt tokens, 2 new tokens at most.
  const rollout::Rollout r = rollout::generate(policy.logits(), {{1, 2, 3}}, options, 1, {"a"});
  CHECK(r.response_width() <= 2);
}

namespace {

// A policy whose every step returns the same logits (B, T, V): the penalty alone changes choices.
rollout::LogitsFunction constant_policy(const std::vector<double>& logits) {
  return [logits](const arch::ArchitectureInputs& inputs) {
    const at::Tensor& ids = inputs.token_ids;
    const at::Tensor row = at::tensor(logits, at::kDouble);
    return row.expand({ids.size(0), ids.size(1), row.size(0)}).contiguous();
  };
}

std::vector<std::int64_t> row_tokens(const rollout::Rollout& r, std::int64_t row) {
  const at::Tensor tokens = r.responses[row].contiguous();
  return {tokens.data_ptr<std::int64_t>(), tokens.data_ptr<std::int64_t>() + tokens.numel()};
}

}  // namespace

TEST_CASE(
    "rollout: the repetition penalty divides positive and multiplies negative logits of "
    "tokens already in the row") {
  // Greedy over constant logits: token 1 (3) beats 2 (2.5), 3 (1), 4 (-0.5) and 0 (-1). A token
  // present in the row is penalised once, however often it occurs (as in transformers).
  const auto policy = constant_policy({-1.0, 3.0, 2.5, 1.0, -0.5});
  rollout::RolloutOptions options{.max_new_tokens = 5, .sampling = {.temperature = 0}};
  const rollout::Rollout plain = rollout::generate(policy, {{0}}, options, 1, {"r"});
  CHECK(row_tokens(plain, 0) == std::vector<std::int64_t>{1, 1, 1, 1, 1});
  options.repetition_penalty = 2.0;
  const rollout::Rollout penalised = rollout::generate(policy, {{0}}, options, 1, {"r"});
  // 1 (3); then 1 scores 1.5 and 2 wins (2.5); then 1 (1.5) beats 2 (1.25) and 3 (1) for good.
  CHECK(row_tokens(penalised, 0) == std::vector<std::int64_t>{1, 2, 1, 1, 1});
  // The prompt counts: a prompt holding 1 starts with 2.
  const rollout::Rollout prompted = rollout::generate(policy, {{1}}, options, 1, {"r"});
  CHECK(row_tokens(prompted, 0).front() == 2);
  // Negative logits are multiplied: 3 (-0.2) once drawn scores -0.4, still above 4 (-0.5).
  const auto negative = constant_policy({-1.0, -3.0, -2.5, -0.2, -0.5});
  const rollout::Rollout r = rollout::generate(negative, {{0}}, options, 1, {"r"});
  CHECK(row_tokens(r, 0) == std::vector<std::int64_t>{3, 3, 3, 3, 3});
  options.repetition_penalty = 3.0;
  const rollout::Rollout r3 = rollout::generate(negative, {{0}}, options, 1, {"r"});
  // With 3: 3 then scores -0.6, below 4 (-0.5); once 4 is drawn (-1.5), 3 (-0.6) again.
  CHECK(row_tokens(r3, 0) == std::vector<std::int64_t>{3, 4, 3, 3, 3});
}

TEST_CASE("rollout: min_new_tokens keeps EOS out until that many tokens are drawn") {
  // EOS (token 1) is the greedy choice at every step.
  const auto policy = constant_policy({-1.0, 3.0, 2.5, 1.0, -0.5});
  rollout::RolloutOptions options{.max_new_tokens = 6, .sampling = {.temperature = 0}, .eos = 1};
  const rollout::Rollout at_once = rollout::generate(policy, {{0}}, options, 1, {"r"});
  CHECK(at_once.lengths[0].item<std::int64_t>() == 1);
  options.min_new_tokens = 3;
  const rollout::Rollout r = rollout::generate(policy, {{0}}, options, 1, {"r"});
  CHECK(row_tokens(r, 0) == std::vector<std::int64_t>{2, 2, 2, 1});
  CHECK(r.ended_with_eos[0].item<bool>());
  // The log-probabilities are of the distribution sampled from, EOS excluded (greedy decoding
  // reports the temperature-1 distribution).
  const double expected =
      2.5 - std::log(std::exp(-1.0) + std::exp(2.5) + std::exp(1.0) + std::exp(-0.5));
  CHECK(std::abs(r.log_probs[0][0].item<double>() - expected) < 1e-12);
}

TEST_CASE("rollout: on_step sees every step's tokens and stops generation when it says so") {
  TinyPolicy policy(arch::PositionKind::rotary);
  rollout::RolloutOptions options{.max_new_tokens = 6, .sampling = {.temperature = 1.0}};
  std::vector<std::int64_t> seen;
  options.on_step = [&](const at::Tensor& next, const at::Tensor& active) {
    CHECK(active.all().item<bool>());
    seen.push_back(next[0].item<std::int64_t>());
    return seen.size() < 3;
  };
  const rollout::Rollout r = rollout::generate(policy.logits(), {{5, 6}}, options, 4, {"r"});
  CHECK(r.stopped);
  CHECK(r.response_width() == 3);
  CHECK(row_tokens(r, 0) == seen);
  options.on_step = {};
  const rollout::Rollout whole = rollout::generate(policy.logits(), {{5, 6}}, options, 4, {"r"});
  CHECK_FALSE(whole.stopped);
  CHECK(torch::equal(whole.responses.slice(1, 0, 3), r.responses));  // the same samples
}

TEST_CASE("rollout: an encoder_decoder samples through its caches what full recomputation gives") {
  auto model =
      test::make_model<arch::EncoderDecoder>(test::tiny_options(arch::PositionKind::relative));
  auto head = arch::lm_head_for(*model);
  head->to(at::kDouble);
  const rollout::LogitsFunction policy = [&](const arch::ArchitectureInputs& inputs) {
    return head(model->forward(inputs).hidden_states);
  };
  const data::TokenId start = 0;
  const rollout::RolloutOptions options{
      .max_new_tokens = 6, .sampling = {.temperature = 0}, .pad = 0, .decoder_start = start};
  // Prompts of different lengths: the shorter ones are left-padded, and masked out of the
  // cross-attention.
  const rollout::Rollout r =
      rollout::generate(policy, kPrompts, options, 1, streams(kPrompts.size()));
  REQUIRE(r.response_width() == 6);
  const at::NoGradGuard no_grad;
  for (std::size_t b = 0; b < kPrompts.size(); ++b) {
    INFO("prompt " << b);
    // Greedy decoding without a cache and without padding: the whole decoder prefix every step.
    const auto& prompt = kPrompts[b];
    const at::Tensor encoder_ids =
        at::tensor(std::vector<std::int64_t>(prompt.begin(), prompt.end()), at::kLong).unsqueeze(0);
    std::vector<std::int64_t> decoder{start};
    for (int n = 0; n < 6; ++n) {
      const at::Tensor logits =
          policy({.token_ids = encoder_ids,
                  .decoder_token_ids = at::tensor(decoder, at::kLong).unsqueeze(0)});
      decoder.push_back(logits[0][-1].argmax().item<std::int64_t>());
    }
    CHECK(row_tokens(r, static_cast<std::int64_t>(b)) ==
          std::vector<std::int64_t>(decoder.begin() + 1, decoder.end()));
  }
}
