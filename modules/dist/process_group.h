// The data-parallel group this process belongs to: c10d's Gloo process group (CPU tensors) over
// a TCPStore rendezvous at MASTER_ADDR:MASTER_PORT, hosted by rank 0. A process that was not
// started as a rank is a group of one, where every collective returns at once, so the trainer
// and the objectives call the same code with one process or many.
//
// Every collective takes a timeout (the group's): a rank that died or hangs makes the others
// fail with an Error that says so instead of waiting forever.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dist/rendezvous.h"

namespace sslx::dist {

class ProcessGroup {
 public:
  // Joins the group of `rendezvous` (blocks until every rank arrived, at most `timeout`).
  ProcessGroup(const Rendezvous& rendezvous, std::chrono::milliseconds timeout);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }

  // Sums each tensor over the ranks, in place; all are sent before the first is waited for.
  void all_reduce_sum(std::vector<at::Tensor>& tensors);
  // Starts summing `tensor` over the ranks, in place, and returns at once: call the result to
  // wait for it (it throws as the blocking collectives do). Every rank must start its reductions
  // in the same order.
  std::function<void()> start_all_reduce_sum(at::Tensor tensor);
  // Element-wise maximum over the ranks, in place.
  void all_reduce_max(at::Tensor& tensor);
  // Rank `root`'s values into every rank's tensors, in place.
  void broadcast(std::vector<at::Tensor>& tensors, int root = 0);
  void barrier();

  // The rendezvous store: small named byte strings between ranks (`get` waits for the key).
  void store_set(const std::string& key, const std::string& value);
  std::string store_get(const std::string& key);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0;
  int world_size_ = 1;
};

// This process's group: a group of one until init_world() joined one.
struct World {
  int rank = 0;
  int world_size = 1;
  bool is_main() const { return rank == 0; }
  bool distributed() const { return world_size > 1; }
};
World world();
// The process group, or nullptr in a single process.
ProcessGroup* world_group();

// Joins the group the environment describes (rendezvous_from(environment_variables())), once
// per process; a no-op when the environment describes none or a world of one.
void init_world(std::chrono::milliseconds timeout);
// Leaves it (before exit: the destructor of a static would run after LibTorch's).
void shutdown_world();

}  // namespace sslx::dist
