// Deterministic random streams: a stream is a pure function of (seed, name), so components draw
// from independent, reproducible sequences whatever order they are created in, and a stream's
// state is one integer that a checkpoint can save.
#pragma once

#include <cstdint>
#include <string_view>

namespace sslx {

// SplitMix64: tiny state, passes BigCrush, and jumping to any state is trivial.
class RngStream {
 public:
  explicit RngStream(std::uint64_t seed) : state_(seed) {}
  RngStream(std::uint64_t seed, std::string_view name);

  std::uint64_t next();
  // Uniform in [0, bound) without modulo bias.
  std::uint64_t uniform_below(std::uint64_t bound);
  // Uniform in [0, 1) with 53 random bits.
  double uniform01();

  std::uint64_t state() const { return state_; }
  void set_state(std::uint64_t state) { state_ = state; }

 private:
  std::uint64_t state_;
};

}  // namespace sslx
