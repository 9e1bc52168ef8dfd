# sslx_add_plugin(NAME SOURCES file... [LINK target...])
#
# A plugin library for sslx (docs/plugins.md): a MODULE library named lib<NAME>.so that links the
# sslx libraries it registers into (sslx::objectives and everything below it; LINK adds more,
# e.g. sslx::eval for an evaluator), compiled as sslx was (C++20, the same compiler and LibTorch:
# the SSLX_PLUGIN stamp is checked by sslx when it loads the library), with hidden visibility
# (only the stamp and the registration function are exported) and an RPATH to the sslx
# libraries, so `sslx --plugin` / `plugins = [...]` loads it from anywhere.
#
# Used by sslx's own examples (examples/) and, from the installed CMake package
# (find_package(sslx CONFIG REQUIRED)), by plugins built out of tree.
function(sslx_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "sslx_add_plugin(${name}): give the plugin's SOURCES")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "sslx_add_plugin(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS} "
                        "(expected SOURCES file... [LINK target...])")
  endif()
  # The stamp records the compiler's major version: a plugin from another compiler would be
  # refused at load time, so say it now.
  if(DEFINED SSLX_CXX_COMPILER_ID AND NOT (CMAKE_CXX_COMPILER_ID STREQUAL SSLX_CXX_COMPILER_ID AND
     CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL SSLX_CXX_COMPILER_MAJOR AND
     CMAKE_CXX_COMPILER_VERSION VERSION_LESS SSLX_CXX_COMPILER_NEXT_MAJOR))
    message(FATAL_ERROR "sslx_add_plugin(${name}): sslx was built with ${SSLX_CXX_COMPILER_ID} "
                        "${SSLX_CXX_COMPILER_MAJOR}, this build uses ${CMAKE_CXX_COMPILER_ID} "
                        "${CMAKE_CXX_COMPILER_VERSION}; sslx refuses plugins from another "
                        "compiler (set CMAKE_CXX_COMPILER to the one sslx used)")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE sslx::objectives ${ARG_LINK})
  target_compile_features(${name} PRIVATE cxx_std_20)
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    CXX_EXTENSIONS OFF
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED SSLX_LIBRARY_DIR)  # against an installed sslx: find its libraries once installed too
    set_target_properties(${name} PROPERTIES INSTALL_RPATH "${SSLX_LIBRARY_DIR}")
  endif()
endfunction()
