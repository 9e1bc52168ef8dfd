#include "util/rng.h"

#include "util/hash.h"

namespace sslx {

RngStream::RngStream(std::uint64_t seed, std::string_view name)
    : state_(Hasher().add(seed).add(name).digest()) {}

std::uint64_t RngStream::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t RngStream::uniform_below(std::uint64_t bound) {
  // Rejection sampling on the top of the range keeps every value equally likely.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t value;
  do {
    value = next();
  } while (value >= limit);
  return value % bound;
}

double RngStream::uniform01() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

}  // namespace sslx
