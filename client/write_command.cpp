// tapestream write: standard input (or the output of a producer command) to tape as one file.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>

#include "cli.hpp"
#include "common/result.hpp"
#include "common/size.hpp"

extern char** environ;

namespace tapestream::cli {
namespace {

using client::Failure;

// The command after "--", run as the stream's producer. Its standard output is a pipe whose
// read end is the stream's data. A producer that fails or is killed still ends its output, and
// the daemon would commit what came: so the CLI keeps the pipe's write end open while the
// producer runs (with fd passing), learns how it ended, and only then lets the stream end — or
// aborts it. This is what a shell pipeline cannot do: `tar c | tapestream write` commits the
// archive of a tar that was killed, because nothing tells tapestream.
class Producer {
 public:
  // Runs `command` with its standard output on a new pipe.
  static client::Result<Producer> start(const std::vector<std::string>& command) {
    Producer p{command.front()};
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      return Failure{proto::Status::internal, std::string{"pipe: "} + std::strerror(errno)};
    }
    p._read_end = UniqueFd{fds[0]};
    p._write_end = UniqueFd{fds[1]};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, p._write_end.get(), STDOUT_FILENO);
    std::vector<char*> argv;
    for (const auto& a : command) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    const int spawned = ::posix_spawnp(&p._pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      return Failure{proto::Status::bad_request,
                     "cannot run the producer " + p._name + ": " + std::strerror(spawned)};
    }
    // glibc 2.36's <sys/pidfd.h> lacks extern "C"; the system call itself is plain.
    p._pidfd = UniqueFd{static_cast<int>(::syscall(SYS_pidfd_open, p._pid, 0))};
    return p;
  }

  int data_fd() const { return _read_end.get(); }
  void close_data_fd() { _read_end.reset(); }
  void close_write_end() { _write_end.reset(); }
  int pidfd() const { return _pidfd.get(); }
  // Waits for the producer to exit. It failed (Status::incomplete: the stream must not be
  // committed) when it exited non-zero, was killed or could not be waited for.
  Result<void, tapestream::Failure> wait() {
    const auto incomplete = make_error_code(proto::Status::incomplete);
    int status = 0;
    while (::waitpid(_pid, &status, 0) < 0) {
      if (errno != EINTR) {
        return tapestream::Failure{incomplete, "the producer " + _name +
                                                   " could not be waited for: " +
                                                   std::strerror(errno)};
      }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      return outcome::success();
    }
    if (WIFEXITED(status)) {
      return tapestream::Failure{incomplete, "the producer " + _name + " exited with status " +
                                                 std::to_string(WEXITSTATUS(status))};
    }
    return tapestream::Failure{incomplete, "the producer " + _name + " was killed by signal " +
                                               std::to_string(WTERMSIG(status)) + " (" +
                                               strsignal(WTERMSIG(status)) + ")"};
  }

 private:
  explicit Producer(std::string name) : _name{std::move(name)} {}

  std::string _name;
  pid_t _pid = -1;
  UniqueFd _read_end;
  UniqueFd _write_end;
  UniqueFd _pidfd;
};

// The data on `fd` as DATA frames: from a pipe by splice(2), so the bytes never pass through
// this process; from anything else by read(2). Stops early when the daemon ends the stream.
client::Result<std::uint64_t> send_data(client::Connection& c, int fd,
                                        std::optional<proto::Message>& early_reply,
                                        Progress& progress) {
  const auto chunk = std::min<std::uint32_t>(c.max_data(), 1U << 20);
  std::vector<std::uint8_t> buffer;
  std::uint64_t total = 0;
  struct stat st {};
  const bool use_splice = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
  for (;;) {
    // Wait for data and for the daemon at once: a producer that stalls must not keep the CLI
    // from hearing that the daemon ended the stream (its stop timeout, a drive failure).
    pollfd ready[2] = {{fd, POLLIN, 0}, {c.fd(), POLLIN, 0}};
    if (::poll(ready, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Failure{proto::Status::internal, std::string{"poll: "} + std::strerror(errno)};
    }
    if ((ready[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      BOOST_OUTCOME_TRY(received, c.receive());
      auto reply = std::move(received.message);
      if (const auto* p = std::get_if<proto::Progress>(&reply)) {
        progress.update(*p);
        continue;
      }
      early_reply = std::move(reply);  // the daemon ended the stream early: stop sending
      return total;
    }
    int available = 0;
    if (use_splice && ioctl(fd, FIONREAD, &available) == 0 && available > 0) {
      const auto n = std::min<std::uint32_t>(static_cast<std::uint32_t>(available), chunk);
      BOOST_OUTCOME_TRY(c.send_data_header(n));
      std::uint32_t moved = 0;
      while (moved < n) {
        const auto r = splice(fd, nullptr, c.fd(), nullptr, n - moved, SPLICE_F_MOVE);
        if (r <= 0) {
          if (r < 0 && errno == EINTR) {
            continue;
          }
          return Failure{proto::Status::unreachable,
                         std::string{"splice to the daemon failed: "} + std::strerror(errno)};
        }
        moved += static_cast<std::uint32_t>(r);
      }
      total += n;
      progress.update(total);
      continue;
    }
    // Not a pipe, or nothing buffered in it: read(), which also sees the end.
    buffer.resize(chunk);
    const auto r = ::read(fd, buffer.data(), buffer.size());
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      return Failure{proto::Status::internal,
                     std::string{"cannot read the stream's data: "} + std::strerror(errno)};
    }
    if (r == 0) {
      return total;
    }
    BOOST_OUTCOME_TRY(c.send_data_header(static_cast<std::uint32_t>(r)));
    BOOST_OUTCOME_TRY(c.write_all({buffer.data(), static_cast<std::size_t>(r)}));
    total += static_cast<std::uint64_t>(r);
    progress.update(total);
  }
}

// With fd passing the daemon reads the producer's pipe itself; meanwhile the CLI waits for the
// producer to exit (or for the daemon to end the stream first) and then lets the stream end or
// aborts it.
client::Result<std::optional<proto::Message>> watch_producer(client::Connection& c,
                                                             Producer& producer,
                                                             Progress& progress) {
  for (;;) {
    pollfd fds[2] = {{c.fd(), POLLIN, 0}, {producer.pidfd(), POLLIN, 0}};
    if (::poll(fds, producer.pidfd() >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Failure{proto::Status::internal, std::string{"poll: "} + std::strerror(errno)};
    }
    if ((fds[0].revents & (POLLIN | POLLHUP)) != 0) {
      BOOST_OUTCOME_TRY(received, c.receive());
      auto reply = std::move(received.message);
      if (const auto* p = std::get_if<proto::Progress>(&reply)) {
        progress.update(*p);
        continue;
      }
      return std::optional<proto::Message>{std::move(reply)};
    }
    if (producer.pidfd() < 0 || (fds[1].revents & POLLIN) != 0) {
      if (const auto exited = producer.wait(); exited) {
        producer.close_write_end();  // the daemon now sees the end of the data
      } else {
        BOOST_OUTCOME_TRY(c.send(proto::Abort{exited.error().what()}));
      }
      return std::optional<proto::Message>{};
    }
  }
}

client::Result<std::uint64_t> expected_length(const po::variables_map& vm, bool has_producer) {
  if (vm.count("size") != 0) {
    const auto size = parse_size(vm["size"].as<std::string>());
    if (!size || *size == 0) {
      return Failure{proto::Status::bad_request,
                     "--size: expected a size above 0 (K, M, G allowed)"};
    }
    return *size;
  }
  struct stat st {};
  if (!has_producer && fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
    const auto offset = lseek(STDIN_FILENO, 0, SEEK_CUR);
    if (offset >= 0 && st.st_size > offset) {
      return static_cast<std::uint64_t>(st.st_size - offset);  // a file's length is known
    }
  }
  return std::uint64_t{0};
}

void print_committed(const Globals& g, const std::string& drive, const proto::Committed& committed,
                     bool fixed) {
  // Fixed blocks are whole on tape: the last one carries zeros after the stream's end.
  const auto pad = fixed ? committed.blocks * committed.block_size - committed.bytes : 0;
  if (g.json) {
    std::printf("{\"drive\":%s,\"file\":%llu,\"bytes\":%llu,\"blocks\":%llu,\"block_size\":%u,"
                "\"fixed\":%s,\"pad\":%llu,\"early_warning\":%s,\"sha256\":%s}\n",
                json_text(drive).c_str(), static_cast<unsigned long long>(committed.file_number),
                static_cast<unsigned long long>(committed.bytes),
                static_cast<unsigned long long>(committed.blocks), committed.block_size,
                fixed ? "true" : "false", static_cast<unsigned long long>(pad),
                (committed.flags & TS_COMMITTED_EARLY_WARNING) != 0 ? "true" : "false",
                digest_json(committed.digest).c_str());
    return;
  }
  std::fprintf(stderr, "tapestream: committed %llu bytes in %llu blocks as file %llu on %s",
               static_cast<unsigned long long>(committed.bytes),
               static_cast<unsigned long long>(committed.blocks),
               static_cast<unsigned long long>(committed.file_number), drive.c_str());
  if (fixed) {
    std::fprintf(stderr, " (fixed blocks of %u bytes, the last padded with %llu zero bytes)",
                 committed.block_size, static_cast<unsigned long long>(pad));
  }
  std::fputc('\n', stderr);
  print_digest_line(committed.digest);  // of the stream's own bytes: never the padding
}

}  // namespace

client::Result<void> write_command(client::Connection& c, const Globals& g,
                                   const po::variables_map& vm,
                                   const std::vector<std::string>& producer_command) {
  proto::WriteRequest request;
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  request.drive = drive;
  if (vm.count("block-size") != 0) {
    const auto size = parse_size(vm["block-size"].as<std::string>());
    if (!size || *size == 0 || *size > 0xFF'FFFF) {
      return Failure{proto::Status::bad_request, "--block-size: expected a size up to 16M-1"};
    }
    request.block_size = static_cast<std::uint32_t>(*size);
  }
  request.flags = (vm.count("no-wait") != 0 ? TS_WRITE_NO_WAIT : 0U) |
                  (vm.count("here") != 0 ? 0U : TS_WRITE_APPEND) |
                  (vm.count("fixed") != 0 ? TS_WRITE_FIXED : 0U);
  if (vm.count("label") != 0) {
    request.label = vm["label"].as<std::string>();
    if (!proto::valid_utf8(request.label) || request.label.size() > TS_MAX_LABEL) {
      return Failure{proto::Status::bad_request, "--label: at most 255 bytes of UTF-8"};
    }
  }
  const bool has_producer = !producer_command.empty();
  // As tar refuses to write an archive to a terminal: what is typed is rarely meant for tape.
  if (!has_producer && isatty(STDIN_FILENO) == 1 && vm.count("force") == 0) {
    return Failure{proto::Status::bad_request,
                   "standard input is a terminal; refusing to write what is typed to tape "
                   "(--force does it anyway)"};
  }
  BOOST_OUTCOME_TRY(length, expected_length(vm, has_producer));
  request.expected_length = length;
  std::optional<Producer> producer;
  if (has_producer) {
    BOOST_OUTCOME_TRY(started, Producer::start(producer_command));
    producer.emplace(std::move(started));
  }
  const int data_fd = producer ? producer->data_fd() : STDIN_FILENO;
  Progress progress{"written"};
  BOOST_OUTCOME_TRY(by_fd, send_stream_request(c, vm, request, data_fd, progress));
  if (producer && by_fd) {
    producer->close_data_fd();  // the daemon holds its own copy
  } else if (producer) {
    producer->close_write_end();  // this process reads the pipe to its end
  }
  BOOST_OUTCOME_TRY(ready, c.receive());
  const auto* r = std::get_if<proto::Ready>(&ready.message);
  if (r == nullptr) {
    return failed(ready.message, "write");
  }
  std::optional<proto::Message> early;
  if (!by_fd) {
    BOOST_OUTCOME_TRY(total, send_data(c, data_fd, early, progress));
    if (!early) {
      const auto exited =
          producer ? producer->wait() : Result<void, tapestream::Failure>{outcome::success()};
      if (exited) {
        BOOST_OUTCOME_TRY(c.send(proto::End{total, 0, {}}));
      } else {
        BOOST_OUTCOME_TRY(c.send(proto::Abort{exited.error().what()}));
      }
    }
  } else if (producer) {
    BOOST_OUTCOME_TRY(watched, watch_producer(c, *producer, progress));
    early = std::move(watched);
  }
  proto::Message answer;
  if (early) {
    answer = std::move(*early);
  } else {
    BOOST_OUTCOME_TRY(received, c.receive());
    answer = std::move(received.message);
  }
  while (const auto* p = std::get_if<proto::Progress>(&answer)) {
    progress.update(*p);
    BOOST_OUTCOME_TRY(received, c.receive());
    answer = std::move(received.message);
  }
  const auto* committed = std::get_if<proto::Committed>(&answer);
  if (committed == nullptr) {
    return failed(answer, "write");
  }
  progress.update(committed->bytes, true);
  print_committed(g, request.drive, *committed, (r->flags & TS_READY_FIXED) != 0);
  return outcome::success();
}

}  // namespace tapestream::cli
