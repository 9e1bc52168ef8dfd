#include "data/labelled_corpus.h"

#include <algorithm>

#include "util/error.h"

namespace sslx::data {

std::vector<Document> read_labelled_directory(const std::filesystem::path& directory,
                                              const std::vector<std::string>& classes,
                                              Separator separator) {
  if (!std::filesystem::is_directory(directory)) {
    throw IoError("labelled corpus directory " + directory.string() + " does not exist",
                  directory == kFortunesDirectory ? "install Debian's fortunes package" : "");
  }
  std::vector<std::string> names = classes;
  if (names.empty()) {
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
      if (entry.is_regular_file() && !entry.path().has_extension()) {
        names.push_back(entry.path().filename().string());
      }
    }
    std::sort(names.begin(), names.end());
  }
  std::vector<Document> documents;
  for (const auto& name : names) {
    const auto file = directory / name;
    if (!std::filesystem::is_regular_file(file)) {
      throw IoError("class " + name + " has no file " + file.string());
    }
    auto part = read_text_documents(file, separator, name);
    documents.insert(documents.end(), std::make_move_iterator(part.begin()),
                     std::make_move_iterator(part.end()));
  }
  if (documents.empty()) throw IoError("labelled corpus " + directory.string() + " is empty");
  return documents;
}

const std::vector<std::string>& fortune_task_classes() {
  static const std::vector<std::string> classes{"computers", "definitions", "men-women",   "people",
                                                "politics",  "science",     "songs-poems", "work"};
  return classes;
}

}  // namespace sslx::data
