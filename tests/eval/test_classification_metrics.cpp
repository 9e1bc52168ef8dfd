// Accuracy, macro-F1 and the majority baseline against values computed by hand.
#include "nn/torch_catch.h"

#include "eval/classification_metrics.h"

using namespace sslx::eval;

TEST_CASE("metrics: a 3-class confusion, by hand") {
  // truth 0 0 0 0 1 1 2 2, predicted 0 0 0 1 1 2 2 0
  const Confusion confusion = Confusion::of({0, 0, 0, 0, 1, 1, 2, 2}, {0, 0, 0, 1, 1, 2, 2, 0}, 3);
  CHECK(confusion.at(0, 0) == 3);
  CHECK(confusion.at(0, 1) == 1);
  CHECK(confusion.at(2, 0) == 1);
  CHECK(confusion.total() == 8);
  CHECK(accuracy(confusion) == Approx(5.0 / 8));
  // F1: class 0 = 2*3/(4+4) = 0.75, class 1 = 2*1/(2+2) = 0.5, class 2 = 2*1/(2+2) = 0.5
  CHECK(macro_f1(confusion) == Approx((0.75 + 0.5 + 0.5) / 3));
}

TEST_CASE("metrics: on an imbalanced set macro-F1 exposes the constant classifier") {
  // Nine of class 0, one of class 1, everything predicted as 0.
  const std::vector<std::int64_t> truth{0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const Confusion confusion = Confusion::of(truth, std::vector<std::int64_t>(10, 0), 2);
  CHECK(accuracy(confusion) == Approx(0.9));
  // class 0: 2*9/(9+10) = 18/19; class 1: never predicted right = 0
  CHECK(macro_f1(confusion) == Approx(18.0 / 19 / 2));
  CHECK(macro_f1(confusion) < accuracy(confusion) - 0.4);
}

TEST_CASE("metrics: classes absent from truth and predictions do not count in macro-F1") {
  const Confusion confusion = Confusion::of({0, 1, 1}, {0, 1, 1}, 4);
  CHECK(macro_f1(confusion) == Approx(1.0));
  // A class predicted but never true counts (with F1 0).
  CHECK(macro_f1(Confusion::of({0, 0}, {0, 3}, 4)) == Approx((2.0 / 3 + 0.0) / 2));
}

TEST_CASE("metrics: majority baseline takes the train majority, scored on test") {
  CHECK(majority_accuracy({1, 1, 0, 2}, {1, 0, 0, 1, 2}, 3) == Approx(0.4));
  // The test split's own majority (0) would give 0.5: the baseline must not peek at test.
  CHECK(majority_accuracy({1, 1, 0}, {0, 0, 1, 1, 0, 1}, 2) == Approx(0.5));
  CHECK(majority_accuracy({1, 1, 0}, {0, 0, 0, 1}, 2) == Approx(0.25));
  CHECK(majority_accuracy({0, 1}, {0, 1, 1}, 2) == Approx(1.0 / 3));  // tie: the lower index
}

TEST_CASE("metrics: bad input is refused with the values") {
  CHECK_THROWS_WITH(Confusion::of({0, 1}, {0}, 2), Catch::Contains("2 true labels but 1"));
  CHECK_THROWS_WITH(Confusion::of({0, 2}, {0, 1}, 2), Catch::Contains("label 2 is outside"));
  CHECK_THROWS(accuracy(Confusion::of({}, {}, 2)));
}
