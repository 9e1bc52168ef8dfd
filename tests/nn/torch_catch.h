// Catch2 for tests that use LibTorch. c10 (c10/util/logging_is_not_google_glog.h) defines a
// glog-style CHECK(condition) that replaces Catch's when LibTorch is included after Catch: the
// assertions then compile but are neither counted nor reported by Catch. This header includes
// LibTorch first, drops c10's CHECK, and then Catch, so CHECK is Catch's. Include it instead of
// <catch2/catch.hpp>; later LibTorch includes do not redefine CHECK (c10's header is included
// once).
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#undef CHECK
#include <catch2/catch.hpp>
