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
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "cli.hpp"

extern char** environ;

namespace tapestream::cli {
namespace {


// The command after "--", run as the stream's producer. Its standard output is a pipe whose
// read end is the stream's data. A producer that fails or is killed still ends its output, and
// the daemon would commit what came: so the CLI keeps the pipe's write end open while the
// producer runs (with fd passing), learns how it ended, and only then lets the stream end — or
// aborts it. This is what a shell pipeline cannot do: `tar c | tapestream write` commits the
// archive of a tar that was killed, because nothing tells tapestream.
// A descriptor closed with its owner.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : _fd{fd} {}
  OwnedFd(OwnedFd&& other) noexcept : _fd{std::exchange(other._fd, -1)} {}
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    reset();
    _fd = std::exchange(other._fd, -1);
    return *this;
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() { reset(); }
  int get() const { return _fd; }
  void reset() {
    if (_fd >= 0) {
      ::close(_fd);
    }
    _fd = -1;
  }

 private:
  int _fd = -1;
};

class Producer {
 public:
  // Runs `command` with its standard output on a new pipe.
  static Result<Producer> start(const std::vector<std::string>& command) {
    Producer p{command.front()};
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      return Failure{TS_INTERNAL, std::string{"pipe: "} + std::strerror(errno)};
    }
    p._read_end = OwnedFd{fds[0]};
    p._write_end = OwnedFd{fds[1]};
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
      return Failure{TS_BAD_REQUEST,
                     "cannot run the producer " + p._name + ": " + std::strerror(spawned)};
    }
    // glibc 2.36's <sys/pidfd.h> lacks extern "C"; the system call itself is plain.
    p._pidfd = OwnedFd{static_cast<int>(::syscall(SYS_pidfd_open, p._pid, 0))};
    return p;
  }

  int data_fd() const { return _read_end.get(); }
  void close_data_fd() { _read_end.reset(); }
  void close_write_end() { _write_end.reset(); }
  int pidfd() const { return _pidfd.get(); }
  // Waits for the producer to exit. Returns why it failed (then the stream must not be
  // committed: it exited non-zero, was killed or could not be waited for), or nothing.
  std::optional<std::string> wait() {
    int status = 0;
    while (::waitpid(_pid, &status, 0) < 0) {
      if (errno != EINTR) {
        return "the producer " + _name + " could not be waited for: " + std::strerror(errno);
      }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      return std::nullopt;
    }
    if (WIFEXITED(status)) {
      return "the producer " + _name + " exited with status " + std::to_string(WEXITSTATUS(status));
    }
    return "the producer " + _name + " was killed by signal " + std::to_string(WTERMSIG(status)) +
           " (" + strsignal(WTERMSIG(status)) + ")";
  }

 private:
  explicit Producer(std::string name) : _name{std::move(name)} {}

  std::string _name;
  pid_t _pid = -1;
  OwnedFd _read_end;
  OwnedFd _write_end;
  OwnedFd _pidfd;
};

// How the data part of a write ended: at the data's end, with the daemon ending the stream
// first, or with this side failing to send (its Failure).
struct Sent {
  std::uint64_t bytes = 0;
  bool ended_early = false;
  std::optional<Failure> failure;
};

// The data on `fd` through the socket: from a pipe by splice(2), so the bytes never pass through
// this process; from anything else by read(2). Waits for data and for the daemon at once: a
// producer that stalls must not keep the CLI from hearing that the daemon ended the stream (its
// stop timeout, a drive failure).
Sent send_data(ts_client* c, ts_stream* stream, int fd, Progress& progress) {
  std::vector<std::uint8_t> buffer(1U << 20);
  Sent sent;
  struct stat st {};
  const bool use_splice = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
  for (;;) {
    const int ready = ts_stream_wait(stream, fd, -1);
    if (ready < 0) {
      sent.failure = lib_failure(c, ready, "write");
      return sent;
    }
    if ((static_cast<unsigned>(ready) & TS_WAIT_ENDED) != 0) {
      sent.ended_early = true;
      return sent;
    }
    if (use_splice) {
      const long n = ts_stream_splice(stream, fd, buffer.size());
      if (n < 0) {
        sent.failure = lib_failure(c, n, "write");
        return sent;
      }
      if (n > 0) {
        sent.bytes += static_cast<std::uint64_t>(n);
        progress.update(sent.bytes);
        continue;
      }
    }
    // Not a pipe, or nothing buffered in it: read(), which also sees the end.
    const auto r = ::read(fd, buffer.data(), buffer.size());
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      sent.failure = Failure{TS_INTERNAL,
                             std::string{"cannot read the stream's data: "} + std::strerror(errno)};
      return sent;
    }
    if (r == 0) {
      return sent;
    }
    if (const int w = ts_stream_write(stream, buffer.data(), static_cast<std::size_t>(r)); w != 0) {
      sent.failure = lib_failure(c, w, "write");
      return sent;
    }
    sent.bytes += static_cast<std::uint64_t>(r);
    progress.update(sent.bytes);
  }
}

// With fd passing the daemon reads the producer's pipe itself; meanwhile the CLI waits for the
// producer to exit (or for the daemon to end the stream first) and then lets the stream end or
// says why it must not. Returns the reason to abort, or nothing.
Result<std::optional<std::string>> watch_producer(ts_client* c, ts_stream* stream,
                                                  Producer& producer) {
  // Without a pidfd (an old kernel) only waiting for the producer itself is left.
  while (producer.pidfd() >= 0) {
    const int ready = ts_stream_wait(stream, producer.pidfd(), -1);
    if (ready < 0) {
      return lib_failure(c, ready, "write");
    }
    if ((static_cast<unsigned>(ready) & TS_WAIT_ENDED) != 0) {
      return std::optional<std::string>{};  // the daemon ended it: commit gives its account
    }
    if ((static_cast<unsigned>(ready) & TS_WAIT_FD) != 0) {
      break;
    }
  }
  auto failed = producer.wait();
  if (!failed) {
    producer.close_write_end();  // the daemon now sees the end of the data
  }
  return failed;
}

Result<std::uint64_t> expected_length(const po::variables_map& vm, bool has_producer) {
  if (vm.count("size") != 0) {
    std::uint64_t size = 0;
    if (ts_parse_size(vm["size"].as<std::string>().c_str(), &size) != 0 || size == 0) {
      return Failure{TS_BAD_REQUEST,
                     "--size: expected a size above 0 (K, M, G allowed)"};
    }
    return size;
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

void print_committed(const Globals& g, const std::string& drive, const ts_result& committed,
                     bool fixed, const SpanParts* span) {
  // Fixed blocks are whole on tape: the last one carries zeros after the stream's end.
  const auto pad = fixed ? committed.blocks * committed.block_size - committed.bytes : 0;
  const auto digest = committed.has_digest != 0 ? digest_text(committed.sha256) : std::string{};
  if (g.json) {
    std::printf("{\"drive\":%s,\"file\":%llu,\"bytes\":%llu,\"blocks\":%llu,\"block_size\":%u,"
                "\"fixed\":%s,\"pad\":%llu,\"early_warning\":%s,\"sha256\":%s%s}\n",
                json_text(drive).c_str(), static_cast<unsigned long long>(committed.file_number),
                static_cast<unsigned long long>(committed.bytes),
                static_cast<unsigned long long>(committed.blocks), committed.block_size,
                fixed ? "true" : "false", static_cast<unsigned long long>(pad),
                (committed.flags & TS_COMMITTED_EARLY_WARNING) != 0 ? "true" : "false",
                digest.empty() ? "null" : ("\"" + digest + "\"").c_str(),
                // With --span the fields above are the last part's; the whole stream's follow.
                span == nullptr ? ""
                                : (",\"stream_bytes\":" + std::to_string(committed.stream_bytes) +
                                   ",\"parts\":" + span->json()).c_str());
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
  if (span != nullptr) {
    std::fprintf(stderr, "tapestream: the stream: %llu bytes in %zu %s\n",
                 static_cast<unsigned long long>(committed.stream_bytes), span->count() + 1,
                 span->count() == 0 ? "part" : "parts");
  }
  if (!digest.empty()) {  // of the stream's own bytes: never the padding
    std::fprintf(stderr, "tapestream: sha256 %s\n", digest.c_str());
  }
}

// A write the daemon did not commit, with its account of what of the stream is on the tape.
Failure write_failure(ts_client* c, const ts_result& f, const SpanParts& span) {
  std::string said = "write failed: " + std::string{ts_daemon_message(c)} + "; ";
  const char* where = "on the tape";
  if (span.count() > 0) {
    // The earlier volumes' parts stay committed: the count is exact on every volume.
    said += span.committed_text() + "; of the part that failed, ";
    where = "on the volume in the drive";
  }
  if (f.blocks == 0) {
    return stream_failure(f, said + "0 bytes of the stream (0 blocks) are " + where +
                                 ": no file was made");
  }
  return stream_failure(f, said + std::to_string(f.bytes) + " bytes of the stream (" +
                               std::to_string(f.blocks) + " blocks) are " + where + " as file " +
                               std::to_string(f.file_number) +
                               ((f.flags & TS_FAILED_FILEMARK_WRITTEN) != 0
                                    ? ", closed by a filemark"
                                    : ", not closed by a filemark (the next write closes it)"));
}

Result<ts_write_options> options_of(const po::variables_map& vm, std::string& label) {
  ts_write_options options;
  TS_INIT(ts_write_options, &options);
  if (vm.count("block-size") != 0) {
    std::uint64_t size = 0;
    if (ts_parse_size(vm["block-size"].as<std::string>().c_str(), &size) != 0 || size == 0 ||
        size > 0xFF'FFFF) {
      return Failure{TS_BAD_REQUEST, "--block-size: expected a size up to 16M-1"};
    }
    options.block_size = static_cast<std::uint32_t>(size);
  }
  options.flags = (vm.count("no-wait") != 0 ? TS_WRITE_NO_WAIT : 0U) |
                  (vm.count("here") != 0 ? 0U : TS_WRITE_APPEND) |
                  (vm.count("fixed") != 0 ? TS_WRITE_FIXED : 0U) |
                  (vm.count("no-digest") != 0 ? TS_WRITE_NO_DIGEST : 0U) |
                  (vm.count("span") != 0 ? TS_WRITE_SPAN : 0U);
  if (vm.count("label") != 0) {
    // Its UTF-8 the library checks before anything is sent.
    label = vm["label"].as<std::string>();
    if (label.size() > TS_MAX_LABEL) {
      return Failure{TS_BAD_REQUEST, "--label: at most 255 bytes of UTF-8"};
    }
    options.label = label.c_str();
  }
  return options;
}

}  // namespace

Result<void> write_command(ts_client* c, const Globals& g, const po::variables_map& vm,
                           const std::vector<std::string>& producer_command) {
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  std::string label;
  BOOST_OUTCOME_TRY(options, options_of(vm, label));
  // Before any producer starts: an older daemon would not even know what is asked.
  if ((options.flags & TS_WRITE_NO_DIGEST) != 0 && (ts_features(c) & TS_FEATURE_NO_DIGEST) == 0) {
    return Failure{TS_BAD_REQUEST,
                   "--no-digest: this tapestreamd does not know streams without digest (it is "
                   "older than this tapestream); nothing was written"};
  }
  const bool has_producer = !producer_command.empty();
  // As tar refuses to write an archive to a terminal: what is typed is rarely meant for tape.
  if (!has_producer && isatty(STDIN_FILENO) == 1 && vm.count("force") == 0) {
    return Failure{TS_BAD_REQUEST,
                   "standard input is a terminal; refusing to write what is typed to tape "
                   "(--force does it anyway)"};
  }
  BOOST_OUTCOME_TRY(length, expected_length(vm, has_producer));
  options.expected_length = length;
  std::optional<Producer> producer;
  if (has_producer) {
    BOOST_OUTCOME_TRY(started, Producer::start(producer_command));
    producer.emplace(std::move(started));
  }
  const int data_fd = producer ? producer->data_fd() : STDIN_FILENO;
  Progress progress{"written"};
  progress.set_drive(drive);
  progress.set_total(length);
  progress.follow(c);
  SpanParts span;
  if ((options.flags & TS_WRITE_SPAN) != 0) {
    span.follow(c);
  }
  BOOST_OUTCOME_TRY(passable, pass_descriptor(c, vm, data_fd, false));
  // The daemon takes a spanning stream's data through the socket only: it must be able to stop
  // reading while the volumes change, and a passed descriptor would be read past a part's end.
  const bool spanning = (options.flags & TS_WRITE_SPAN) != 0;
  if (spanning && passable && vm.count("data-path") != 0 &&
      vm["data-path"].as<std::string>() == "fd") {
    return Failure{TS_BAD_REQUEST, "--span: the data goes through the socket, not --data-path fd"};
  }
  const bool by_fd = passable && !spanning;
  ts_stream* stream = nullptr;
  const int begun = ts_write_begin(c, drive.c_str(), &options, by_fd ? data_fd : -1, &stream);
  if (producer && by_fd) {
    producer->close_data_fd();  // the daemon holds its own copy
  } else if (producer) {
    producer->close_write_end();  // this process reads the pipe to its end
  }
  if (begun != 0) {
    return lib_failure(c, begun, "write");
  }
  const bool fixed = (ts_stream_ready_flags(stream) & TS_READY_FIXED) != 0;
  std::optional<std::string> abort_reason;
  std::optional<Failure> send_failure;
  if (!by_fd) {
    auto sent = send_data(c, stream, data_fd, progress);
    send_failure = std::move(sent.failure);
    if (!sent.ended_early && !send_failure && producer) {
      abort_reason = producer->wait();
    }
  } else if (producer) {
    BOOST_OUTCOME_TRY(reason, watch_producer(c, stream, *producer));
    abort_reason = std::move(reason);
  }
  ts_result done;
  TS_INIT(ts_result, &done);
  const int ended = abort_reason ? ts_stream_abort_result(stream, abort_reason->c_str(), &done)
                                 : ts_stream_commit(stream, &done);
  if (done.stream_failed != 0) {
    return write_failure(c, done, span);  // the daemon's account: aborted, or ended early
  }
  if (send_failure) {
    return *send_failure;
  }
  if (ended != 0) {
    return lib_failure(c, ended, "write");
  }
  // The line on the terminal becomes the summary before the commit's own lines follow.
  if (!g.json) {
    progress.finish(spanning ? done.stream_bytes : done.bytes);
  } else {
    progress.update(spanning ? done.stream_bytes : done.bytes, true);
  }
  print_committed(g, drive, done, fixed, spanning ? &span : nullptr);
  return outcome::success();
}

}  // namespace tapestream::cli
