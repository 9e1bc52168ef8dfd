#include "data/sampler.h"

#include <numeric>

#include "util/error.h"
#include "util/rng.h"

namespace sslx::data {

Sampler::Sampler(std::int64_t items, std::uint64_t seed, std::int32_t rank, std::int32_t world)
    : items_(items),
      seed_(seed),
      rank_(rank),
      world_(world),
      per_rank_(world > 0 ? items / world : 0) {
  if (world < 1 || rank < 0 || rank >= world) {
    throw Error("sampler: rank " + std::to_string(rank) + " of world " + std::to_string(world));
  }
  if (per_rank_ < 1) {
    throw Error("sampler: " + std::to_string(items) + " items cannot feed " +
                    std::to_string(world) + " rank(s)",
                "use more data or a smaller block size");
  }
  build_epoch();
}

void Sampler::build_epoch() {
  std::vector<std::int64_t> permutation(static_cast<std::size_t>(items_));
  std::iota(permutation.begin(), permutation.end(), 0);
  RngStream rng(seed_, "sampler-epoch-" + std::to_string(state_.epoch));
  // Fisher-Yates, identical on every rank so that the ranks' shares are disjoint.
  for (std::int64_t i = items_ - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(rng.uniform_below(static_cast<std::uint64_t>(i + 1)));
    std::swap(permutation[i], permutation[j]);
  }
  order_.clear();
  for (std::int64_t k = 0; k < per_rank_; ++k)
    order_.push_back(permutation[k * world_ + rank_]);
}

std::int64_t Sampler::next() {
  if (state_.position == per_rank_) {
    ++state_.epoch;
    state_.position = 0;
    build_epoch();
  }
  return order_[static_cast<std::size_t>(state_.position++)];
}

void Sampler::restore(const SamplerState& state) {
  if (state.position < 0 || state.position > per_rank_ || state.epoch < 0) {
    throw Error("sampler state (epoch " + std::to_string(state.epoch) + ", position " +
                    std::to_string(state.position) + ") does not fit " + std::to_string(per_rank_) +
                    " items per epoch",
                "the data changed since the checkpoint was written");
  }
  state_ = state;
  build_epoch();
}

}  // namespace sslx::data
