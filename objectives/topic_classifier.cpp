#include "objectives/topic_classifier.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "util/error.h"

namespace sslx::objectives {

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : text + " ") {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '\'';
    if (letter) {
      word += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  return words;
}

TopicClassifier::TopicClassifier(const std::vector<data::Document>& documents, double smoothing) {
  if (smoothing <= 0) throw Error("topic classifier: smoothing must be > 0");
  std::map<std::string, std::size_t> class_index;
  std::unordered_map<std::string, std::vector<double>> counts;
  for (const auto& document : documents) {
    if (!document.label) {
      throw Error("topic classifier: " + document.source + ":" + std::to_string(document.line) +
                  " has no class label");
    }
    const auto [it, added] = class_index.emplace(*document.label, classes_.size());
    if (added) classes_.push_back(*document.label);
  }
  if (classes_.size() < 2) throw Error("topic classifier: needs documents of at least 2 classes");
  const std::size_t k = classes_.size();
  std::vector<double> totals(k, 0);
  for (const auto& document : documents) {
    const std::size_t c = class_index.at(*document.label);
    for (const auto& word : words_of(document.text)) {
      auto& row = counts[word];
      row.resize(k, 0);
      row[c] += 1;
      totals[c] += 1;
    }
  }
  const auto vocabulary = static_cast<double>(counts.size());
  for (auto& [word, row] : counts) {
    for (std::size_t c = 0; c < k; ++c)
      row[c] = std::log((row[c] + smoothing) / (totals[c] + smoothing * vocabulary));
    log_likelihood_.emplace(word, std::move(row));
  }
}

std::vector<double> TopicClassifier::posterior(const std::string& text) const {
  std::vector<double> log_joint(classes_.size(), 0);
  for (const auto& word : words_of(text)) {
    const auto it = log_likelihood_.find(word);
    if (it == log_likelihood_.end()) continue;
    for (std::size_t c = 0; c < classes_.size(); ++c)
      log_joint[c] += it->second[c];
  }
  const double top = *std::max_element(log_joint.begin(), log_joint.end());
  double total = 0;
  for (double& value : log_joint) {
    value = std::exp(value - top);
    total += value;
  }
  for (double& value : log_joint)
    value /= total;
  return log_joint;
}

std::optional<std::size_t> TopicClassifier::requested_class(const std::string& prompt) const {
  std::optional<std::size_t> best;
  std::size_t best_length = 0;
  for (std::size_t c = 0; c < classes_.size(); ++c) {
    std::string asked;
    for (const char ch : classes_[c])
      asked += ch == '-' ? std::string(" and ") : std::string(1, ch);
    if (asked.size() > best_length && prompt.find(asked) != std::string::npos) {
      best = c;
      best_length = asked.size();
    }
  }
  return best;
}

}  // namespace sslx::objectives
