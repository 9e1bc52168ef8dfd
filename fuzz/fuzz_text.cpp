// The plain-text reader with each separator (the first byte picks it; the rest is the file).
#include "data/text_reader.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto file = sslx::fuzz::write_input(sslx::fuzz::as_text(data + 1, size - 1), ".txt");
  static const sslx::data::Separator separators[] = {sslx::data::Separator::kLine,
                                                     sslx::data::Separator::kBlankLine,
                                                     sslx::data::Separator::kPercentLine};
  sslx::fuzz::expect_clean_errors(
      [&] { (void)sslx::data::read_text_documents(file, separators[data[0] % 3], "label"); });
  return 0;
}
