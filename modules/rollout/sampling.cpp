#include "rollout/sampling.h"

#include <ATen/ATen.h>

#include "util/error.h"

namespace sslx::rollout {

void check_sampling_options(const SamplingOptions& options) {
  if (options.temperature < 0 || options.top_k < 0 || options.top_p <= 0 || options.top_p > 1) {
    throw Error("sampling options out of range: temperature " +
                    std::to_string(options.temperature) + ", top_k " +
                    std::to_string(options.top_k) + ", top_p " + std::to_string(options.top_p),
                "temperature >= 0, top_k >= 0, 0 < top_p <= 1");
  }
}

at::Tensor sampling_probabilities(const at::Tensor& logits, const SamplingOptions& options) {
  check_sampling_options(options);
  TORCH_CHECK(logits.dim() == 2 && logits.size(1) > 0,
              "sampling_probabilities: logits should be (B, V) with V > 0, got ", logits.sizes());
  const at::Tensor x = logits.to(at::kDouble);
  const std::int64_t V = x.size(1);
  if (options.temperature == 0) {
    // argmax returns the first maximum: ties go to the lower id.
    return at::one_hot(x.argmax(1), V).to(at::kDouble);
  }
  at::Tensor probabilities = at::softmax(x / options.temperature, 1);
  const std::int64_t top_k = options.top_k > 0 ? std::min(options.top_k, V) : V;
  if (top_k == V && options.top_p >= 1) return probabilities;

  // Tokens from most to least likely; a stable sort keeps the lower id first among ties.
  const auto [sorted, order] = at::sort(probabilities, c10::optional<bool>(true), /*dim=*/1,
                                        /*descending=*/true);                        // (B, V) each
  const at::Tensor rank = at::arange(V, x.options().dtype(at::kLong)).unsqueeze(0);  // (1, V)
  at::Tensor keep = (rank < top_k).expand({x.size(0), V}).contiguous();              // (B, V)
  if (options.top_p < 1) {
    // Renormalised over the top-k survivors: a token is kept when the mass ranked above it is
    // still below top_p (so the token that crosses top_p is kept, and at least one is).
    const at::Tensor kept_sorted = sorted * keep;
    const at::Tensor mass = kept_sorted.sum(1, /*keepdim=*/true);
    const at::Tensor above = kept_sorted.cumsum(1) - kept_sorted;
    keep = keep & ((above < options.top_p * mass) | (rank == 0));
  }
  // Back from rank order to token order, then renormalise.
  const at::Tensor keep_by_token =
      at::zeros({x.size(0), V}, keep.options()).scatter(1, order, keep);
  probabilities = probabilities * keep_by_token;
  return probabilities / probabilities.sum(1, /*keepdim=*/true);
}

at::Tensor sample_indices(const at::Tensor& probabilities, const at::Tensor& u) {
  TORCH_CHECK(probabilities.dim() == 2 && u.dim() == 1 && u.size(0) == probabilities.size(0),
              "sample_indices: probabilities (B, V) and u (B), got ", probabilities.sizes(),
              " and ", u.sizes());
  const at::Tensor p = probabilities.to(at::kDouble);
  const std::int64_t V = p.size(1);
  const at::Tensor cumulative = p.cumsum(1);
  // Entries whose cumulative mass is <= u come before the chosen one.
  at::Tensor index = (cumulative <= u.to(at::kDouble).unsqueeze(1)).sum(1);  // (B)
  // u within rounding of 1 may pass the end: take the last token with mass.
  const at::Tensor positive = p > 0;
  TORCH_CHECK(positive.any(1).all().item<bool>(),
              "sample_indices: a row of the distribution has no mass");
  const at::Tensor last_positive = (V - 1) - positive.flip(1).to(at::kInt).argmax(1);
  return at::minimum(index, last_positive);
}

at::Tensor policy_log_probs(const at::Tensor& logits, double temperature) {
  const double scale = temperature > 0 ? temperature : 1.0;
  // float32 at least (bf16 logits would round the log-probabilities); float64 stays.
  const at::Tensor x = logits.scalar_type() == at::kDouble ? logits : logits.to(at::kFloat);
  return at::log_softmax(x / scale, -1);
}

}  // namespace sslx::rollout
