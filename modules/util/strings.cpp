#include "util/strings.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace sslx {

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_space(text[begin]))
    ++begin;
  while (end > begin && is_space(text[end - 1]))
    --end;
  return std::string(text.substr(begin, end - begin));
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> closest_matches(std::string_view word,
                                         const std::vector<std::string>& candidates,
                                         std::size_t max_results) {
  // A third of the word's length (at least 2) tolerates typical typos without suggesting
  // unrelated keys; containment catches abbreviations such as "lr" for "lr_max".
  const std::size_t tolerance = std::max<std::size_t>(2, word.size() / 3);
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    const bool contains = word.size() >= 2 && (candidate.find(word) != std::string::npos ||
                                               word.find(candidate) != std::string_view::npos);
    if (distance <= tolerance || contains) scored.emplace_back(distance, candidate);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> result;
  for (const auto& [distance, candidate] : scored) {
    if (result.size() == max_results) break;
    result.push_back(candidate);
  }
  return result;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const auto matches = closest_matches(word, candidates);
  if (matches.empty()) return {};
  std::vector<std::string> quoted_matches;
  for (const auto& match : matches)
    quoted_matches.push_back(in_quotes(match));
  return "did you mean " + join(quoted_matches, " or ") + "?";
}

std::string in_quotes(std::string_view text) {
  return "'" + std::string(text) + "'";
}

std::string format_duration(double seconds) {
  const auto total = static_cast<long long>(seconds);
  char buffer[32];
  if (total >= 3600) {
    std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", total / 3600, (total / 60) % 60);
  } else {
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", total / 60, total % 60);
  }
  return buffer;
}

}  // namespace sslx
