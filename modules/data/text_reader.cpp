#include "data/text_reader.h"

#include <glob.h>

#include <algorithm>

#include "data/utf8.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

namespace sslx::data {
namespace stdfs = std::filesystem;

Separator parse_separator(const std::string& name) {
  if (name == "line") return Separator::kLine;
  if (name == "blank_line") return Separator::kBlankLine;
  if (name == "percent_line") return Separator::kPercentLine;
  throw Error("unknown document separator " + in_quotes(name),
              "use line, blank_line or percent_line");
}

std::vector<stdfs::path> expand_paths(const std::vector<std::string>& patterns) {
  std::vector<stdfs::path> paths;
  for (const auto& pattern : patterns) {
    if (pattern.find_first_of("*?[") == std::string::npos) {
      if (!stdfs::is_regular_file(pattern))
        throw IoError("corpus file " + pattern + " does not exist");
      paths.emplace_back(pattern);
      continue;
    }
    glob_t matches{};
    const int status = glob(pattern.c_str(), 0, nullptr, &matches);
    std::vector<stdfs::path> found;
    for (std::size_t i = 0; status == 0 && i < matches.gl_pathc; ++i) {
      if (stdfs::is_regular_file(matches.gl_pathv[i])) found.emplace_back(matches.gl_pathv[i]);
    }
    globfree(&matches);
    if (found.empty()) throw IoError("corpus pattern " + pattern + " matches no file");
    std::sort(found.begin(), found.end());
    paths.insert(paths.end(), found.begin(), found.end());
  }
  return paths;
}

std::vector<Document> read_text_documents(const stdfs::path& file, Separator separator,
                                          const std::string& label) {
  const std::string text = fs::read_text(file);
  if (const auto bad = find_invalid_utf8(text)) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(*bad), '\n');
    throw IoError(file.string() + ":" + std::to_string(line) + ": invalid UTF-8 at byte offset " +
                      std::to_string(*bad),
                  "convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)");
  }
  std::vector<Document> documents;
  std::string current;
  std::int64_t start_line = 1;
  const auto finish = [&](std::int64_t next_line) {
    std::string body = trim(current);
    if (!body.empty()) {
      Document document{.text = std::move(body), .source = file.string(), .line = start_line};
      if (!label.empty()) document.label = label;
      documents.push_back(std::move(document));
    }
    current.clear();
    start_line = next_line;
  };
  std::int64_t line_number = 0;
  for (const auto& raw : split(text, '\n')) {
    ++line_number;
    const std::string line =
        raw.empty() || raw.back() != '\r' ? raw : raw.substr(0, raw.size() - 1);
    switch (separator) {
      case Separator::kLine:
        current = line;
        finish(line_number + 1);
        break;
      case Separator::kBlankLine:
        if (trim(line).empty()) {
          finish(line_number + 1);
        } else {
          if (current.empty()) start_line = line_number;
          current += (current.empty() ? "" : "\n") + line;
        }
        break;
      case Separator::kPercentLine:
        if (line == "%") {
          finish(line_number + 1);
        } else {
          if (current.empty()) start_line = line_number;
          current += (current.empty() ? "" : "\n") + line;
        }
        break;
    }
  }
  finish(line_number + 1);
  return documents;
}

}  // namespace sslx::data
