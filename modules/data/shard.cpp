#include "data/shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "util/error.h"

namespace sslx::data {
namespace {

constexpr char kMagic[8] = {'S', 'S', 'L', 'X', 'T', 'O', 'K', '1'};
constexpr std::uint32_t kVersion = 1;

struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t bytes_per_token;
  std::uint64_t tokens;
  std::uint64_t documents;
  std::uint64_t offsets_position;
  std::uint64_t vocab_size;
  char reserved[16];
};
static_assert(sizeof(Header) == 64);

}  // namespace

void write_shard(const std::filesystem::path& path, const TokenCorpus& corpus,
                 std::int32_t vocab_size) {
  const std::uint32_t width = vocab_size <= 65536 ? 2 : 4;
  const std::uint64_t tokens = static_cast<std::uint64_t>(corpus.token_count());
  Header header{};
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.version = kVersion;
  header.bytes_per_token = width;
  header.tokens = tokens;
  header.documents = static_cast<std::uint64_t>(corpus.document_count());
  header.offsets_position = (sizeof(Header) + tokens * width + 7) / 8 * 8;
  header.vocab_size = static_cast<std::uint64_t>(vocab_size);

  const auto temporary = path.string() + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot write shard " + temporary);
    out.write(reinterpret_cast<const char*>(&header), sizeof header);
    std::vector<TokenId> buffer;
    std::vector<std::uint64_t> offsets{0};
    for (std::int64_t d = 0; d < corpus.document_count(); ++d) {
      const std::int64_t length = corpus.document_length(d);
      buffer.resize(static_cast<std::size_t>(length));
      corpus.copy_tokens(d, 0, length, buffer.data());
      for (TokenId id : buffer) {
        if (id < 0 || id >= vocab_size) {
          throw Error("token id " + std::to_string(id) + " outside the vocabulary of " +
                      std::to_string(vocab_size) + " while writing " + path.string());
        }
        if (width == 2) {
          const auto narrow = static_cast<std::uint16_t>(id);
          out.write(reinterpret_cast<const char*>(&narrow), 2);
        } else {
          const auto wide = static_cast<std::uint32_t>(id);
          out.write(reinterpret_cast<const char*>(&wide), 4);
        }
      }
      offsets.push_back(offsets.back() + static_cast<std::uint64_t>(length));
    }
    const std::uint64_t written = sizeof(Header) + tokens * width;
    const std::string padding(header.offsets_position - written, '\0');
    out.write(padding.data(), static_cast<std::streamsize>(padding.size()));
    out.write(reinterpret_cast<const char*>(offsets.data()),
              static_cast<std::streamsize>(offsets.size() * sizeof(std::uint64_t)));
    out.flush();
    if (!out) throw IoError("error while writing shard " + temporary);
  }
  std::filesystem::rename(temporary, path);
}

TokenShard::TokenShard(const std::filesystem::path& path) : path_(path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) throw IoError("cannot open token shard " + path.string());
  struct stat info {};
  fstat(fd, &info);
  mapped_size_ = static_cast<std::size_t>(info.st_size);
  if (mapped_size_ < sizeof(Header)) {
    close(fd);
    throw IoError(path.string() + " is not a token shard (too short)");
  }
  mapping_ = mmap(nullptr, mapped_size_, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    throw IoError("cannot memory-map " + path.string());
  }
  Header header;
  std::memcpy(&header, mapping_, sizeof header);
  const std::uint64_t expected_size =
      header.offsets_position + (header.documents + 1) * sizeof(std::uint64_t);
  if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0 || header.version != kVersion ||
      (header.bytes_per_token != 2 && header.bytes_per_token != 4) ||
      expected_size != mapped_size_) {
    munmap(mapping_, mapped_size_);
    mapping_ = nullptr;
    throw IoError(path.string() + " is not a valid version-1 token shard",
                  "delete the shard cache directory to rebuild it");
  }
  const auto* base = static_cast<const unsigned char*>(mapping_);
  tokens_ = base + sizeof(Header);
  offsets_ = reinterpret_cast<const std::uint64_t*>(base + header.offsets_position);
  documents_ = static_cast<std::int64_t>(header.documents);
  vocab_size_ = static_cast<std::int32_t>(header.vocab_size);
  bytes_per_token_ = static_cast<int>(header.bytes_per_token);
}

TokenShard::~TokenShard() {
  if (mapping_ != nullptr) munmap(mapping_, mapped_size_);
}

std::int64_t TokenShard::document_length(std::int64_t document) const {
  return static_cast<std::int64_t>(offsets_[document + 1] - offsets_[document]);
}

void TokenShard::copy_tokens(std::int64_t document, std::int64_t begin, std::int64_t count,
                             TokenId* out) const {
  const std::uint64_t start = offsets_[document] + static_cast<std::uint64_t>(begin);
  if (bytes_per_token_ == 2) {
    for (std::int64_t i = 0; i < count; ++i) {
      std::uint16_t value;
      std::memcpy(&value, tokens_ + (start + i) * 2, 2);
      out[i] = value;
    }
  } else {
    for (std::int64_t i = 0; i < count; ++i) {
      std::uint32_t value;
      std::memcpy(&value, tokens_ + (start + i) * 4, 4);
      out[i] = static_cast<TokenId>(value);
    }
  }
}

}  // namespace sslx::data
