// tapestream read: one file from tape to standard output.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cli.hpp"

namespace tapestream::cli {
namespace {


// The daemon wrote standard output itself and its reader went away (EPIPE): end as any
// pipeline member whose reader is gone does, by SIGPIPE, so that `tapestream read | head`
// behaves like `cat file | head`.
[[noreturn]] void die_of_sigpipe() {
  std::signal(SIGPIPE, SIG_DFL);
  std::raise(SIGPIPE);
  _exit(141);
}


// Standard output is the data: the summary goes to standard error. The digest is of what was
// given, the padding of a fixed-block file's last block included.
void print_end(const Globals& g, const std::string& drive, std::uint64_t file_number,
               const ts_result& end) {
  const auto digest = end.has_digest != 0 ? digest_text(end.sha256) : std::string{};
  if (g.json) {
    std::fprintf(stderr, "{\"drive\":%s,\"bytes\":%llu,\"blocks\":%llu,\"sha256\":%s}\n",
                 json_text(drive).c_str(), static_cast<unsigned long long>(end.bytes),
                 static_cast<unsigned long long>(end.blocks),
                 digest.empty() ? "null" : ("\"" + digest + "\"").c_str());
    return;
  }
  const auto file = file_number == TS_READ_CURRENT_FILE ? std::string{"the file where the tape stood"}
                                                        : "file " + std::to_string(file_number);
  std::fprintf(stderr, "tapestream: read %llu bytes in %llu blocks of %s on %s\n",
               static_cast<unsigned long long>(end.bytes), static_cast<unsigned long long>(end.blocks),
               file.c_str(), drive.c_str());
  if (!digest.empty()) {
    std::fprintf(stderr, "tapestream: sha256 %s\n", digest.c_str());
  }
}

// Copies the stream's DATA to standard output; returns the bytes given.
Result<std::uint64_t> copy_out(ts_client* c, ts_stream* stream, Progress& progress) {
  std::vector<std::uint8_t> buffer(1U << 20);
  std::uint64_t total = 0;
  for (;;) {
    const long n = ts_stream_read(stream, buffer.data(), buffer.size());
    if (n < 0) {
      return lib_failure(c, n, "read");
    }
    if (n == 0) {
      return total;
    }
    std::size_t done = 0;
    while (done < static_cast<std::size_t>(n)) {
      // A reader that went away raises SIGPIPE here, which ends this process as it ends cat.
      const auto w = ::write(STDOUT_FILENO, buffer.data() + done, static_cast<std::size_t>(n) - done);
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w <= 0) {
        return Failure{TS_INTERNAL,
                       std::string{"cannot write standard output: "} + std::strerror(errno)};
      }
      done += static_cast<std::size_t>(w);
    }
    total += static_cast<std::uint64_t>(n);
    progress.update(total);
  }
}

}  // namespace

// One file to standard output; its END in `end`. Returns the bytes given.
Result<std::uint64_t> read_file(ts_client* c, const std::string& drive, std::uint64_t file,
                                bool by_fd, Progress& progress, ts_result& end) {
  ts_stream* stream = nullptr;
  if (const int r = ts_read_begin(c, drive.c_str(), file, by_fd ? STDOUT_FILENO : -1, &stream);
      r != 0) {
    return lib_failure(c, r, "read");
  }
  std::uint64_t total = 0;
  if (!by_fd) {
    BOOST_OUTCOME_TRY(copied, copy_out(c, stream, progress));
    total = copied;
  }
  TS_INIT(ts_result, &end);
  if (const int r = ts_stream_finish(stream, &end); r != 0) {
    if (end.stream_failed != 0) {
      if (end.status == TS_CLIENT_GONE && by_fd) {
        die_of_sigpipe();
      }
      return stream_failure(end, "read failed: " + std::string{ts_daemon_message(c)} + "; " +
                                        std::to_string(end.bytes) + " bytes were delivered");
    }
    return lib_failure(c, r, "read");
  }
  if (by_fd) {  // the daemon wrote standard output itself: its END counts the bytes
    total = end.bytes;
  }
  return total;
}

Result<void> read_command(ts_client* c, const Globals& g, const po::variables_map& vm) {
  Progress progress{"read"};
  progress.follow(c);
  BOOST_OUTCOME_TRY(by_fd, pass_descriptor(c, vm, STDOUT_FILENO, true));
  if (vm.count("incomplete") != 0 && vm.count("span") == 0 && vm.count("stream") == 0) {
    return Failure{TS_BAD_REQUEST, "--incomplete goes with read --span or --stream"};
  }
  if (vm.count("span") != 0 || vm.count("stream") != 0) {
    std::uint64_t before = 0;  // the parts already given, so that the display counts the stream
    return read_span_command(c, g, vm, [&](ts_client* client, const std::string& drive,
                                           std::uint64_t file) -> Result<std::uint64_t> {
      ts_result end;
      BOOST_OUTCOME_TRY(n, read_file(client, drive, file, by_fd, progress, end));
      before += n;
      progress.update(before);
      return n;
    });
  }
  BOOST_OUTCOME_TRY(file, file_option(vm));
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  ts_result end;
  progress.set_drive(drive);
  BOOST_OUTCOME_TRY(total, read_file(c, drive, file, by_fd, progress, end));
  if (!g.json) {
    progress.finish(total);
  } else {
    progress.update(total, true);
  }
  print_end(g, drive, file, end);
  return outcome::success();
}

}  // namespace tapestream::cli
