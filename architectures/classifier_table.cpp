#include "architectures/classifier_table.h"

#include "util/error.h"

namespace sslx::arch {

config::Node to_node(const ClassifierTable& table) {
  config::Array labels;
  for (const auto& label : table.labels)
    labels.emplace_back(label);
  config::Node node;
  node.set("labels", config::Node(std::move(labels)));
  node.set("pooling", table.pooling);
  node.set("pooler", table.pooler);
  return node;
}

ClassifierTable read_classifier_table(const config::Node& config, const std::string& file) {
  const config::Node* table = config.find("classifier");
  const std::string expected =
      "a saved classifier's config.toml has [classifier] with labels (strings), pooling "
      "(first, last or mean) and pooler (true or false)";
  if (table == nullptr) throw IoError(file + " has no [classifier] table", expected);
  const auto key = [&](const char* name, config::Kind kind) -> const config::Node& {
    const config::Node* node = table->find(name);
    if (node == nullptr || node->kind() != kind)
      throw IoError(file + ": classifier." + name + " is missing or of the wrong type", expected);
    return *node;
  };
  ClassifierTable result;
  for (const auto& label : key("labels", config::Kind::kArray).as_array()) {
    if (!label.is_string())
      throw IoError(file + ": classifier.labels holds a value that is not a string", expected);
    result.labels.push_back(label.as_string());
  }
  if (result.labels.empty()) throw IoError(file + ": classifier.labels is empty", expected);
  result.pooling = key("pooling", config::Kind::kString).as_string();
  if (result.pooling != "first" && result.pooling != "last" && result.pooling != "mean")
    throw IoError(file + ": classifier.pooling is \"" + result.pooling + "\"", expected);
  result.pooler = key("pooler", config::Kind::kBool).as_bool();
  return result;
}

}  // namespace sslx::arch
