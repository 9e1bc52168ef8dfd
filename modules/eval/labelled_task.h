// The labelled classification task of the probe and fine-tune evaluators: documents with a label
// (by default the fortune categories, docs/data.md), tokenized with the job's tokenizer, split
// by document hash with the job's [data] fractions — so the task's test documents are the LM's
// test documents, which pretraining never saw — and capped to a few thousand examples.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/node.h"
#include "config/schema.h"
#include "data/split.h"
#include "data/tokenizer.h"

namespace sslx::eval {

struct LabelledExamples {
  std::vector<std::vector<data::TokenId>> tokens;  // no special tokens, at most max_length
  std::vector<std::int64_t> labels;                // indices into LabelledTask::classes
};

struct LabelledTask {
  std::vector<std::string> classes;
  LabelledExamples train, test;
};

struct TaskOptions {
  std::filesystem::path directory;
  std::vector<std::string> classes;
  std::int64_t max_train = 2000;
  std::int64_t max_test = 600;
  std::int64_t max_length = 64;
  std::uint64_t seed = 0;
  data::SplitFractions fractions;
};

// Adds the task keys (directory, classes, max_train, max_test, max_length, seed) to a schema.
void add_task_fields(config::Schema& schema);
// The options of a validated evaluator table, with the split fractions of the job's [data].
TaskOptions task_options_from(const config::Node& options, const config::Node& root);

// Reads, splits, shuffles (seeded) and caps the examples; the examples of each split are the
// first max_* of a seeded shuffle. Throws when a split has no example or only one class.
LabelledTask load_labelled_task(const TaskOptions& options, const data::Tokenizer& tokenizer);

}  // namespace sslx::eval
