#include "train/gradient_reducer.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <cstdint>
#include <functional>
#include <mutex>

namespace sslx::train {

struct GradientReducer::State {
  dist::ProcessGroup* group = nullptr;
  std::vector<at::Tensor> parameters;
  std::vector<std::vector<std::size_t>> buckets;  // parameter indices
  std::vector<std::size_t> bucket_of;             // per parameter
  std::vector<std::size_t> expected;              // hooked gradients per bucket
  std::vector<std::size_t> waiting;               // of those, still to come in this pass
  std::vector<at::Tensor> flat;                   // per bucket, while it is reduced
  std::vector<std::function<void()>> pending;     // per bucket, once started
  std::size_t next = 0;                           // the next bucket to start
  bool armed = false;
  std::size_t during_backward = 0;
  std::size_t last_during_backward = 0;
  // Held so that autograd keeps using these nodes (a parameter only holds a weak pointer).
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;
  std::vector<std::uintptr_t> hook_keys;
  std::mutex mutex;  // hooks may run on the autograd engine's threads

  void start(std::size_t bucket) {
    const at::NoGradGuard no_grad;
    std::vector<at::Tensor> views;
    for (const std::size_t index : buckets[bucket]) {
      at::Tensor& grad = parameters[index].mutable_grad();
      if (!grad.defined()) grad = at::zeros_like(parameters[index]);
      views.push_back(grad.reshape({-1}));
    }
    flat[bucket] = at::cat(views);
    pending[bucket] = group->start_all_reduce_sum(flat[bucket]);
  }

  // Called after `index`'s gradient was accumulated; starts every bucket that is full and whose
  // predecessors have started.
  void gradient_ready(std::size_t index) {
    const std::lock_guard<std::mutex> lock(mutex);
    if (!armed || waiting[bucket_of[index]] == 0) return;
    --waiting[bucket_of[index]];
    while (next < buckets.size() && waiting[next] == 0) {
      start(next++);
      ++during_backward;
    }
  }
};

GradientReducer::GradientReducer(dist::ProcessGroup& group,
                                 const std::vector<at::Tensor>& parameters,
                                 std::size_t bucket_bytes)
    : state_(std::make_shared<State>()) {
  State& s = *state_;
  s.group = &group;
  s.parameters = parameters;
  s.bucket_of.resize(parameters.size());
  // Reverse registration order: the output side's gradients are produced first.
  std::size_t bytes = 0;
  for (std::size_t i = parameters.size(); i-- > 0;) {
    const std::size_t size =
        static_cast<std::size_t>(parameters[i].numel()) * parameters[i].element_size();
    if (s.buckets.empty() || (bytes > 0 && bytes + size > bucket_bytes)) {
      s.buckets.emplace_back();
      bytes = 0;
    }
    s.buckets.back().push_back(i);
    s.bucket_of[i] = s.buckets.size() - 1;
    bytes += size;
  }
  s.expected.assign(s.buckets.size(), 0);
  s.flat.resize(s.buckets.size());
  s.pending.resize(s.buckets.size());
  const std::weak_ptr<State> weak = state_;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    if (!parameters[i].requires_grad()) continue;  // never gets a gradient: started by finish()
    auto accumulator = torch::autograd::impl::grad_accumulator(parameters[i]);
    if (accumulator == nullptr) continue;
    ++s.expected[s.bucket_of[i]];
    s.hook_keys.push_back(
        accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
            [weak, i](const torch::autograd::variable_list& outputs,
                      const torch::autograd::variable_list&) {
              if (const auto state = weak.lock()) state->gradient_ready(i);
              return outputs;
            })));
    s.accumulators.push_back(std::move(accumulator));
  }
  s.waiting = s.expected;
}

GradientReducer::~GradientReducer() {
  for (std::size_t k = 0; k < state_->accumulators.size(); ++k)
    state_->accumulators[k]->del_post_hook(state_->hook_keys[k]);
}

void GradientReducer::arm() {
  const std::lock_guard<std::mutex> lock(state_->mutex);
  state_->armed = true;
}

void GradientReducer::finish() {
  State& s = *state_;
  const std::lock_guard<std::mutex> lock(s.mutex);
  while (s.next < s.buckets.size())
    s.start(s.next++);
  const at::NoGradGuard no_grad;
  for (std::size_t b = 0; b < s.buckets.size(); ++b) {
    s.pending[b]();
    std::int64_t offset = 0;
    for (const std::size_t index : s.buckets[b]) {
      at::Tensor& grad = s.parameters[index].mutable_grad();
      grad.copy_(s.flat[b].slice(0, offset, offset + grad.numel()).view_as(grad));
      offset += grad.numel();
    }
    s.flat[b] = at::Tensor();
    s.pending[b] = nullptr;
  }
  s.armed = false;
  s.next = 0;
  s.waiting = s.expected;
  s.last_during_backward = s.during_backward;
  s.during_backward = 0;
}

std::size_t GradientReducer::bucket_count() const {
  return state_->buckets.size();
}

std::size_t GradientReducer::started_during_backward() const {
  return state_->last_during_backward;
}

}  // namespace sslx::train
