# `cmake --install build --prefix DIR`: the sslx program, its shared libraries, the public headers,
# the shipped configs and the CMake package that plugin authors find with
# find_package(sslx CONFIG REQUIRED) (docs/writing-an-objective.md).
#
#   DIR/bin/sslx
#   DIR/lib/libsslx_*.so               every module, the built-ins and the SentencePiece bridge
#   DIR/include/sslx/<module>/*.h      as the sources include them ("train/objective.h")
#   DIR/share/sslx/configs/            the config groups `defaults = [...]` draws from
#   DIR/lib/cmake/sslx/                sslxConfig.cmake, sslxTargets.cmake, sslxPlugin.cmake
include(CMakePackageConfigHelpers)

install(TARGETS sslx RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS sslx_builtins sslx_sentencepiece_bridge LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

install(DIRECTORY modules/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sslx
        FILES_MATCHING PATTERN "*.h" PATTERN "cli" EXCLUDE)
install(DIRECTORY architectures/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sslx/architectures
        FILES_MATCHING PATTERN "*.h")
install(DIRECTORY objectives/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sslx/objectives
        FILES_MATCHING PATTERN "*.h")
install(FILES "${SSLX_GENERATED_DIR}/util/version.h" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sslx/util)
install(DIRECTORY configs/ DESTINATION ${SSLX_INSTALL_CONFIGDIR})

install(EXPORT sslxTargets NAMESPACE sslx:: DESTINATION ${SSLX_INSTALL_CMAKEDIR})
string(REGEX MATCH "^[0-9]+" SSLX_CXX_COMPILER_MAJOR "${CMAKE_CXX_COMPILER_VERSION}")
math(EXPR SSLX_CXX_COMPILER_NEXT_MAJOR "${SSLX_CXX_COMPILER_MAJOR} + 1")
configure_package_config_file(cmake/sslxConfig.cmake.in "${PROJECT_BINARY_DIR}/sslxConfig.cmake"
  INSTALL_DESTINATION ${SSLX_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_BINDIR CMAKE_INSTALL_LIBDIR SSLX_INSTALL_CONFIGDIR)
# Plugins carry sslx's version in their stamp: only the same version loads them.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/sslxConfigVersion.cmake"
  COMPATIBILITY ExactVersion)
install(FILES "${PROJECT_BINARY_DIR}/sslxConfig.cmake" "${PROJECT_BINARY_DIR}/sslxConfigVersion.cmake"
        cmake/sslxPlugin.cmake DESTINATION ${SSLX_INSTALL_CMAKEDIR})
