// Where and from what a run was made, recorded in its log (root attributes host, cpu,
// git_commit) so that a report can say which machine and which commit produced its numbers.
#pragma once

#include <map>
#include <string>

namespace sslx::log {

// host: the machine's name; cpu: its processor model and the number of logical CPUs;
// git_commit: HEAD of the git repository around the working directory, "+dirty" appended when
// tracked files differ from it, "" outside a repository or without git.
std::map<std::string, std::string> run_provenance();

}  // namespace sslx::log
