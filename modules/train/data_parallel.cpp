#include "train/data_parallel.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/utils.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include "util/error.h"
#include "util/fs.h"

namespace sslx::train {
namespace {

std::string rank_file(int rank, const char* suffix) {
  return "rank_" + std::to_string(rank) + suffix;
}

std::string generator_bytes() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  const at::Tensor state = generator.get_state().contiguous();
  return std::string(reinterpret_cast<const char*>(state.data_ptr<std::uint8_t>()),
                     static_cast<std::size_t>(state.numel()));
}

void set_generator_bytes(const std::string& bytes) {
  at::Tensor state = at::empty({static_cast<std::int64_t>(bytes.size())}, at::kByte);
  std::memcpy(state.data_ptr<std::uint8_t>(), bytes.data(), bytes.size());
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

}  // namespace

std::vector<at::Tensor> distinct_parameters(const torch::nn::Module& model) {
  std::set<const void*> seen;
  std::vector<at::Tensor> parameters;
  for (const auto& parameter : model.parameters()) {
    if (seen.insert(parameter.unsafeGetTensorImpl()).second) parameters.push_back(parameter);
  }
  return parameters;
}

void all_reduce_gradients(dist::ProcessGroup& group, const std::vector<at::Tensor>& parameters,
                          std::size_t bucket_bytes) {
  // Buckets of consecutive parameters; each flattened into one tensor so that a model of many
  // small tensors costs a few messages, not hundreds.
  std::vector<std::vector<at::Tensor>> buckets(1);
  std::size_t bytes = 0;
  for (const auto& parameter : parameters) {
    at::Tensor& grad = const_cast<at::Tensor&>(parameter).mutable_grad();
    if (!grad.defined()) grad = at::zeros_like(parameter);
    const std::size_t size = static_cast<std::size_t>(grad.numel()) * grad.element_size();
    if (bytes > 0 && bytes + size > bucket_bytes) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(grad);
    bytes += size;
  }
  std::vector<at::Tensor> flat;
  flat.reserve(buckets.size());
  for (const auto& bucket : buckets) {
    std::vector<at::Tensor> views;
    for (const auto& grad : bucket)
      views.push_back(grad.reshape({-1}));
    flat.push_back(at::cat(views));
  }
  group.all_reduce_sum(flat);
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    std::int64_t offset = 0;
    for (auto& grad : buckets[b]) {
      grad.copy_(flat[b].slice(0, offset, offset + grad.numel()).view_as(grad));
      offset += grad.numel();
    }
  }
}

void broadcast_model(dist::ProcessGroup& group, torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> targets = distinct_parameters(model);
  for (const auto& buffer : model.buffers())
    targets.push_back(buffer);
  // Gloo sends dense memory: a strided buffer goes through a contiguous copy.
  std::vector<at::Tensor> sent;
  for (const auto& tensor : targets)
    sent.push_back(tensor.is_contiguous() ? tensor : tensor.contiguous());
  group.broadcast(sent, 0);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!sent[i].is_same(targets[i])) targets[i].copy_(sent[i]);
  }
}

std::vector<double> all_reduce_sum(dist::ProcessGroup& group, std::vector<double> values) {
  std::vector<at::Tensor> packed{at::tensor(values, at::TensorOptions().dtype(at::kDouble))};
  group.all_reduce_sum(packed);
  const double* data = packed[0].data_ptr<double>();
  return std::vector<double>(data, data + values.size());
}

std::vector<double> DataParallelStep::global_counts(std::vector<double> own) const {
  dist::ProcessGroup* group = dist::world_group();
  if (group != nullptr) {
    if (rank_mean_) {
      for (double& count : own)
        count = std::max(count, 1.0) * group->world_size();
    } else {
      own = all_reduce_sum(*group, std::move(own));
    }
  }
  for (double& count : own)
    count = std::max(count, 1.0);
  return own;
}

std::vector<double> DataParallelStep::sum(std::vector<double> values) const {
  dist::ProcessGroup* group = dist::world_group();
  return group == nullptr ? values : all_reduce_sum(*group, std::move(values));
}

void DataParallelStep::sum_gradients(const std::vector<at::Tensor>& parameters) const {
  if (dist::ProcessGroup* group = dist::world_group()) all_reduce_gradients(*group, parameters);
}

void DataParallelStep::broadcast(torch::nn::Module& module) const {
  if (dist::ProcessGroup* group = dist::world_group()) broadcast_model(*group, module);
}

Metrics all_reduce_metrics(dist::ProcessGroup& group, const Metrics& metrics,
                           const std::vector<std::string>& names) {
  std::vector<double> values;
  values.reserve(2 * names.size());
  for (const auto& name : names) {
    const auto it = metrics.find(name);
    values.push_back(it == metrics.end() ? 0.0 : it->second.sum);
    values.push_back(it == metrics.end() ? 0.0 : it->second.count);
  }
  values = all_reduce_sum(group, std::move(values));
  Metrics total;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (values[2 * i + 1] > 0) total[names[i]] = {values[2 * i], values[2 * i + 1]};
  }
  return total;
}

std::map<std::string, std::string> rank_state_files(int rank, const TrainerState& state) {
  TrainerState own = state;
  own.tensors.clear();
  return {{rank_file(rank, ".toml"),
           "# Rank " + std::to_string(rank) +
               "'s sampler position and random streams (the other ranks' are in their own "
               "files)\n" +
               own.to_toml()},
          {rank_file(rank, ".torch_rng"), generator_bytes()}};
}

void load_rank_state(const std::filesystem::path& checkpoint, int rank, TrainerState& state) {
  const auto toml = checkpoint / rank_file(rank, ".toml");
  const auto rng = checkpoint / rank_file(rank, ".torch_rng");
  if (!std::filesystem::is_regular_file(toml) || !std::filesystem::is_regular_file(rng)) {
    throw IoError(checkpoint.string() + " has no state of rank " + std::to_string(rank) + " (" +
                      toml.filename().string() + ")",
                  "it was written by a job with fewer ranks: resume with the world size it was "
                  "written with (trainer.world_size)");
  }
  const TrainerState own = TrainerState::from_toml(fs::read_text(toml), toml.string());
  state.sampler = own.sampler;
  state.rng_states = own.rng_states;
  set_generator_bytes(fs::read_text(rng));
}

std::map<std::string, std::string> gather_rank_states(dist::ProcessGroup& group, std::int64_t step,
                                                      const TrainerState& own_state) {
  // One key per rank and file, under the step and this process's count of saves: a step saved
  // twice never reads the first save's values.
  static std::int64_t saves = 0;
  const std::string prefix =
      "checkpoint/" + std::to_string(saves++) + "/" + std::to_string(step) + "/";
  if (group.rank() != 0) {
    for (const auto& [name, bytes] : rank_state_files(group.rank(), own_state))
      group.store_set(prefix + name, bytes);
    return {};
  }
  // Rank 0's own part is the checkpoint's trainer_state.toml and torch_rng.pt.
  std::map<std::string, std::string> files;
  for (int rank = 1; rank < group.world_size(); ++rank) {
    for (const char* suffix : {".toml", ".torch_rng"}) {
      const std::string name = rank_file(rank, suffix);
      files[name] = group.store_get(prefix + name);
    }
  }
  return files;
}

}  // namespace sslx::train
