// Objectives whose data are their own JSONL files with a train and a validation split (sft,
// reward_model, dpo, grpo, rloo): the config keys they share and the slice of a split that an
// evaluation batch reads. There is no test split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/schema.h"
#include "data/split.h"
#include "objectives/batch_indices.h"

namespace sslx::objectives {

// train_files, validation_files ("JSONL files of training <what>") and skip_malformed.
inline void add_file_split_fields(config::Schema& schema, const std::string& what) {
  schema.add({.key = "train_files",
              .type = config::Type::kArray,
              .doc = "JSONL files of training " + what,
              .element_type = config::Type::kString});
  schema.add({.key = "validation_files",
              .type = config::Type::kArray,
              .doc = "JSONL files of validation " + what,
              .element_type = config::Type::kString});
  schema.add({.key = "skip_malformed",
              .type = config::Type::kBool,
              .default_value = false,
              .doc = "count and skip malformed JSONL lines instead of failing"});
}

// init_from: a checkpoint directory to start from; `doc` says of which run.
inline void add_init_from_field(config::Schema& schema, const std::string& doc) {
  schema.add({.key = "init_from", .type = config::Type::kString, .default_value = "", .doc = doc});
}

// Items of evaluation batch `index` of `split`: empty past its end, and for the test split.
inline std::vector<std::int64_t> file_split_indices(data::Split split, std::int64_t index,
                                                    std::int64_t batch_size,
                                                    std::int64_t train_items,
                                                    std::int64_t validation_items) {
  if (split == data::Split::kTest) return {};
  return evaluation_indices(index, batch_size,
                            split == data::Split::kValidation ? validation_items : train_items);
}

}  // namespace sslx::objectives
