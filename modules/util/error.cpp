#include "util/error.h"

namespace sslx {

Error::Error(const std::string& message, std::string hint)
    : std::runtime_error(message), hint_(std::move(hint)) {}

}  // namespace sslx
