// Small string helpers shared by the config, the registries and the CLI.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sslx {

std::vector<std::string> split(std::string_view text, char separator);
std::string join(const std::vector<std::string>& parts, std::string_view separator);
std::string trim(std::string_view text);
bool starts_with(std::string_view text, std::string_view prefix);

// Levenshtein distance, used for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidates closest to `word` (at most `max_results`), nearest first. A candidate qualifies
// when its distance is small relative to the word length, or when one contains the other.
std::vector<std::string> closest_matches(std::string_view word,
                                         const std::vector<std::string>& candidates,
                                         std::size_t max_results = 3);

// "did you mean 'a' or 'b'?" or an empty string when nothing is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// Quote a string for messages: 'text'.
std::string in_quotes(std::string_view text);

// A duration for progress lines and ETAs: "4m07s", or "1h05m" from an hour on.
std::string format_duration(double seconds);

}  // namespace sslx
