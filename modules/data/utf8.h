// UTF-8 validation: corpus text must be valid UTF-8 (SentencePiece and every downstream tool
// assume it), and an invalid byte is reported with its position, not passed on.
#pragma once

#include <optional>
#include <string_view>

namespace sslx::data {

// The byte offset of the first invalid sequence, or nullopt when `text` is valid UTF-8
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

}  // namespace sslx::data
