#include "eval/labelled_task.h"

#include <algorithm>
#include <set>

#include "data/labelled_corpus.h"
#include "util/error.h"
#include "util/rng.h"

namespace sslx::eval {

void add_task_fields(config::Schema& schema) {
  schema.add({.key = "directory",
              .type = config::Type::kString,
              .default_value = data::kFortunesDirectory.string(),
              .doc = "labelled data: a directory with one file of %-separated entries per class"});
  config::Array classes;
  for (const auto& name : data::fortune_task_classes())
    classes.emplace_back(name);
  schema.add({.key = "classes",
              .type = config::Type::kArray,
              .default_value = config::Node(classes),
              .doc = "the classes (file names in `directory`); default: the fortune task's eight",
              .element_type = config::Type::kString});
  schema.add({.key = "max_train",
              .type = config::Type::kInt,
              .default_value = 2000,
              .doc = "training examples at most (a seeded sample of the train split)",
              .min = 1});
  schema.add({.key = "max_test",
              .type = config::Type::kInt,
              .default_value = 600,
              .doc = "test examples at most (a seeded sample of the test split)",
              .min = 1});
  schema.add({.key = "max_length",
              .type = config::Type::kInt,
              .default_value = 64,
              .doc = "tokens per example at most (longer ones keep their beginning)",
              .min = 1});
  schema.add(
      {.key = "seed",
       .type = config::Type::kInt,
       .default_value = 0,
       .doc = "seed of the example sample (finetune: also of the head and the example order)",
       .min = 0});
}

TaskOptions task_options_from(const config::Node& options, const config::Node& root) {
  TaskOptions task{.directory = options.get_string("directory"),
                   .max_train = options.get_int("max_train"),
                   .max_test = options.get_int("max_test"),
                   .max_length = options.get_int("max_length"),
                   .seed = static_cast<std::uint64_t>(options.get_int("seed"))};
  for (const auto& name : options.at_path("classes").as_array())
    task.classes.push_back(name.as_string());
  if (const auto* data = root.find_path("data")) {
    if (const auto* value = data->find("val_fraction"))
      task.fractions.validation = value->as_float();
    if (const auto* value = data->find("test_fraction")) task.fractions.test = value->as_float();
  }
  return task;
}

namespace {

LabelledExamples take(std::vector<const data::Document*> documents, std::int64_t limit,
                      RngStream& rng, const TaskOptions& options, const data::Tokenizer& tokenizer,
                      const std::vector<std::string>& classes) {
  // Fisher-Yates with the task's stream: the sample does not depend on file order.
  for (std::size_t i = documents.size(); i > 1; --i)
    std::swap(documents[i - 1], documents[rng.uniform_below(i)]);
  if (static_cast<std::int64_t>(documents.size()) > limit) documents.resize(limit);
  LabelledExamples examples;
  for (const auto* document : documents) {
    auto ids = tokenizer.encode(document->text);
    if (ids.empty()) continue;  // an entry of only whitespace carries nothing to classify
    if (static_cast<std::int64_t>(ids.size()) > options.max_length) ids.resize(options.max_length);
    examples.tokens.push_back(std::move(ids));
    examples.labels.push_back(std::find(classes.begin(), classes.end(), *document->label) -
                              classes.begin());
  }
  return examples;
}

void require_usable(const LabelledExamples& examples, const std::string& split,
                    const TaskOptions& options) {
  const std::set<std::int64_t> present(examples.labels.begin(), examples.labels.end());
  if (present.size() < 2) {
    throw Error(
        "the labelled task's " + split + " split has " + std::to_string(examples.labels.size()) +
            " examples of " + std::to_string(present.size()) +
            " classes; a classifier needs two or more",
        "give more data in " + options.directory.string() + " or a larger data.test_fraction");
  }
}

}  // namespace

LabelledTask load_labelled_task(const TaskOptions& options, const data::Tokenizer& tokenizer) {
  const auto documents = data::read_labelled_directory(options.directory, options.classes,
                                                       data::Separator::kPercentLine);
  LabelledTask task;
  task.classes = options.classes;
  if (task.classes.empty()) {
    std::set<std::string> labels;
    for (const auto& document : documents)
      labels.insert(*document.label);
    task.classes.assign(labels.begin(), labels.end());
  }
  std::vector<const data::Document*> train, test;
  for (const auto& document : documents) {
    const data::Split split = data::split_of(document.text, options.fractions);
    if (split == data::Split::kTrain) train.push_back(&document);
    if (split == data::Split::kTest) test.push_back(&document);
  }
  RngStream rng(options.seed, "labelled_task");
  task.train = take(train, options.max_train, rng, options, tokenizer, task.classes);
  task.test = take(test, options.max_test, rng, options, tokenizer, task.classes);
  require_usable(task.train, "train", options);
  require_usable(task.test, "test", options);
  return task;
}

}  // namespace sslx::eval
