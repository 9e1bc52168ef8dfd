// `sslx generate` on trained tiny runs: batched prompts and JSONL output, samples that depend on
// (seed, prompt number) only, encoder-decoders, clear refusals, and the interactive loop in a real
// terminal (tmux): tokens appear as they are produced and Ctrl-C stops a generation, not the
// program.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support.h"
#include "util/fs.h"
#include "util/strings.h"

namespace {

namespace stdfs = std::filesystem;
using sslx::test::run_sslx;

// A tiny byte-level model on one fortune category: rotary positions, so a generation can run on
// for as long as the interactive test needs.
std::string experiment(const std::string& arch) {
  return "defaults = [{ model = \"tiny\" }, { tokenizer = \"byte\" }]\nseed = 1\n"
         "[model]\narch = \"" +
         arch +
         "\"\npositions = \"rotary\"\nmax_positions = 100000\n"
         "[data]\nsource = \"fortunes\"\nclasses = [\"science\"]\n"
         "[trainer]\nmax_steps = 2\nbatch_size = 2\nsequence_length = 32\neval_every = 0\n"
         "[schedule]\nname = \"constant\"\nlr = 0.003\nwarmup_steps = 0\n";
}

// Trains `arch` into dir/<arch>/base once per test case.
void train(const sslx::test::TempDir& dir, const std::string& arch, const std::string& objective) {
  sslx::test::write_file(dir / (arch + ".toml"),
                         experiment(arch) + "[objective]\nname = \"" + objective + "\"\n");
  const auto run =
      run_sslx({"run", arch + ".toml", "--out", arch, "--config-dir", SSLX_SOURCE_DIR "/configs"},
               dir.path());
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
}

std::vector<nlohmann::json> read_jsonl(const stdfs::path& file) {
  std::vector<nlohmann::json> lines;
  for (const auto& line : sslx::split(sslx::fs::read_text(file), '\n'))
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// The same tokens, texts and finish reasons, and log-probabilities equal up to float32 rounding
// (a batch computes them in another order than one prompt alone).
bool same_samples(const std::vector<nlohmann::json>& a, const std::vector<nlohmann::json>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (const char* key : {"prompt", "completion", "tokens", "finish_reason"})
      if (a[i][key] != b[i][key]) return false;
    const auto &pa = a[i]["log_probs"], &pb = b[i]["log_probs"];
    if (pa.size() != pb.size()) return false;
    for (std::size_t n = 0; n < pa.size(); ++n)
      if (std::abs(pa[n].get<double>() - pb[n].get<double>()) > 1e-5) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("generate: batched prompts, JSONL, and samples that depend on seed and prompt only",
          "[generate]") {
  const sslx::test::TempDir dir;
  train(dir, "decoder", "clm");
  const std::vector<std::string> common = {
      "generate", "decoder/base",     "--prompt", "The ",   "--prompt", "Why", "--prompt",
      "",         "--max-new-tokens", "8",        "--seed", "2"};
  auto together = common;
  together.insert(together.end(), {"--batch-size", "3", "-o", "together.jsonl"});
  const auto first = run_sslx(together, dir.path());
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.err, Catch::Contains("tokens/s"));
  const auto lines = read_jsonl(dir / "together.jsonl");
  REQUIRE(lines.size() == 3);
  CHECK(lines[1]["prompt"] == "Why");
  for (const auto& line : lines) {
    const auto& log_probs = line["log_probs"];
    const std::string reason = line["finish_reason"];
    CHECK((reason == "eos" || reason == "length"));
    // Every generated token has a log-probability; a final EOS is not part of the text.
    CHECK(log_probs.size() == line["tokens"].size() + (reason == "eos" ? 1 : 0));
    CHECK(log_probs.size() <= 8);
    for (const auto& value : log_probs)
      CHECK(value.get<double>() <= 0.0);
  }
  // One prompt at a time: the same samples (each row draws from its own random stream).
  auto alone = common;
  alone.insert(alone.end(), {"--batch-size", "1", "-o", "alone.jsonl"});
  REQUIRE(run_sslx(alone, dir.path()).exit_code == 0);
  CHECK(same_samples(read_jsonl(dir / "alone.jsonl"), lines));
  // Another seed, other samples (the control that the comparison above can fail).
  auto reseeded = common;
  reseeded.back() = "3";
  reseeded.insert(reseeded.end(), {"-o", "reseeded.jsonl"});
  REQUIRE(run_sslx(reseeded, dir.path()).exit_code == 0);
  CHECK_FALSE(same_samples(read_jsonl(dir / "reseeded.jsonl"), lines));

  // Prompts from a JSONL file; greedy decoding ignores the seed.
  sslx::test::write_file(dir / "prompts.jsonl", "{\"prompt\": \"The \"}\n{\"prompt\": \"Why\"}\n");
  const std::vector<std::string> greedy = {
      "generate", "decoder/base",     "--prompts", "prompts.jsonl", "--temperature",
      "0",        "--max-new-tokens", "6"};
  auto greedy_a = greedy, greedy_b = greedy;
  greedy_a.insert(greedy_a.end(), {"--seed", "1", "-o", "greedy_a.jsonl"});
  greedy_b.insert(greedy_b.end(), {"--seed", "9", "-o", "greedy_b.jsonl"});
  REQUIRE(run_sslx(greedy_a, dir.path()).exit_code == 0);
  REQUIRE(run_sslx(greedy_b, dir.path()).exit_code == 0);
  CHECK(same_samples(read_jsonl(dir / "greedy_a.jsonl"), read_jsonl(dir / "greedy_b.jsonl")));
  CHECK(read_jsonl(dir / "greedy_a.jsonl").size() == 2);

  SECTION("bad requests are clear errors") {
    const auto nothing = run_sslx({"generate", "decoder/base"}, dir.path());
    CHECK(nothing.exit_code == 2);
    CHECK_THAT(nothing.err, Catch::Contains("nothing to generate from"));
    const auto bad_top_p =
        run_sslx({"generate", "decoder/base", "--prompt", "a", "--top-p", "1.5"}, dir.path());
    CHECK(bad_top_p.exit_code == 1);
    CHECK_THAT(bad_top_p.err, Catch::Contains("top_p"));
    sslx::test::write_file(dir / "broken.jsonl", "{\"text\": \"no prompt field\"}\n");
    const auto broken =
        run_sslx({"generate", "decoder/base", "--prompts", "broken.jsonl"}, dir.path());
    CHECK(broken.exit_code == 1);
    CHECK_THAT(broken.err, Catch::Contains("broken.jsonl") && Catch::Contains("prompt"));
    const auto nowhere = run_sslx({"generate", "nowhere", "--prompt", "a"}, dir.path());
    CHECK(nowhere.exit_code == 1);
    CHECK_THAT(nowhere.err, Catch::Contains("no model.pt in nowhere"));
  }
}

TEST_CASE("generate: encoder-decoders generate, encoders are refused", "[generate]") {
  const sslx::test::TempDir dir;
  train(dir, "encoder_decoder", "span_corruption");
  const auto run = run_sslx({"generate", "encoder_decoder/base", "--prompt", "Science is",
                             "--max-new-tokens", "5", "-o", "t5.jsonl"},
                            dir.path());
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  const auto lines = read_jsonl(dir / "t5.jsonl");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["log_probs"].size() >= 1);
  CHECK(lines[0]["log_probs"].size() <= 5);

  train(dir, "encoder", "mlm");
  const auto encoder = run_sslx({"generate", "encoder/base", "--prompt", "a"}, dir.path());
  CHECK(encoder.exit_code == 1);
  CHECK_THAT(encoder.err, Catch::Contains("is an encoder"));
}

namespace {

// A tmux server of the test's own (its socket named by the pid), killed when the test ends.
class Tmux {
 public:
  Tmux() : socket_("sslx-test-" + std::to_string(getpid())) {}
  ~Tmux() { (void)tmux({"kill-server"}); }
  sslx::test::CommandResult tmux(std::vector<std::string> arguments) const {
    arguments.insert(arguments.begin(), {SSLX_TMUX, "-L", socket_});
    return sslx::test::run_command(arguments);
  }
  std::string screen() const { return tmux({"capture-pane", "-p", "-t", "gen"}).out; }
  // Waits (polling, up to a minute) until `ready` holds for the screen; false when it never does.
  template <class Predicate>
  bool wait_for(Predicate ready) const {
    for (int i = 0; i < 600; ++i) {
      if (ready(screen())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

 private:
  std::string socket_;
};

// Lines of the screen that start with the prompt "sslx> " (tmux trims the trailing space).
std::size_t prompts(const std::string& screen) {
  std::size_t n = 0;
  for (const auto& line : sslx::split(screen, '\n'))
    if (line.starts_with("sslx>")) ++n;
  return n;
}

// Characters on the screen after the line that echoes `prompt` (the whole screen once that line
// has scrolled away): what the generation printed. The screen is a fixed window, so its size
// alone stops growing once an earlier generation has filled it.
std::size_t printed_after(const std::string& screen, const std::string& prompt) {
  const std::string echo = "sslx> " + prompt;
  const auto at = screen.rfind(echo);
  return at == std::string::npos ? screen.size() : screen.size() - (at + echo.size());
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("generate --interactive in a real terminal: streaming, Ctrl-C stops one generation",
          "[generate][tmux]") {
  const sslx::test::TempDir dir;
  train(dir, "decoder", "clm");
  const Tmux tmux;
  const std::string command =
      std::string("cd '") + dir.path().string() + "' && " + SSLX_BINARY +
      " generate decoder/base --interactive --min-new-tokens 50000 --max-new-tokens 50000 -o "
      "session.jsonl; echo $? > exit_code";
  REQUIRE(
      tmux.tmux({"new-session", "-d", "-s", "gen", "-x", "200", "-y", "50", command}).exit_code ==
      0);
  REQUIRE(tmux.wait_for([](const std::string& s) { return prompts(s) == 1; }));
  REQUIRE(tmux.tmux({"send-keys", "-t", "gen", "Hello", "Enter"}).exit_code == 0);
  // Tokens arrive while the generation runs: text appears after the echoed prompt.
  REQUIRE(tmux.wait_for([](const std::string& s) { return printed_after(s, "Hello") > 40; }));
  REQUIRE(tmux.tmux({"send-keys", "-t", "gen", "C-c"}).exit_code == 0);
  REQUIRE(tmux.wait_for([](const std::string& s) { return count(s, "[stopped]") == 1; }));
  // The program is still there: a second prompt, stopped the same way, then Ctrl-D quits.
  REQUIRE(tmux.wait_for([](const std::string& s) { return prompts(s) >= 2; }));
  REQUIRE(tmux.tmux({"send-keys", "-t", "gen", "Again", "Enter"}).exit_code == 0);
  REQUIRE(tmux.wait_for([](const std::string& s) { return printed_after(s, "Again") > 40; }));
  REQUIRE(tmux.tmux({"send-keys", "-t", "gen", "C-c"}).exit_code == 0);
  REQUIRE(tmux.wait_for([](const std::string& s) { return count(s, "[stopped]") == 2; }));
  REQUIRE(tmux.wait_for([](const std::string& s) { return prompts(s) >= 3; }));
  REQUIRE(tmux.tmux({"send-keys", "-t", "gen", "C-d"}).exit_code == 0);
  REQUIRE(
      tmux.wait_for([](const std::string& s) { return s.find("tokens/s") != std::string::npos; }));
  for (int i = 0; i < 600 && !stdfs::exists(dir / "exit_code"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(sslx::trim(sslx::fs::read_text(dir / "exit_code")) == "0");
  const auto lines = read_jsonl(dir / "session.jsonl");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["prompt"] == "Hello");
  CHECK(lines[1]["prompt"] == "Again");
  for (const auto& line : lines) {
    CHECK(line["finish_reason"] == "interrupted");
    CHECK(line["tokens"].size() > 0);
  }
}
