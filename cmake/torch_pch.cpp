// The translation unit of the targets that exist only to build a shared precompiled header
// (sslx_torch_pch in modules/CMakeLists.txt, sslx_test_pch in tests/CMakeLists.txt); it defines
// nothing.
