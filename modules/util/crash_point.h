// Crash points: the places in a checkpoint save, an atomic file write and a log flush where a
// crash leaves the files in between two states. The crash-safety test sets SSLX_CRASH_AT=N to
// kill the process with SIGKILL at the N-th crash point it passes (counting from 1), for every
// N, and checks that the run resumes from what each crash left. Unset (always, outside that
// test), a crash point is one load and one branch.
#pragma once

namespace sslx {

void crash_point();

}  // namespace sslx
