#include "util/hash.h"

#include <cstdio>

namespace sslx {

Hasher& Hasher::add(std::string_view bytes) {
  for (unsigned char byte : bytes) {
    state_ ^= byte;
    state_ *= 0x100000001b3ULL;
  }
  return *this;
}

Hasher& Hasher::add(std::uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return add(std::string_view(bytes, 8));
}

std::uint64_t Hasher::digest() const {
  std::uint64_t h = state_;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::string Hasher::hex() const {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(digest()));
  return buffer;
}

std::uint64_t hash64(std::string_view bytes) {
  return Hasher().add(bytes).digest();
}

}  // namespace sslx
