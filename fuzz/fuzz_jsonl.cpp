// The JSONL readers, each format, strict and with skip_malformed. The first byte picks the
// format and the mode; the rest is the file.
#include "data/jsonl_reader.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto file = sslx::fuzz::write_input(sslx::fuzz::as_text(data + 1, size - 1), ".jsonl");
  const sslx::data::JsonlOptions options{.fields = {}, .skip_malformed = (data[0] & 8) != 0};
  sslx::data::SkipReport skips;
  sslx::fuzz::expect_clean_errors([&] {
    switch (data[0] % 5) {
      case 0:
        (void)sslx::data::read_jsonl_documents(file, false, options, skips);
        break;
      case 1:
        (void)sslx::data::read_jsonl_documents(file, true, options, skips);
        break;
      case 2:
        (void)sslx::data::read_jsonl_prompt_completion(file, options, skips);
        break;
      case 3:
        (void)sslx::data::read_jsonl_conversations(file, options, skips);
        break;
      default:
        (void)sslx::data::read_jsonl_preferences(file, options, skips);
        break;
    }
    (void)skips.summary();
  });
  return 0;
}
