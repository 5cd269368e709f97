#include "session_world.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>

#include "drive/identity.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"
#include "scsi/timeouts.hpp"

namespace tapestream::fuzz {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t buffer_size = 64 * 1024;
constexpr std::uint16_t buffers_per_drive = 4;
constexpr std::chrono::seconds daemon_timeout{1};  // the idle and the stream timeout

// emu0 is a modern drive (READ POSITION long form, SPACE(16)). emu1 is served as a drive
// without them, found by spacing over filemarks from the beginning (startup.cpp learns that
// from the drive; here it is set), and its tape is small enough to fill within one input.
struct DriveSetup {
  const char* name;
  const char* options;
  bool modern;
};
// One drive in each image layout, so that the fuzzed sessions append both ways.
constexpr DriveSetup drive_setups[] = {{"emu0", "capacity=32M&layout=aligned", true},
                                       {"emu1", "capacity=2M&layout=packed", false}};

std::array<std::uint8_t, 64 * 1024> scratch;  // where drained bytes land

// /dev/shm/tapestream-fuzz-PID-XXXXXX. A fuzzer process that crashed, or that libFuzzer ended
// without running destructors, leaves its directory in memory: each start removes those whose
// process is gone.
std::filesystem::path make_scratch_dir() {
  const std::filesystem::path shm = "/dev/shm";
  const std::string prefix = "tapestream-fuzz-";
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(shm, ignored)) {
    const auto name = entry.path().filename().string();
    const auto pid = name.substr(0, name.rfind('-')).substr(std::min(prefix.size(), name.size()));
    if (name.rfind(prefix, 0) == 0 && !pid.empty() &&
        pid.find_first_not_of("0123456789") == std::string::npos &&
        !std::filesystem::exists("/proc/" + pid)) {
      std::filesystem::remove_all(entry.path(), ignored);
    }
  }
  std::string pattern = (shm / (prefix + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    finding("mkdtemp " + pattern + ": " + errno_text());
  }
  return pattern;
}

}  // namespace

std::string errno_text() { return std::strerror(errno); }

void finding(const std::string& what) {
  std::fprintf(stderr, "\n==fuzz_session== FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Makes sockets in a child process: their peer, as SO_PEERCRED says, is then not this process.
class World::SocketFactory {
 public:
  SocketFactory() {
    std::array<int, 2> sv{};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv.data()) != 0) {
      finding("socketpair: " + errno_text());
    }
    _pid = ::fork();
    if (_pid < 0) {
      finding("fork: " + errno_text());
    }
    if (_pid == 0) {
      ::close(sv[0]);
      serve(sv[1]);
    }
    ::close(sv[1]);
    _control = UniqueFd{sv[0]};
  }
  ~SocketFactory() {
    _control.reset();  // the child reads end of file and exits
    ::waitpid(_pid, nullptr, 0);
  }
  SocketFactory(const SocketFactory&) = delete;
  SocketFactory& operator=(const SocketFactory&) = delete;

  std::pair<UniqueFd, UniqueFd> make() {
    std::uint8_t byte = 1;
    if (::send(_control.get(), &byte, 1, MSG_NOSIGNAL) != 1) {
      finding("the socket factory is gone: " + errno_text());
    }
    iovec iov{&byte, 1};
    alignas(cmsghdr) std::array<std::uint8_t, CMSG_SPACE(sizeof(int) * 2)> control{};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control.data();
    m.msg_controllen = control.size();
    if (::recvmsg(_control.get(), &m, MSG_CMSG_CLOEXEC) != 1) {
      finding("the socket factory did not answer: " + errno_text());
    }
    const auto* c = CMSG_FIRSTHDR(&m);
    if (c == nullptr || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int) * 2)) {
      finding("the socket factory sent no sockets");
    }
    std::array<int, 2> fds{};
    std::memcpy(fds.data(), CMSG_DATA(c), sizeof fds);
    return {UniqueFd{fds[0]}, UniqueFd{fds[1]}};
  }

 private:
  // The child, after a fork of a process that may have threads: system calls only.
  [[noreturn]] static void serve(int control) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    while (true) {
      std::uint8_t ask = 0;
      std::array<int, 2> sv{};
      if (::recv(control, &ask, 1, 0) != 1 ||
          ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv.data()) != 0) {
        ::_exit(0);
      }
      (void)send_with_fds(control, {&ask, 1}, sv, 0);
      ::close(sv[0]);
      ::close(sv[1]);
    }
  }

  UniqueFd _control;
  pid_t _pid = -1;
};

World::World()
    : _sockets{std::make_unique<SocketFactory>()},
      _dir{make_scratch_dir()},
      _ring{uring::Ring::create({})},
      _pool{uring::BufferPool::create(_ring, std::size(drive_setups) * (buffers_per_drive + 1),
                                      buffer_size)} {
  std::signal(SIGPIPE, SIG_IGN);  // as tapestreamd: a reader that went away is an error, not a signal
  const char* level = std::getenv("TAPESTREAM_FUZZ_LOG");  // e.g. "debug" to follow a reproducer
  spdlog::set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::off);
  // TAPESTREAM_FUZZ_PATIENCE=N waits N times longer for a release: slow, or stuck for good?
  if (const char* patience = std::getenv("TAPESTREAM_FUZZ_PATIENCE"); patience != nullptr) {
    _patience = std::max(1, std::atoi(patience));
  }
  (void)open_or_die(_dir / "data.bin", O_RDWR | O_CREAT);  // for the O_PATH descriptor
  std::map<std::string, std::unique_ptr<server::DriveSlot>> drives;
  std::uint16_t next = 0;
  for (const auto& setup : drive_setups) {
    auto spec = emulated::parse_drive_spec("emulated:" + (_dir / setup.name).string() + ".tap?" +
                                           setup.options);
    std::vector<std::uint16_t> buffers(buffers_per_drive);
    std::iota(buffers.begin(), buffers.end(), next);
    next = static_cast<std::uint16_t>(next + buffers_per_drive);
    auto drive = std::make_unique<drive::Drive>(
        setup.name, std::make_unique<emulated::EmulatedDrive>(_ring, std::move(spec)), _pool,
        buffers, next++, scsi::TimeoutTable::lto_defaults());
    auto identity = drive::identify(_ring, drive->transport(), _pool, drive->control_buffer(),
                                    drive->timeouts());
    if (!identity) {
      finding(std::string{"drive "} + setup.name + " " + identity.error().what());
    }
    auto id = std::move(identity).value();
    id.serial = std::string{"FUZZ-"} + setup.name;
    id.positioning = {setup.modern, setup.modern};  // both kinds of drive, whatever it takes
    drive->set_identity(std::move(id));
    auto slot = std::make_unique<server::DriveSlot>(std::move(drive));
    drives.emplace(setup.name, std::move(slot));
  }
  server::ServerOptions options;  // no socket path: every connection comes through adopt()
  options.max_data = buffer_size;
  options.default_block_size = buffer_size;
  options.idle_timeout = daemon_timeout;
  options.stream_timeout = daemon_timeout;
  // The sessions under test are the ones that are let in, whoever runs the fuzzer; refusals are
  // the access tests' (tests/unit/access_test.cpp, tests/integration/access_test.py).
  options.access.add(server::parse_access_rule("all: everyone", server::system_names()));
  _server = std::make_unique<server::Server>(_ring, std::move(drives), options);
  reset_tape();
}

World::~World() {
  _server.reset();
  std::error_code ignored;
  std::filesystem::remove_all(_dir, ignored);
}

Client World::connect() {
  std::array<int, 2> sv{};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv.data()) != 0) {
    finding("socketpair: " + errno_text());
  }
  _server->adopt(UniqueFd{sv[0]}, server::Peer{::getuid(), ::getgid(), {}});
  ::fcntl(sv[1], F_SETFL, O_NONBLOCK);
  Client c;
  c.fd = UniqueFd{sv[1]};
  return c;
}

UniqueFd World::adopted_peer() { return std::move(connect().fd); }

std::pair<UniqueFd, UniqueFd> World::foreign_socket_pair() {
  auto pair = _sockets->make();
  ::fcntl(pair.second.get(), F_SETFL, O_NONBLOCK);
  return pair;
}

UniqueFd World::file_with(std::size_t n, bool read_write) {
  auto fd = open_or_die(_dir / "data.bin", O_RDWR | O_TRUNC);
  fill(fd.get(), n);
  if (!read_write) {
    return open_or_die(_dir / "data.bin", O_RDONLY);
  }
  ::lseek(fd.get(), n > 8192 ? 4096 : 0, SEEK_SET);
  return fd;
}

void World::pump(std::deque<Client>& clients, std::vector<Held>& held,
                 std::chrono::milliseconds wait) {
  for (auto& c : clients) {
    flush(c);
  }
  if (!_server->turn(wait)) {
    finding("the ring failed (Server::turn returned false)");
  }
  for (auto& c : clients) {
    drain(c);
    flush(c);
  }
  for (auto& h : held) {
    while (h.drain && ::read(h.fd.get(), scratch.data(), scratch.size()) > 0) {
    }
  }
}

void World::wait_released(std::chrono::milliseconds bound, const std::string& when) {
  // After `bound` it waits on to three seconds, past the daemon's timeouts, so that the finding
  // says whether only a timeout let go (slow) or nothing did (stuck).
  const auto start = Clock::now();
  auto held = [this] {
    std::string names;
    for (const auto& [name, slot] : _server->drives()) {
      names += slot->busy() ? " " + name : "";
    }
    return names;
  };
  auto elapsed = [&start] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  };
  while (_server->connection_count() > 0 || !held().empty()) {
    if (elapsed() > std::max(bound, std::chrono::milliseconds{3s}) * _patience) {
      finding(when + ": " + std::to_string(elapsed().count()) + " ms later the server still has " +
              std::to_string(_server->connection_count()) + " connection(s)" +
              (held().empty() ? "" : " and holds drive(s)" + held()));
    }
    if (!_server->turn(1ms)) {
      finding("the ring failed (Server::turn returned false)");
    }
  }
  if (elapsed() > bound * _patience) {
    finding(when + ": the server let go of everything only " + std::to_string(elapsed().count()) +
            " ms later, not within " + std::to_string(bound.count()) +
            " ms: it noticed the clients leave only by one of its timeouts (1 s here)");
  }
}

void World::reset_tape() {
  std::deque<Client> clients;
  clients.push_back(connect());
  clients.front().keep_replies = true;
  auto request = [&](const proto::Message& m, const std::string& what) {
    auto& c = clients.front();
    c.out.push_back({proto::encode(m, c.next_id++).value(), {}});
    std::vector<Held> none;
    for (const auto until = Clock::now() + 1s; c.replies.empty();) {
      if (Clock::now() > until) {
        finding("the harness's reset: the daemon did not answer " + what + " within 1 s");
      }
      pump(clients, none, 1ms);
    }
    const auto type = c.replies.front();
    c.replies.pop_front();
    return type;
  };
  if (request(proto::Hello{1, 1, 0, "fuzz_session reset"}, "HELLO") != proto::Type::hello_ok) {
    finding("the harness's reset: HELLO was refused");
  }
  using Op = proto::ControlOp;
  for (const auto& setup : drive_setups) {
    for (const auto op : {Op::load, Op::rewind, Op::setblk, Op::compression, Op::erase}) {
      const proto::ControlRequest control{op, 0, 0, setup.name};
      const auto what = std::string{"CONTROL "} + std::to_string(static_cast<int>(op)) + " on " + setup.name;
      int attempt = 0;
      while (request(control, what) != proto::Type::control_done) {
        if (++attempt == 3) {  // a unit attention after a load fails one command, not three
          finding("the harness's reset: " + what + " failed three times");
        }
      }
    }
  }
  clients.clear();
  wait_released(500ms, "after the harness's reset");
}

std::vector<std::string> World::descriptors() const {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    finding("cannot list /proc/self/fd: " + errno_text());
  }
  std::vector<std::string> lines;
  while (const auto* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == ".." || name == std::to_string(::dirfd(dir))) {
      continue;
    }
    std::array<char, 256> target{};
    const auto n = ::readlink(("/proc/self/fd/" + name).c_str(), target.data(), target.size() - 1);
    lines.push_back(name + " -> " +
                    (n > 0 ? std::string(target.data(), static_cast<std::size_t>(n)) : "?"));
  }
  ::closedir(dir);
  std::sort(lines.begin(), lines.end());
  return lines;
}

void World::check_descriptors(const std::vector<std::string>& before) const {
  const auto now = descriptors();
  std::string added;
  for (const auto& line : now) {
    if (!std::binary_search(before.begin(), before.end(), line)) {
      added += "\n  " + line;
    }
  }
  // By count: a descriptor closed and opened again (an image reopened) may change its number.
  if (now.size() > before.size()) {
    finding("after the input the process holds " + std::to_string(now.size()) +
            " descriptors, before it " + std::to_string(before.size()) + "; new:" + added);
  }
}

}  // namespace tapestream::fuzz
