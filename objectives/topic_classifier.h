// A multinomial naive Bayes topic classifier over lower-cased words: the `topic_match` reward's
// scorer. It is deliberately unlike a neural reward model (bag of words, counts over whole
// classes of a labelled corpus), so that a policy over-optimising a learned reward model shows
// as a gap between the two scores.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/document.h"

namespace sslx::objectives {

// The lower-cased ASCII words of `text` (runs of letters and apostrophes), in order.
std::vector<std::string> words_of(const std::string& text);

class TopicClassifier {
 public:
  // Counts the words of every document under its label (documents without one are an error).
  // `smoothing` is the additive (Laplace) pseudo-count of every word in every class.
  TopicClassifier(const std::vector<data::Document>& documents, double smoothing);

  const std::vector<std::string>& classes() const { return classes_; }
  // P(class | text) under a uniform prior over the classes; words never seen in training are
  // ignored, so a text without known words gets the uniform 1/K.
  std::vector<double> posterior(const std::string& text) const;
  // The class a prompt asks for: the longest class name found in `prompt`, with '-' in a name
  // read as " and " ("men-women" is asked for as "men and women"); nullopt when none is.
  std::optional<std::size_t> requested_class(const std::string& prompt) const;

 private:
  std::vector<std::string> classes_;
  // word -> log P(word | class) for every class
  std::unordered_map<std::string, std::vector<double>> log_likelihood_;
};

}  // namespace sslx::objectives
