// An activation applied on its own, where no feed-forward gates it: BERT's LM head transform.
#pragma once

#include <ATen/core/Tensor.h>

#include "nn/feed_forward.h"

namespace sslx::nn {

// gelu, gelu_tanh or relu of x; a gated activation (swiglu, geglu) needs a second projection
// and is refused (c10::Error).
at::Tensor activate(Activation activation, const at::Tensor& x);

}  // namespace sslx::nn
