#include <catch2/catch.hpp>

#include <limits>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log/h5.h"
#include "log/run_log.h"
#include "support.h"
#include "util/error.h"
#include "util/fs.h"

using namespace sslx;
using log::RunStatus;

TEST_CASE("a closed log reads back with metrics, summaries, eval and root attributes") {
  test::TempDir dir;
  const auto path = dir / "log.h5";
  {
    auto writer = log::RunLogWriter::create(path, "seed = 3\n");
    for (int step = 0; step < 2500; ++step)
      writer.log("train", "loss", step, 10.0 - step * 0.001);
    writer.log("val", "loss", 0, 5.0);
    writer.log("val", "loss", 100, 3.0);
    writer.log("val", "loss", 200, 4.0);
    writer.set_eval("probe_accuracy", 0.625);
    writer.close(RunStatus::kCompleted);
  }
  const log::RunLogReader reader(path);
  CHECK(reader.format_version() == log::kFormatVersion);
  CHECK(reader.status() == RunStatus::kCompleted);
  CHECK(reader.attribute("config") == "seed = 3\n");
  CHECK_FALSE(reader.attribute("end_time").empty());
  CHECK(reader.metrics() ==
        std::vector<std::pair<std::string, std::string>>{{"train", "loss"}, {"val", "loss"}});
  const auto train = reader.read("train", "loss");
  REQUIRE(train.steps.size() == 2500);
  CHECK(train.steps[1234] == 1234);
  CHECK(train.values[1234] == 10.0 - 1234 * 0.001);
  CHECK(train.times.back() >= train.times.front());
  const auto val = reader.summary("val", "loss");
  CHECK(val.count == 3);
  CHECK(val.min == 3.0);
  CHECK(val.min_step == 100);
  CHECK(val.last == 4.0);
  CHECK(reader.eval().at("probe_accuracy") == 0.625);
}

TEST_CASE("truncate_after cuts rows past a checkpoint so a resumed run has no duplicates") {
  test::TempDir dir;
  const auto path = dir / "log.h5";
  {
    auto writer = log::RunLogWriter::create(path, "");
    for (int step = 0; step < 100; ++step)
      writer.log("train", "loss", step, step);
    writer.flush();
    for (int step = 100; step < 120; ++step)
      writer.log("train", "loss", step, step);  // buffered
  }                                             // destroyed without close: marked interrupted
  CHECK(log::RunLogReader(path).status() == RunStatus::kInterrupted);
  {
    auto writer = log::RunLogWriter::reopen(path);
    writer.truncate_after(49);
    for (int step = 50; step < 80; ++step)
      writer.log("train", "loss", step, -step);
    writer.close(RunStatus::kCompleted);
  }
  const log::RunLogReader reader(path);
  CHECK(reader.status() == RunStatus::kCompleted);
  const auto series = reader.read("train", "loss");
  REQUIRE(series.steps.size() == 80);
  for (std::size_t i = 0; i < series.steps.size(); ++i)
    CHECK(series.steps[i] == (long)i);
  CHECK(series.values[49] == 49.0);
  CHECK(series.values[50] == -50.0);
}

TEST_CASE("texts of evaluations during training are kept by step, and cut with the rows") {
  test::TempDir dir;
  const auto path = dir / "log.h5";
  {
    auto writer = log::RunLogWriter::create(path, "");
    writer.log_texts(10, {{"sample_00", "A fortune about work:\n--- response ---\nfirst"}});
    writer.log_texts(20, {{"sample_00", "second"}, {"sample_01", "third"}});
    writer.log_texts(30, {});   // nothing to keep: no group
    writer.truncate_after(15);  // a resume from step 15 takes step 20 again
    writer.log_texts(20, {{"sample_00", "again"}});
    writer.close(RunStatus::kCompleted);
  }
  log::write_evaluation(path, {}, {{"generate/sample_0", "final"}});
  const log::RunLogReader reader(path);
  const auto texts = reader.training_texts();
  REQUIRE(texts.size() == 2);
  CHECK(texts.at(10).at("sample_00") == "A fortune about work:\n--- response ---\nfirst");
  CHECK(texts.at(20).size() == 1);
  CHECK(texts.at(20).at("sample_00") == "again");
  // The final evaluation's texts stay apart from them.
  CHECK(reader.eval_texts() == std::map<std::string, std::string>{{"generate/sample_0", "final"}});
}

TEST_CASE("bad names and missing files give clear errors") {
  test::TempDir dir;
  auto writer = log::RunLogWriter::create(dir / "log.h5", "");
  CHECK_THROWS_WITH(writer.log("train", "a/b", 0, 1.0), Catch::Contains("invalid metric name"));
  CHECK_THROWS_WITH(log::RunLogWriter::create(dir / "log.h5", ""), Catch::Contains("exist"));
  CHECK_THROWS_AS(log::RunLogReader(dir / "missing.h5"), IoError);
  test::write_file(dir / "text.h5", "not hdf5");
  CHECK_THROWS_WITH(log::RunLogReader(dir / "text.h5"), Catch::Contains("not a readable HDF5"));
}

namespace {

// A completed log in `dir` with one row of train/loss (step 7); returns its path.
std::filesystem::path write_one_row_log(const test::TempDir& dir) {
  const auto path = dir / "log.h5";
  auto writer = log::RunLogWriter::create(path, "seed = 3\n");
  writer.log("train", "loss", 7, 2.0);
  writer.close(RunStatus::kCompleted);
  return path;
}

}  // namespace

TEST_CASE("a log whose HDF5 global heap would make HDF5 loop forever is refused with its byte") {
  // Found by fuzz/fuzz_run_log.cpp: HDF5 1.10 advances through a global heap collection by the
  // size of its free-space object (index 0), so a size of 0 there hangs the reader for good.
  test::TempDir dir;
  const auto path = write_one_row_log(dir);
  CHECK(log::RunLogReader(path).status() == RunStatus::kCompleted);  // the control
  std::string bytes = fs::read_text(path);
  const auto collection = bytes.find("GCOL");  // the strings of the root attributes live here
  REQUIRE(collection != std::string::npos);
  // Its first object becomes the free-space object (index 0) with a size of 0.
  bytes.replace(collection + 16, 2, std::string(2, '\0'));
  bytes.replace(collection + 24, 8, std::string(8, '\0'));
  test::write_file(path, bytes);
  CHECK_THROWS_WITH(log::RunLogReader(path), Catch::Contains(path.string() +
                                                             " is corrupted: the HDF5 global heap "
                                                             "collection at byte " +
                                                             std::to_string(collection)));
}

TEST_CASE("a series whose damaged extent claims more values than the file stores is refused") {
  // Found by fuzz/fuzz_run_log.cpp: the reader sized its buffer from the extent alone and asked
  // for gigabytes. The file is the fuzzer's input, a 4-step run's log with one extent changed.
  const std::string path = SSLX_SOURCE_DIR "/tests/data/run_log_huge_extent.h5";
  const log::RunLogReader reader(path);
  std::string errors;
  for (const auto& [split, name] : reader.metrics()) {
    try {
      (void)reader.read(split, name);
    } catch (const IoError& error) {
      errors += std::string(error.what()) + "\n";
    }
  }
  CHECK_THAT(errors, Catch::Contains(" values but stores "));
}

TEST_CASE("a damaged summary count or step (infinity, a fraction) is an error, not a cast") {
  // Found by fuzz/fuzz_run_log.cpp (UndefinedBehaviorSanitizer): summaries converted whatever
  // double the file held to an integer, which is undefined for infinity and NaN.
  test::TempDir dir;
  const auto path = write_one_row_log(dir);
  CHECK(log::RunLogReader(path).summary("train", "loss").count == 1);  // the control
  for (const double damaged : {std::numeric_limits<double>::infinity(), 2.5, 1e300}) {
    {
      const auto file = h5::open_file(path.string(), /*read_only=*/false);
      const auto group = h5::open_group(file.get(), "summary/train/loss");
      h5::write_attribute(group.get(), "last_step", damaged);
    }
    CHECK_THROWS_WITH(
        log::RunLogReader(path).summary("train", "loss"),
        Catch::Contains("attribute last_step of " + path.string() + ":/summary/train/loss holds") &&
            Catch::Contains("not a whole number"));
  }
}

TEST_CASE("a writer killed with SIGKILL leaves a readable log with every flushed row") {
  test::TempDir dir;
  const auto path = dir / "log.h5";
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    execl(SSLX_LOG_WRITER_CHILD, SSLX_LOG_WRITER_CHILD, path.c_str(), "1050", "100", "wait",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipe_fds[1]);
  char buffer[16] = {};
  const ssize_t got = read(pipe_fds[0], buffer, sizeof buffer - 1);
  close(pipe_fds[0]);
  REQUIRE(got > 0);
  REQUIRE(std::string(buffer).rfind("ready", 0) == 0);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));

  const log::RunLogReader reader(path);
  CHECK(reader.status() == RunStatus::kRunning);  // it never got to say otherwise
  const auto series = reader.read("train", "loss");
  // Flushed every 100 rows: rows 0..999 are on disk, 1000..1049 were still buffered.
  REQUIRE(series.steps.size() == 1000);
  for (std::size_t i = 0; i < series.steps.size(); ++i) {
    REQUIRE(series.steps[i] == static_cast<std::int64_t>(i));
    REQUIRE(series.values[i] == static_cast<double>(i) * 0.5);
  }
}
