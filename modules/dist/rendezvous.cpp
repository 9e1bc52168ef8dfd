#include "dist/rendezvous.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/error.h"

namespace sslx::dist {
namespace {

constexpr const char* kVariables[] = {"RANK",         "WORLD_SIZE",   "LOCAL_RANK",
                                      "MASTER_ADDR",  "MASTER_PORT",  "SLURM_PROCID",
                                      "SLURM_NTASKS", "SLURM_LOCALID"};

std::optional<std::string> lookup(const std::map<std::string, std::string>& environment,
                                  const std::string& name) {
  const auto it = environment.find(name);
  if (it == environment.end()) return std::nullopt;
  return it->second;
}

int parse_int(const std::string& name, const std::string& text, int min, int max) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || value < min ||
      value > max) {
    throw Error(name + "=" + text + " is not an integer in [" + std::to_string(min) + ", " +
                    std::to_string(max) + "]",
                "the launcher (torchrun, srun or `sslx run --nproc`) sets it; unset it to run as "
                "a single process");
  }
  return static_cast<int>(value);
}

}  // namespace

std::optional<Rendezvous> rendezvous_from(const std::map<std::string, std::string>& environment) {
  Rendezvous r;
  std::string rank_name, world_name, local_name;
  if (lookup(environment, "RANK") || lookup(environment, "WORLD_SIZE")) {
    r.source = "torchrun";
    rank_name = "RANK", world_name = "WORLD_SIZE", local_name = "LOCAL_RANK";
  } else if (lookup(environment, "SLURM_PROCID") && lookup(environment, "SLURM_NTASKS")) {
    r.source = "slurm";
    rank_name = "SLURM_PROCID", world_name = "SLURM_NTASKS", local_name = "SLURM_LOCALID";
  } else {
    return std::nullopt;
  }
  const auto rank = lookup(environment, rank_name);
  const auto world = lookup(environment, world_name);
  if (!rank || !world) {
    throw Error(std::string(rank ? world_name : rank_name) + " is not set but " +
                    (rank ? rank_name : world_name) + " is",
                "a data-parallel rank needs both");
  }
  r.world_size = parse_int(world_name, *world, 1, 65536);
  r.rank = parse_int(rank_name, *rank, 0, r.world_size - 1);
  r.local_rank = r.rank;
  if (const auto local = lookup(environment, local_name))
    r.local_rank = parse_int(local_name, *local, 0, r.world_size - 1);
  if (const auto address = lookup(environment, "MASTER_ADDR"); address && !address->empty())
    r.master_addr = *address;
  if (const auto port = lookup(environment, "MASTER_PORT")) {
    r.master_port = parse_int("MASTER_PORT", *port, 1, 65535);
  } else if (r.world_size > 1) {
    throw Error(world_name + "=" + std::to_string(r.world_size) + " but MASTER_PORT is not set",
                "set MASTER_ADDR (rank 0's host) and MASTER_PORT (a free port there) for every "
                "rank");
  }
  return r;
}

std::map<std::string, std::string> environment_variables() {
  std::map<std::string, std::string> environment;
  for (const char* name : kVariables) {
    if (const char* value = std::getenv(name)) environment[name] = value;
  }
  return environment;
}

std::map<std::string, std::string> rank_environment(const Rendezvous& rendezvous, int rank) {
  return {{"RANK", std::to_string(rank)},
          {"WORLD_SIZE", std::to_string(rendezvous.world_size)},
          {"LOCAL_RANK", std::to_string(rank)},
          {"LOCAL_WORLD_SIZE", std::to_string(rendezvous.world_size)},
          {"MASTER_ADDR", rendezvous.master_addr},
          {"MASTER_PORT", std::to_string(rendezvous.master_port)}};
}

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw IoError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    throw IoError("cannot find a free local port: " + reason);
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace sslx::dist
