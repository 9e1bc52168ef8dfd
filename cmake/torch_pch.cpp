// The translation unit of the sslx_torch_pch target (modules/CMakeLists.txt), which exists only to
// build the precompiled LibTorch header the libraries share; it defines nothing.
