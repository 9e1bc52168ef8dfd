// What a plugin library includes to register components with sslx.
//
//   #include "registry/plugin.h"
//   void register_my_components() { my_registry().add("name", "doc", schema, factory); }
//   SSLX_PLUGIN(register_my_components)
//
// The macro exports two C symbols: a stamp describing the sslx version and C++/LibTorch ABI the
// plugin was compiled against, and the registration function. sslx refuses a plugin whose
// stamp differs from its own, before running any of the plugin's code.
#pragma once

#include <boost/config.hpp>
#include <string>

#include "util/version.h"

// Overridable only to build deliberately mismatched plugins in tests.
#ifndef SSLX_PLUGIN_STAMP_VERSION
#define SSLX_PLUGIN_STAMP_VERSION SSLX_VERSION_STRING
#endif

namespace sslx::plugin {

// Bumped whenever a change to sslx's headers breaks plugins built against the previous version
// even with the same version string (development builds).
// 2: registry entries carry a config check; architectures declare their kind.
inline constexpr int kAbiRevision = 2;

struct Stamp {
  const char* sslx_version;
  int abi_revision;
  int compiler_major;  // GCC major version: libstdc++ types cross the boundary
  int cxx11_abi;       // _GLIBCXX_USE_CXX11_ABI: std::string layout
  const char* torch_version;
};

constexpr Stamp stamp_of_this_build() {
  return Stamp{SSLX_PLUGIN_STAMP_VERSION, kAbiRevision, __GNUC__, _GLIBCXX_USE_CXX11_ABI,
               SSLX_TORCH_VERSION};
}

std::string describe(const Stamp& stamp);
bool same_abi(const Stamp& a, const Stamp& b);

}  // namespace sslx::plugin

#define SSLX_PLUGIN(register_function)                                           \
  extern "C" BOOST_SYMBOL_EXPORT const ::sslx::plugin::Stamp sslx_plugin_stamp = \
      ::sslx::plugin::stamp_of_this_build();                                     \
  extern "C" BOOST_SYMBOL_EXPORT void sslx_plugin_register() {                   \
    register_function();                                                         \
  }
