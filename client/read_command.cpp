// tapestream read: one file from tape to standard output.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include "cli.hpp"

namespace tapestream::cli {
namespace {

using client::Failure;

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
void print_end(const Globals& g, const proto::ReadRequest& request, const proto::End& end) {
  if (g.json) {
    std::fprintf(stderr, "{\"drive\":%s,\"bytes\":%llu,\"blocks\":%llu,\"sha256\":%s}\n",
                 json_text(request.drive).c_str(), static_cast<unsigned long long>(end.bytes),
                 static_cast<unsigned long long>(end.blocks), digest_json(end.digest).c_str());
    return;
  }
  const auto file = request.file_number == TS_READ_CURRENT_FILE
                        ? std::string{"the file where the tape stood"}
                        : "file " + std::to_string(request.file_number);
  std::fprintf(stderr, "tapestream: read %llu bytes in %llu blocks of %s on %s\n",
               static_cast<unsigned long long>(end.bytes), static_cast<unsigned long long>(end.blocks),
               file.c_str(), request.drive.c_str());
  print_digest_line(end.digest);
}

}  // namespace

client::Result<void> read_command(client::Connection& c, const Globals& g,
                                  const po::variables_map& vm) {
  proto::ReadRequest request;
  BOOST_OUTCOME_TRY(file, file_option(vm));
  request.file_number = file;
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  request.drive = drive;
  Progress progress{"read"};
  BOOST_OUTCOME_TRY(by_fd, send_stream_request(c, vm, request, STDOUT_FILENO, progress));
  BOOST_OUTCOME_TRY(ready, c.receive());
  if (!std::holds_alternative<proto::Ready>(ready.message)) {
    return failed(ready.message, "read");
  }
  std::vector<std::uint8_t> buffer;
  std::uint64_t total = 0;
  for (;;) {
    BOOST_OUTCOME_TRY(frame, c.receive(true));
    if (const auto* p = std::get_if<proto::Progress>(&frame.message)) {
      progress.update(*p);
      continue;
    }
    if (frame.header.type != proto::Type::data) {
      if (const auto* end = std::get_if<proto::End>(&frame.message)) {
        if (by_fd) {  // the daemon wrote standard output itself: its END counts the bytes
          total = end->bytes;
        }
        progress.update(total, true);
        if (end->bytes != total) {
          return Failure{proto::Status::internal, "the daemon says " + std::to_string(end->bytes) +
                                                      " bytes, " + std::to_string(total) +
                                                      " arrived"};
        }
        print_end(g, request, *end);
        return outcome::success();
      }
      if (const auto* f = std::get_if<proto::StreamFailed>(&frame.message);
          f != nullptr && f->status == proto::Status::client_gone && by_fd) {
        die_of_sigpipe();
      }
      return failed(frame.message, "read");
    }
    if (by_fd) {
      return Failure{proto::Status::out_of_sequence,
                     "the daemon sent DATA to a passed descriptor's read"};
    }
    buffer.resize(frame.header.length);
    BOOST_OUTCOME_TRY(c.read_exact(buffer));
    std::size_t done = 0;
    while (done < buffer.size()) {
      // A reader that went away raises SIGPIPE here, which ends this process as it ends cat.
      const auto w = ::write(STDOUT_FILENO, buffer.data() + done, buffer.size() - done);
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w <= 0) {
        return Failure{proto::Status::internal,
                       std::string{"cannot write standard output: "} + std::strerror(errno)};
      }
      done += static_cast<std::size_t>(w);
    }
    total += buffer.size();
    progress.update(total);
  }
}

}  // namespace tapestream::cli
