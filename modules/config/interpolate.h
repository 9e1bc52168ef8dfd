// Interpolation of `${a.b}` (any key of the composed config, absolute path) and `${env:VAR}` /
// `${env:VAR,default}`. A string that is exactly one `${a.b}` takes the target's value and type
// (int stays int, a table is copied); inside longer strings the target is formatted as text.
// `\${` is a literal `${`. Cycles and missing targets are errors naming the key.
#pragma once

#include "config/node.h"

namespace sslx::config {

// Resolves every interpolation in `root` in place; throws ConfigError listing every problem.
void interpolate(Node& root);

bool has_interpolation(const std::string& text);

}  // namespace sslx::config
