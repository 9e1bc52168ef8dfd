// The [classifier] table of a saved sequence classifier's config.toml: what the head
// "classifier_head" of its model.pt (architectures/heads.h ClassificationHead) is beyond its
// shapes. The fine-tune evaluator writes it (eval.finetune.save_model) and `sslx import` of a
// ...ForSequenceClassification directory does; `sslx export` reads it.
//
//   [classifier]
//   labels = ["computers", "food", "science"]  # one per row of classifier_head.proj.weight
//   pooling = "first"                          # what the head reads: first, last or mean
//   pooler = true                              # BERT's dense + tanh before the projection
#pragma once

#include <string>
#include <vector>

#include "config/node.h"

namespace sslx::arch {

struct ClassifierTable {
  std::vector<std::string> labels;
  std::string pooling = "first";
  bool pooler = false;
};

config::Node to_node(const ClassifierTable& table);

// The [classifier] table of `config`; throws IoError naming `file` and the key that is missing or
// mistyped, or a pooling that is not first, last or mean.
ClassifierTable read_classifier_table(const config::Node& config, const std::string& file);

}  // namespace sslx::arch
