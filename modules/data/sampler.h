// A sampler over N items whose order is a pure function of (seed, epoch): a seeded permutation
// per epoch. Its position is two integers that a checkpoint saves and restores exactly. With
// data parallelism, rank r of W takes every W-th item of the permutation, and every rank gets
// the same number of items per epoch (floor(N / W)), so ranks step in lockstep.
#pragma once

#include <cstdint>
#include <vector>

namespace sslx::data {

struct SamplerState {
  std::int64_t epoch = 0;
  std::int64_t position = 0;  // items already taken in this epoch (by this rank)
  bool operator==(const SamplerState&) const = default;
};

class Sampler {
 public:
  Sampler(std::int64_t items, std::uint64_t seed, std::int32_t rank = 0, std::int32_t world = 1);

  std::int64_t next();  // the next item index; moves to the next epoch when one is exhausted
  // Where the item next() returned last stands in its epoch's permutation: rank r's k-th item is
  // the permutation's (k * W + r)-th, so W ranks together draw the positions one process draws.
  std::int64_t last_position() const { return (state_.position - 1) * world_ + rank_; }
  std::int64_t items_per_epoch() const { return per_rank_; }
  const SamplerState& state() const { return state_; }
  void restore(const SamplerState& state);

 private:
  void build_epoch();

  std::int64_t items_;
  std::uint64_t seed_;
  std::int32_t rank_;
  std::int32_t world_;
  std::int64_t per_rank_;
  SamplerState state_;
  std::vector<std::int64_t> order_;  // this rank's items of the current epoch
};

}  // namespace sslx::data
