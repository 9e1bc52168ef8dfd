#include "dist/process_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <unistd.h>

#include <exception>

#include "util/console.h"
#include "util/error.h"

namespace sslx::dist {
namespace {

std::unique_ptr<ProcessGroup> the_group;

// c10d reports a dead peer or a timeout as a c10::Error with a long trace: say what happened.
template <typename F>
auto collective(const char* what, int rank, F&& f) {
  try {
    return f();
  } catch (const c10::Error& error) {
    throw PeerError(
        "rank " + std::to_string(rank) + ": " + what + " failed: " + error.what_without_backtrace(),
        "another rank of this job stopped or hangs: see its output (output.rank<N>.log "
        "beside output.log for `--nproc`), fix it and run the same command to resume");
  } catch (const std::exception& error) {
    throw PeerError("rank " + std::to_string(rank) + ": " + what + " failed: " + error.what(),
                    "another rank of this job stopped or hangs: see its output, fix it and run the "
                    "same command to resume");
  }
}

}  // namespace

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

ProcessGroup::ProcessGroup(const Rendezvous& r, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), rank_(r.rank), world_size_(r.world_size) {
  collective("joining the process group", rank_, [&] {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(r.master_port);
    options.isServer = r.rank == 0;
    options.numWorkers = r.world_size;
    options.waitWorkers = true;
    options.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(r.master_addr, options);
    impl_->store = c10::make_intrusive<c10d::PrefixStore>("sslx", tcp);
    auto group_options = c10d::ProcessGroupGloo::Options::create(timeout);
    // Loopback for a group on one machine; else the address this host resolves to.
    const bool local = r.master_addr == "127.0.0.1" || r.master_addr == "localhost";
    group_options->devices.push_back(
        local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
              : c10d::ProcessGroupGloo::createDefaultDevice());
    group_options->threads = 2;
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::intrusive_ptr<c10d::Store>(impl_->store), r.rank, r.world_size, group_options);
    return 0;
  });
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::all_reduce_sum(std::vector<at::Tensor>& tensors) {
  collective("all-reduce", rank_, [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    works.reserve(tensors.size());
    for (auto& tensor : tensors) {
      std::vector<at::Tensor> one{tensor};
      works.push_back(impl_->group->allreduce(one));
    }
    for (auto& work : works)
      work->wait();
    return 0;
  });
}

std::function<void()> ProcessGroup::start_all_reduce_sum(at::Tensor tensor) {
  const int rank = rank_;
  c10::intrusive_ptr<c10d::Work> work = collective("all-reduce", rank_, [&] {
    std::vector<at::Tensor> one{std::move(tensor)};
    return impl_->group->allreduce(one);
  });
  return [work, rank] {
    collective("all-reduce", rank, [&] {
      work->wait();
      return 0;
    });
  };
}

void ProcessGroup::all_reduce_max(at::Tensor& tensor) {
  collective("all-reduce (max)", rank_, [&] {
    std::vector<at::Tensor> one{tensor};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::MAX;
    impl_->group->allreduce(one, options)->wait();
    return 0;
  });
}

void ProcessGroup::broadcast(std::vector<at::Tensor>& tensors, int root) {
  collective("broadcast", rank_, [&] {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& tensor : tensors) {
      std::vector<at::Tensor> one{tensor};
      works.push_back(impl_->group->broadcast(one, options));
    }
    for (auto& work : works)
      work->wait();
    return 0;
  });
}

void ProcessGroup::barrier() {
  collective("barrier", rank_, [&] {
    impl_->group->barrier()->wait();
    return 0;
  });
}

void ProcessGroup::store_set(const std::string& key, const std::string& value) {
  collective("writing to the rendezvous store", rank_, [&] {
    impl_->store->set(key, std::vector<std::uint8_t>(value.begin(), value.end()));
    return 0;
  });
}

std::string ProcessGroup::store_get(const std::string& key) {
  return collective("reading from the rendezvous store", rank_, [&] {
    const auto bytes = impl_->store->get(key);
    return std::string(bytes.begin(), bytes.end());
  });
}

World world() {
  if (!the_group) return {};
  return {.rank = the_group->rank(), .world_size = the_group->world_size()};
}

ProcessGroup* world_group() {
  return the_group.get();
}

void init_world(std::chrono::milliseconds timeout) {
  if (the_group) return;
  const auto rendezvous = rendezvous_from(environment_variables());
  if (!rendezvous || rendezvous->world_size == 1) return;
  console::info(
      "rank " + std::to_string(rendezvous->rank) + " of " + std::to_string(rendezvous->world_size) +
      " (pid " + std::to_string(::getpid()) + "): joining the group at " + rendezvous->master_addr +
      ":" + std::to_string(rendezvous->master_port) + " (" + rendezvous->source + " environment)");
  the_group = std::make_unique<ProcessGroup>(*rendezvous, timeout);
}

void shutdown_world() {
  the_group.reset();
}

}  // namespace sslx::dist
