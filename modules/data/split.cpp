#include "data/split.h"

#include "util/hash.h"

namespace sslx::data {

std::string to_string(Split split) {
  switch (split) {
    case Split::kTrain:
      return "train";
    case Split::kValidation:
      return "val";
    case Split::kTest:
      return "test";
  }
  return "?";
}

Split split_of(std::string_view document_text, SplitFractions fractions) {
  // The top 53 bits of the hash as a uniform number in [0, 1).
  const double u =
      static_cast<double>(Hasher().add("sslx-split-v1").add(document_text).digest() >> 11) *
      0x1.0p-53;
  if (u < fractions.validation) return Split::kValidation;
  if (u < fractions.validation + fractions.test) return Split::kTest;
  return Split::kTrain;
}

}  // namespace sslx::data
