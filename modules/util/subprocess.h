// Running a program and reading what it prints: for the command-line tools that sslx drives
// (Slurm's sbatch, squeue, scontrol). No shell is involved: arguments are passed as they are.
#pragma once

#include <string>
#include <vector>

namespace sslx {

struct ProgramOutput {
  int exit_code = -1;  // 128 + n when killed by signal n; 127 when the program was not found
  std::string out;     // standard output
  std::string err;     // standard error
};

// Runs argv[0] (searched in PATH) with the arguments, stdin from /dev/null, and waits for it.
ProgramOutput run_program(const std::vector<std::string>& argv);

}  // namespace sslx
