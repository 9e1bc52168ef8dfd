// Registration of the built-in evaluators (each in its own file) and the LibTorch set-up they
// share; called by register_builtin_evaluators().
#pragma once

#include <cstdint>

namespace sslx::eval {

void register_heldout();    // heldout.cpp
void register_probe();      // probe.cpp
void register_finetune();   // finetune.cpp
void register_generate();   // generate.cpp
void register_alignment();  // alignment.cpp

// LibTorch intra-op threads as the trainer sets them (train::resolve_threads).
void set_threads(std::int64_t threads);

}  // namespace sslx::eval
