#include "nn/attention_mask.h"

#include <ATen/ATen.h>

#include <limits>

namespace sslx::nn {
namespace {

bool is_integer(const at::Tensor& t) {
  return at::isIntegralType(t.scalar_type(), /*includeBool=*/false);
}

// (1, 1, T, S): query t (the last T of S positions) may see keys s <= t + (S - T), and with a
// prefix (B) also every key s < prefix_length[b].
at::Tensor causal_part(const AttentionMask& mask, std::int64_t B, std::int64_t T, std::int64_t S,
                       c10::Device device) {
  TORCH_CHECK(S >= T, "causal attention needs at least as many keys as queries, got T = ", T,
              " queries and S = ", S, " keys");
  const auto index = at::TensorOptions().dtype(at::kLong).device(device);
  const at::Tensor query_position = at::arange(T, index).view({1, 1, T, 1}) + (S - T);
  const at::Tensor key_position = at::arange(S, index).view({1, 1, 1, S});
  at::Tensor allowed = key_position <= query_position;
  if (!mask.prefix_length.defined()) return allowed;
  const at::Tensor& prefix = mask.prefix_length;
  TORCH_CHECK(prefix.dim() == 1 && prefix.size(0) == B && is_integer(prefix),
              "prefix_length must be an integer tensor of shape (B) = (", B, "), got ",
              prefix.scalar_type(), " of shape ", prefix.sizes());
  return allowed.logical_or(key_position < prefix.to(device, at::kLong).view({B, 1, 1, 1}));
}

// (B, 1, T, S): same document.
at::Tensor segment_part(const AttentionMask& mask, std::int64_t B, std::int64_t T, std::int64_t S,
                        c10::Device device) {
  const at::Tensor& queries = mask.segment_ids;
  TORCH_CHECK(
      queries.dim() == 2 && queries.size(0) == B && queries.size(1) == T && is_integer(queries),
      "segment_ids must be an integer tensor of shape (B, T) = (", B, ", ", T, "), got ",
      queries.scalar_type(), " of shape ", queries.sizes());
  at::Tensor keys = mask.key_segment_ids;
  if (!keys.defined()) {
    TORCH_CHECK(S == T, "segment_ids without key_segment_ids need S == T, got T = ", T,
                " queries and S = ", S, " keys");
    keys = queries;
  }
  TORCH_CHECK(keys.dim() == 2 && keys.size(0) == B && keys.size(1) == S && is_integer(keys),
              "key_segment_ids must be an integer tensor of shape (B, S) = (", B, ", ", S,
              "), got ", keys.scalar_type(), " of shape ", keys.sizes());
  return queries.to(device).view({B, 1, T, 1}) == keys.to(device).view({B, 1, 1, S});
}

}  // namespace

at::Tensor allowed_positions(const AttentionMask& mask, std::int64_t B, std::int64_t T,
                             std::int64_t S, c10::Device device) {
  TORCH_CHECK(mask.causal || !mask.prefix_length.defined(),
              "prefix_length requires causal = true (a prefix LM is causal after its prefix)");
  TORCH_CHECK(mask.segment_ids.defined() || !mask.key_segment_ids.defined(),
              "key_segment_ids requires segment_ids for the queries");
  at::Tensor allowed;  // broadcastable to (B, 1, T, S)
  const auto combine = [&allowed](const at::Tensor& part) {
    allowed = allowed.defined() ? allowed.logical_and(part) : part;
  };
  if (mask.causal) combine(causal_part(mask, B, T, S, device));
  if (mask.key_valid.defined()) {
    const at::Tensor& valid = mask.key_valid;
    TORCH_CHECK(valid.dim() == 2 && valid.size(0) == B && valid.size(1) == S &&
                    valid.scalar_type() == at::kBool,
                "key_valid must be a bool tensor of shape (B, S) = (", B, ", ", S, "), got ",
                valid.scalar_type(), " of shape ", valid.sizes());
    combine(valid.to(device).view({B, 1, 1, S}));
  }
  if (mask.segment_ids.defined()) combine(segment_part(mask, B, T, S, device));
  if (!allowed.defined()) return allowed;
  return allowed.expand({B, 1, T, S});
}

ScoreMask score_mask(const at::Tensor& allowed, c10::ScalarType dtype) {
  ScoreMask scores{.resolved = true};
  if (!allowed.defined()) return scores;
  TORCH_CHECK(allowed.dim() == 4 && allowed.size(1) == 1 && allowed.scalar_type() == at::kBool,
              "an attention mask must be a (B, 1, T, S) bool tensor, got ", allowed.scalar_type(),
              " of shape ", allowed.sizes());
  // A row with no allowed key would be softmax(-inf, ..., -inf) = NaN, and NaN poisons the
  // gradient even when multiplied by 0: such rows get bias 0 and row_has_key false.
  const at::Tensor row_has_key = allowed.any(-1, /*keepdim=*/true);  // (B, 1, T, 1)
  const bool every_row_has_key = row_has_key.all().item<bool>();
  const at::Tensor blocked =
      every_row_has_key ? allowed.logical_not() : allowed.logical_not().logical_and(row_has_key);
  scores.bias = at::zeros(allowed.sizes(), allowed.options().dtype(dtype))
                    .masked_fill_(blocked, -std::numeric_limits<double>::infinity());
  if (!every_row_has_key) scores.row_has_key = row_has_key;
  return scores;
}

ScoreMask resolve_mask(const AttentionMask& mask, std::int64_t B, std::int64_t T, std::int64_t S,
                       c10::ScalarType dtype, c10::Device device) {
  if (!mask.resolved.resolved) return score_mask(allowed_positions(mask, B, T, S, device), dtype);
  const at::Tensor& bias = mask.resolved.bias;
  // Its dtype may differ from the scores' (autocast): adding it converts.
  TORCH_CHECK(!bias.defined() ||
                  (bias.dim() == 4 && bias.size(0) == B && bias.size(2) == T && bias.size(3) == S),
              "a resolved attention mask must be (B, 1, T, S) = (", B, ", 1, ", T, ", ", S,
              "), got ", bias.sizes());
  return mask.resolved;
}

}  // namespace sslx::nn
