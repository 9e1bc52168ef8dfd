#include "log/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <set>

#include "config/flatten.h"
#include "config/toml_io.h"
#include "log/report_tables.h"
#include "util/fs.h"
#include "util/version.h"

namespace sslx::log {
namespace stdfs = std::filesystem;
namespace {

const char* kStyle = R"(
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em;
       color: #1d1d1f; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: 0.3em 0.7em; border-bottom: 1px solid #e4e4e4; text-align: left; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
td.number { white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=ascending]::after { content: " \25B2"; }
table.sortable th[aria-sort=descending]::after { content: " \25BC"; }
td.best { font-weight: 700; background: #e6f4ea; }
td.best::after { content: " \2605"; color: #188038; }
tr.differs td { background: #fff4d6; }
figure { margin: 1em 0; } figure img { width: 100%; max-width: 1100px; border: 1px solid #eee; }
blockquote { white-space: pre-wrap; border-left: 3px solid #ccc; margin: 0.5em 0; padding-left: 1em; }
code, .config td { font-family: ui-monospace, monospace; font-size: 0.9em; }
details { margin: 0.5em 0; } summary { cursor: pointer; font-weight: 600; }
.note { color: #666; font-style: italic; }
)";

// Sorting by a column's data-value (numbers) or its text; cells without a value go last.
const char* kScript = R"(
document.querySelectorAll('table.sortable').forEach(function (table) {
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (header, column) {
    header.addEventListener('click', function () {
      var ascending = header.getAttribute('aria-sort') !== 'ascending';
      headers.forEach(function (h) { h.removeAttribute('aria-sort'); });
      header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      function key(row) {
        var cell = row.cells[column];
        var value = cell.getAttribute('data-value');
        return value === null ? cell.textContent : parseFloat(value);
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var xMissing = a.cells[column].getAttribute('data-missing') !== null;
        var yMissing = b.cells[column].getAttribute('data-missing') !== null;
        if (xMissing !== yMissing) return xMissing ? 1 : -1;
        var order = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
)";

std::string full_precision(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

std::string base64(const std::string& bytes) {
  static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const auto byte = [&bytes](std::size_t at) {
      return at < bytes.size() ? static_cast<unsigned char>(bytes[at]) : 0u;
    };
    const unsigned triple = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += digits[triple >> 18 & 63];
    out += digits[triple >> 12 & 63];
    out += i + 1 < bytes.size() ? digits[triple >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? digits[triple & 63] : '=';
  }
  return out;
}

// Seconds since the epoch of "2026-11-26T12:00:00Z", or nullopt.
std::optional<std::time_t> parse_utc(const std::string& text) {
  std::tm tm{};
  if (text.empty() || ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr)
    return std::nullopt;
  return ::timegm(&tm);
}

std::string duration_text(double seconds) {
  char buffer[64];
  const long total = std::lround(seconds);
  if (total >= 3600) {
    std::snprintf(buffer, sizeof(buffer), "%ldh %02ldm %02lds", total / 3600, total / 60 % 60,
                  total % 60);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%ldm %02lds", total / 60, total % 60);
  }
  return buffer;
}

std::string comparison_table(const HtmlReportInput& input) {
  const auto& groups = *input.groups;
  std::string out =
      "<table id=\"comparison\" class=\"sortable\">\n<thead><tr><th>Variant</th>"
      "<th class=\"number\">Seeds</th>";
  for (const auto& column : input.columns) {
    const Better better = better_direction(column);
    out += "<th class=\"number\" data-column=\"" + html_escape(column) + "\"" +
           (is_percentage(column) ? " data-percent=\"\"" : "") +
           (better == Better::kNone    ? ""
            : better == Better::kLower ? " data-better=\"lower\" title=\"lower is better\""
                                       : " data-better=\"higher\" title=\"higher is better\"") +
           ">" + html_escape(column_title(column)) + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  // The best mean of each column with a direction, over groups with at least one value.
  std::map<std::string, double> best;
  for (const auto& column : input.columns) {
    const Better better = better_direction(column);
    if (better == Better::kNone) continue;
    for (const auto& group : groups) {
      const auto it = group.values.find(column);
      if (it == group.values.end() || it->second.n == 0) continue;
      const double mean = it->second.mean;
      const auto [entry, inserted] = best.emplace(column, mean);
      if (!inserted && (better == Better::kLower ? mean < entry->second : mean > entry->second))
        entry->second = mean;
    }
  }
  for (const auto& group : groups) {
    out += "<tr data-group=\"" + html_escape(group.label) + "\"><td>" + html_escape(group.label) +
           "</td><td class=\"number\" data-value=\"" + std::to_string(group.jobs.size()) + "\">" +
           std::to_string(group.jobs.size()) + "</td>";
    for (const auto& column : input.columns) {
      const auto it = group.values.find(column);
      if (it == group.values.end() || it->second.n == 0) {
        out += "<td class=\"number\" data-missing=\"\">–</td>";
        continue;
      }
      const Statistic& value = it->second;
      const auto b = best.find(column);
      const bool is_best = b != best.end() && value.mean == b->second;
      out += std::string("<td class=\"number") + (is_best ? " best" : "") + "\" data-value=\"" +
             full_precision(value.mean) + "\" data-mean=\"" + full_precision(value.mean) +
             "\" data-std=\"" + full_precision(value.std) + "\"" +
             (is_best ? " title=\"best in this column\"" : "") + ">" +
             html_escape(format_statistic(column, value)) + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::string plots_section(const HtmlReportInput& input) {
  std::string out;
  for (const auto& [file, caption] : input.plots) {
    const std::string svg = fs::read_text(file);
    const std::string png = stdfs::path(file).replace_extension(".png").filename().string();
    out += "<figure><img class=\"plot\" alt=\"" + html_escape(caption) +
           "\" src=\"data:image/svg+xml;base64," + base64(svg) + "\"><figcaption>" +
           html_escape(caption) + " (<a href=\"report/" + html_escape(file.filename().string()) +
           "\">SVG</a>, <a href=\"report/" + html_escape(png) +
           "\">PNG</a>)</figcaption></figure>\n";
  }
  if (!input.plots_note.empty())
    out += "<p class=\"note\">" + html_escape(input.plots_note) + ".</p>\n";
  return out.empty() ? out : "<h2 id=\"plots\">Plots</h2>\n" + out;
}

// The few Markdown forms the alignment section uses: headings, tables, list items, paragraphs;
// images are left out (the plots are above).
std::string markdown_section(const std::string& markdown) {
  std::string out;
  std::vector<std::string> lines;
  for (std::size_t start = 0; start <= markdown.size();) {
    const std::size_t end = std::min(markdown.find('\n', start), markdown.size());
    lines.push_back(markdown.substr(start, end - start));
    start = end + 1;
  }
  bool in_table = false, header_row = false, in_list = false;
  for (const auto& line : lines) {
    const bool table_line = !line.empty() && line.front() == '|';
    if (in_table && !table_line) {
      out += "</tbody></table>\n";
      in_table = false;
    }
    const bool list_line = line.rfind("- ", 0) == 0;
    if (in_list && !list_line) {
      out += "</ul>\n";
      in_list = false;
    }
    if (table_line) {
      if (line.find("---") != std::string::npos) continue;  // the rule under the header
      if (!in_table) {
        out += "<table>";
        in_table = header_row = true;
      }
      std::vector<std::string> cells;
      for (std::size_t at = 1; at < line.size();) {
        const std::size_t bar = line.find('|', at);
        if (bar == std::string::npos) break;
        cells.push_back(line.substr(at, bar - at));
        at = bar + 1;
      }
      const char* tag = header_row ? "th" : "td";
      out += header_row ? "<thead><tr>" : "<tr>";
      for (const auto& cell : cells)
        out += std::string("<") + tag + ">" + html_escape(cell) + "</" + tag + ">";
      out += header_row ? "</tr></thead><tbody>\n" : "</tr>\n";
      header_row = false;
    } else if (list_line) {
      if (!in_list) out += "<ul>\n";
      in_list = true;
      out += "<li>" + html_escape(line.substr(2)) + "</li>\n";
    } else if (line.rfind("## ", 0) == 0) {
      out += "<h2>" + html_escape(line.substr(3)) + "</h2>\n";
    } else if (line.rfind("### ", 0) == 0) {
      out += "<h3>" + html_escape(line.substr(4)) + "</h3>\n";
    } else if (!line.empty() && line.rfind("![", 0) != 0) {
      out += "<p>" + html_escape(line) + "</p>\n";
    }
  }
  if (in_table) out += "</tbody></table>\n";
  if (in_list) out += "</ul>\n";
  return out;
}

// Each group's resolved config (its first job's): the keys whose values differ between groups
// first, as a table, then every group's whole config with those keys highlighted.
std::string configs_section(const HtmlReportInput& input) {
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> configs;
  for (const auto& group : *input.groups) {
    if (group.jobs.empty() || group.jobs.front()->config_text.empty()) continue;
    const JobRecord& job = *group.jobs.front();
    configs.emplace_back(group.label, config::flatten_leaves(config::parse_toml(
                                          job.config_text, (job.directory / "log.h5").string())));
  }
  if (configs.empty()) return "";
  std::set<std::string> keys, differing;
  for (const auto& [label, values] : configs) {
    for (const auto& [key, value] : values)
      keys.insert(key);
  }
  for (const auto& key : keys) {
    const auto value_of = [&key](const std::map<std::string, std::string>& values) {
      const auto it = values.find(key);
      return it == values.end() ? std::string("(absent)") : it->second;
    };
    for (const auto& [label, values] : configs) {
      if (value_of(values) != value_of(configs.front().second)) differing.insert(key);
    }
  }
  std::string out = "<h2 id=\"configs\">Configs</h2>\n";
  if (configs.size() > 1) {
    out += "<p>What differs between the groups (" + std::to_string(differing.size()) + " of " +
           std::to_string(keys.size()) + " keys):</p>\n";
    out += "<table id=\"config-differences\"><thead><tr><th>Key</th>";
    for (const auto& [label, values] : configs)
      out += "<th>" + html_escape(label) + "</th>";
    out += "</tr></thead><tbody>\n";
    for (const auto& key : differing) {
      out += "<tr class=\"differs\"><td><code>" + html_escape(key) + "</code></td>";
      for (const auto& [label, values] : configs) {
        const auto it = values.find(key);
        out += "<td><code>" + html_escape(it == values.end() ? "(absent)" : it->second) +
               "</code></td>";
      }
      out += "</tr>\n";
    }
    out += "</tbody></table>\n";
  }
  for (const auto& [label, values] : configs) {
    out += "<details class=\"config\" data-group=\"" + html_escape(label) + "\"><summary>" +
           html_escape(label) + ": resolved config</summary><table class=\"config\"><tbody>\n";
    for (const auto& [key, value] : values) {
      out += std::string("<tr") + (differing.count(key) ? " class=\"differs\"" : "") + "><td>" +
             html_escape(key) + "</td><td>" + html_escape(value) + "</td></tr>\n";
    }
    out += "</tbody></table></details>\n";
  }
  return out;
}

// A root attribute of the job's log (JobRecord::provenance), "" when it has none.
std::string provenance_of(const JobRecord& job, const std::string& name) {
  const auto it = job.provenance.find(name);
  return it == job.provenance.end() ? "" : it->second;
}

std::string joined_distinct(const std::vector<JobRecord>& jobs, const std::string& name) {
  std::set<std::string> values;
  for (const auto& job : jobs) {
    if (const std::string value = provenance_of(job, name); !value.empty()) values.insert(value);
  }
  std::string out;
  for (const auto& value : values)
    out += (out.empty() ? "" : ", ") + value;
  return out.empty() ? "not recorded" : out;
}

std::string provenance_section(const HtmlReportInput& input) {
  const auto& jobs = *input.jobs;
  std::optional<std::time_t> first_start, last_end;
  double compute = 0;
  for (const auto& job : jobs) {
    const auto start = parse_utc(provenance_of(job, "start_time"));
    const auto end = parse_utc(provenance_of(job, "end_time"));
    if (start && (!first_start || *start < *first_start)) first_start = start;
    if (end && (!last_end || *end > *last_end)) last_end = end;
    if (start && end) compute += std::difftime(*end, *start);
  }
  const auto time_text = [](const std::optional<std::time_t>& t) {
    if (!t) return std::string("not recorded");
    char buffer[32];
    std::tm tm{};
    ::gmtime_r(&*t, &tm);
    std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S UTC", &tm);
    return std::string(buffer);
  };
  std::string out =
      "<h2 id=\"provenance\">Provenance</h2>\n<table id=\"provenance-table\"><tbody>\n";
  const auto row = [&out](const std::string& name, const std::string& value) {
    out += "<tr><th>" + html_escape(name) + "</th><td>" + html_escape(value) + "</td></tr>\n";
  };
  row("sslx version (runs)", joined_distinct(jobs, "sslx_version"));
  row("sslx version (report)", SSLX_VERSION_STRING);
  row("git commit", joined_distinct(jobs, "git_commit"));
  row("machine", joined_distinct(jobs, "host"));
  row("processor", joined_distinct(jobs, "cpu"));
  row("first job started", time_text(first_start));
  row("last job ended", time_text(last_end));
  row("wall time", first_start && last_end ? duration_text(std::difftime(*last_end, *first_start))
                                           : "not recorded");
  row("job time, summed", compute > 0 ? duration_text(compute) : "not recorded");
  out += "</tbody></table>\n";

  out +=
      "<table id=\"jobs\" class=\"sortable\"><thead><tr><th>Job</th><th>Group</th>"
      "<th class=\"number\">Seed</th><th>Status</th><th>Started</th><th>Files</th></tr>"
      "</thead><tbody>\n";
  for (const auto& job : jobs) {
    const std::string folder =
        stdfs::relative(job.directory, input.experiment).lexically_normal().generic_string();
    const std::string start = provenance_of(job, "start_time");
    out +=
        "<tr><td><a href=\"" + html_escape(folder) + "/\">" + html_escape(job.name) +
        "</a></td><td>" + html_escape(job.group) + "</td><td class=\"number\"" +
        (job.seed ? " data-value=\"" + std::to_string(*job.seed) + "\">" + std::to_string(*job.seed)
                  : " data-missing=\"\">–") +
        "</td><td>" + html_escape(job.status) + "</td><td>" + html_escape(start) +
        "</td><td><a href=\"" + html_escape(folder) + "/log.h5\">log.h5</a>";
    if (stdfs::is_regular_file(job.directory / "output.log"))
      out += " <a href=\"" + html_escape(folder) + "/output.log\">output.log</a>";
    out += "</td></tr>\n";
  }
  return out + "</tbody></table>\n";
}

std::string samples_section(const std::vector<GroupSummary>& groups) {
  std::string out;
  for (const auto& samples : first_samples(groups)) {
    out += "<h3>" + html_escape(samples.group->label) + " (" + html_escape(samples.job->name) +
           ")</h3>\n";
    for (const auto& text : samples.texts)
      out += "<blockquote>" + html_escape(text) + "</blockquote>\n";
  }
  return out.empty() ? out : "<h2 id=\"samples\">Generated samples</h2>\n" + out;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string html_report(const HtmlReportInput& input) {
  const auto& jobs = *input.jobs;
  std::size_t completed = 0;
  for (const auto& job : jobs)
    completed += job.status == "completed" ? 1 : 0;
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>" +
      html_escape(input.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" +
      html_escape(input.title) + "</h1>\n";
  if (!input.description.empty()) out += "<p>" + html_escape(input.description) + "</p>\n";
  out += "<p>" + std::to_string(jobs.size()) + " jobs, " + std::to_string(completed) +
         " completed; groups are jobs that differ only in their seed (mean ± std over seeds). "
         "Click a column's header to sort; &#9733; marks the best group of a column that has a "
         "direction. Written by sslx " SSLX_VERSION_STRING ".</p>\n";
  out += "<h2 id=\"comparison-heading\">Comparison</h2>\n" + comparison_table(input);
  if (!input.statements.empty()) {
    out += "<ul id=\"statements\">\n";
    for (const auto& line : input.statements)
      out += "<li>" + html_escape(line) + "</li>\n";
    out += "</ul>\n";
  }
  out +=
      "<p>Files: <a href=\"report/table.tex\">table.tex</a> (booktabs), "
      "<a href=\"report/table.csv\">table.csv</a>, <a href=\"report/jobs.csv\">jobs.csv</a>, "
      "<a href=\"experiment.h5\">experiment.h5</a>, <a href=\"report.md\">report.md</a>.</p>\n";
  out += plots_section(input);
  out += markdown_section(input.alignment_markdown);
  out += samples_section(*input.groups);
  out += configs_section(input);
  out += provenance_section(input);
  std::string unfinished;
  for (const auto& job : jobs) {
    if (job.status != "completed")
      unfinished += "<li>" + html_escape(job.name) + ": " + html_escape(job.status) + "</li>\n";
  }
  if (!unfinished.empty())
    out += "<h2 id=\"unfinished\">Jobs not in the table</h2>\n<ul>\n" + unfinished + "</ul>\n";
  out += "<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace sslx::log
