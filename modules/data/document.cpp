#include "data/document.h"

namespace sslx::data {

void SkipReport::add(const std::string& where, const std::string& reason) {
  ++skipped;
  if (examples.size() < 5) examples.push_back(where + ": " + reason);
}

std::string SkipReport::summary() const {
  if (skipped == 0) return {};
  std::string text = "skipped " + std::to_string(skipped) + " example(s)";
  for (const auto& example : examples)
    text += "\n  " + example;
  if (skipped > static_cast<std::int64_t>(examples.size())) text += "\n  ...";
  return text;
}

}  // namespace sslx::data
