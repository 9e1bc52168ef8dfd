#include "nn/relative_position_bias.h"

#include <ATen/ATen.h>

#include <cmath>

namespace sslx::nn {

at::Tensor relative_position_bucket(const at::Tensor& relative_position, bool bidirectional,
                                    std::int64_t num_buckets, std::int64_t max_distance) {
  TORCH_CHECK(relative_position.scalar_type() == at::kLong,
              "relative positions must be int64, got ", relative_position.scalar_type());
  TORCH_CHECK(num_buckets >= (bidirectional ? 4 : 2) && max_distance > 0,
              "relative_position_bucket needs num_buckets >= 4 (bidirectional) or 2, and "
              "max_distance > 0, got num_buckets = ",
              num_buckets, " and max_distance = ", max_distance);
  at::Tensor buckets = at::zeros_like(relative_position);
  at::Tensor distance;
  if (bidirectional) {
    num_buckets /= 2;
    buckets = buckets + relative_position.gt(0).to(at::kLong) * num_buckets;
    distance = relative_position.abs();
  } else {
    distance = -at::minimum(relative_position, at::zeros_like(relative_position));
  }
  const std::int64_t max_exact = num_buckets / 2;
  TORCH_CHECK(max_distance > max_exact, "max_distance must exceed the exact range ", max_exact,
              ", got ", max_distance);
  const at::Tensor is_small = distance.lt(max_exact);
  at::Tensor if_large = max_exact + (at::log(distance.to(at::kFloat) / double(max_exact)) /
                                     std::log(double(max_distance) / double(max_exact)) *
                                     double(num_buckets - max_exact))
                                        .to(at::kLong);
  if_large = at::minimum(if_large, at::full_like(if_large, num_buckets - 1));
  return buckets + at::where(is_small, distance, if_large);
}

RelativePositionBiasImpl::RelativePositionBiasImpl(const RelativePositionBiasOptions& options)
    : options_(options) {
  TORCH_CHECK(options.n_heads > 0 && options.num_buckets > 0,
              "relative position bias needs n_heads > 0 and num_buckets > 0, got n_heads = ",
              options.n_heads, " and num_buckets = ", options.num_buckets);
  // N(0, 0.02²) for a module used alone; nn/init.h gives whole models T5's N(0, 1/d_model).
  weight = register_parameter("weight", at::randn({options.num_buckets, options.n_heads}) * 0.02);
}

at::Tensor RelativePositionBiasImpl::forward(std::int64_t query_length, std::int64_t key_length,
                                             std::int64_t offset) {
  TORCH_CHECK(query_length > 0 && key_length > 0 && offset >= 0,
              "relative position bias needs T > 0, S > 0 and offset >= 0, got T = ", query_length,
              ", S = ", key_length, ", offset = ", offset);
  const auto long_options = at::TensorOptions().dtype(at::kLong).device(weight.device());
  const at::Tensor query = at::arange(offset, offset + query_length, long_options).unsqueeze(1);
  const at::Tensor key = at::arange(key_length, long_options).unsqueeze(0);
  const at::Tensor buckets = relative_position_bucket(key - query, options_.bidirectional,
                                                      options_.num_buckets, options_.max_distance);
  // (T, S, H) -> (1, H, T, S)
  return at::embedding(weight, buckets).permute({2, 0, 1}).unsqueeze(0);
}

}  // namespace sslx::nn
