// The one place where sslx's built-in components are registered (explicit calls, so that the
// linker cannot drop a registration and a reader sees every built-in at a glance).
#pragma once

namespace sslx::cli {

void register_builtins();

}  // namespace sslx::cli
