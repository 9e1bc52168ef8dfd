// The topic_match reward's naive Bayes classifier against posteriors worked out by hand.
#include <catch2/catch.hpp>

#include "objectives/topic_classifier.h"

using namespace sslx;

namespace {

data::Document labelled(const std::string& text, const std::string& label) {
  return {.text = text, .source = "test", .line = 1, .label = label};
}

}  // namespace

TEST_CASE("words are lower-cased runs of letters and apostrophes") {
  CHECK(objectives::words_of("Don't PANIC -- 42 times!") ==
        std::vector<std::string>{"don't", "panic", "times"});
  CHECK(objectives::words_of(" \n\t").empty());
}

TEST_CASE("the topic classifier's posterior is naive Bayes with Laplace smoothing") {
  // cats: cat x2, meows, purrs (4 words); dogs: dog x2, barks (3); vocabulary of 5.
  const objectives::TopicClassifier classifier(
      {labelled("cat meows", "cats"), labelled("Cat purrs", "cats"), labelled("dog barks", "dogs"),
       labelled("dog", "dogs")},
      1.0);
  REQUIRE(classifier.classes() == std::vector<std::string>{"cats", "dogs"});
  // P(cat | cats) = 3/9, P(cat | dogs) = 1/8: posterior of cats = (1/3) / (1/3 + 1/8) = 8/11.
  CHECK(classifier.posterior("A cat!")[0] == Approx(8.0 / 11.0).epsilon(1e-12));
  // cat and dog: cats 1/3 * 1/9 = 1/27, dogs 1/8 * 3/8 = 3/64 -> 64 / 145; unknown words ignored.
  CHECK(classifier.posterior("the cat and the dog")[0] == Approx(64.0 / 145.0).epsilon(1e-12));
  // Nothing known: the uniform prior.
  CHECK(classifier.posterior("")[1] == Approx(0.5));
  CHECK(classifier.posterior("zebra")[0] == Approx(0.5));
  // A heavier smoothing pulls the posterior towards uniform: P(cat | cats) = (2 + 3) / (4 + 15),
  // P(cat | dogs) = 3 / (3 + 15).
  const objectives::TopicClassifier smooth(
      {labelled("cat meows", "cats"), labelled("Cat purrs", "cats"), labelled("dog barks", "dogs"),
       labelled("dog", "dogs")},
      3.0);
  CHECK(smooth.posterior("cat")[0] ==
        Approx((5.0 / 19.0) / (5.0 / 19.0 + 3.0 / 18.0)).epsilon(1e-12));
}

TEST_CASE("a prompt asks for the longest class name it contains, '-' read as ' and '") {
  const objectives::TopicClassifier classifier(
      {labelled("x", "men"), labelled("y", "men-women"), labelled("z", "work")}, 1.0);
  CHECK(classifier.requested_class("A fortune about men and women:\n") == std::size_t{1});
  CHECK(classifier.requested_class("A fortune about men:\n") == std::size_t{0});
  CHECK(classifier.requested_class("A fortune about work:\n") == std::size_t{2});
  CHECK_FALSE(classifier.requested_class("A fortune about fish:\n").has_value());
  CHECK_THROWS_WITH(objectives::TopicClassifier({labelled("x", "only")}, 1.0),
                    Catch::Contains("at least 2 classes"));
}
