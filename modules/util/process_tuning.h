// How a process that trains runs fast on a CPU. Measured on 2 cores with the small preset's CLM
// step (docs/performance.md): LibTorch's OpenMP pool spin-waits between parallel regions and
// fights OpenBLAS's own threads for the cores, and glibc returns every large freed tensor to the
// kernel with munmap, so the next step page-faults the same buffers in again. Together they cost
// about two thirds of the step. sslx therefore sets, for `sslx run` and `sslx eval`:
//   - OMP_WAIT_POLICY=PASSIVE, unless the user set OMP_WAIT_POLICY: libgomp reads it only when it
//     is loaded, so the process replaces itself once (execv of /proc/self/exe, same pid and
//     arguments) with the variable set;
//   - malloc that keeps freed memory for reuse (no mmap for large blocks, no trimming), so the
//     resident size stays at the step's peak instead of being faulted in again each step.
// SSLX_PROCESS_TUNING=0 turns both off (for comparing, or to share a machine's memory).
#pragma once

#include <string>

namespace sslx {

// Keeps the command line for the one re-exec; main() calls it first.
void remember_command_line(char** argv);

// Applies the settings above to this process; may replace the process (and not return) when
// OMP_WAIT_POLICY has to be set. Call before any tensor work.
void tune_process_for_compute();

// Makes malloc keep freed memory for reuse (the second setting above), with no re-exec.
void keep_freed_memory();

// For the log: "OMP_WAIT_POLICY=PASSIVE, freed memory kept" (what this process runs with).
std::string describe_process_tuning();

}  // namespace sslx
