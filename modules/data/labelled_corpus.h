// Labelled classification data from a directory of text files, one class per file (the label is
// the file name), and the embedded default: Debian's fortune collection.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/document.h"
#include "data/text_reader.h"

namespace sslx::data {

// Reads <directory>/<class> for each class (all regular files without an extension when
// `classes` is empty). A listed class without a file is an error naming it.
std::vector<Document> read_labelled_directory(const std::filesystem::path& directory,
                                              const std::vector<std::string>& classes,
                                              Separator separator);

// Where Debian's `fortunes` package puts its files.
inline const std::filesystem::path kFortunesDirectory = "/usr/share/games/fortunes";

// The fixed class list of the fortune classification task: the larger categories with distinct
// topics (docs/data.md lists their sizes).
const std::vector<std::string>& fortune_task_classes();

}  // namespace sslx::data
