// Deterministic train/validation/test split by document hash: a document's split depends only on
// its text, so appending files never moves an existing document to another split.
#pragma once

#include <string>
#include <string_view>

namespace sslx::data {

enum class Split { kTrain, kValidation, kTest };
std::string to_string(Split split);  // "train", "val", "test"

struct SplitFractions {
  double validation = 0.05;
  double test = 0.05;
};

Split split_of(std::string_view document_text, SplitFractions fractions);

}  // namespace sslx::data
