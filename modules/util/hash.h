// Stable 64-bit hashing: FNV-1a over the bytes, then MurmurHash3's fmix64 finaliser, which
// spreads every input bit over all output bits (plain FNV-1a leaves the top bits of similar short
// strings correlated, which would skew a split by hash). Identical on every machine and run,
// unlike std::hash. Used for cache keys and the deterministic train/validation/test split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sslx {

class Hasher {
 public:
  Hasher& add(std::string_view bytes);
  Hasher& add(std::uint64_t value);  // as 8 little-endian bytes
  std::uint64_t digest() const;
  std::string hex() const;  // 16 lowercase hex digits

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

std::uint64_t hash64(std::string_view bytes);

}  // namespace sslx
