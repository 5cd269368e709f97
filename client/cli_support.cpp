#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "cli.hpp"

namespace tapestream::cli {

using client::Failure;

std::string json_text(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string digest_text(const std::optional<proto::Digest>& digest) {
  if (!digest) {
    return {};
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  for (const auto byte : *digest) {
    text += digits[byte >> 4];
    text += digits[byte & 0x0F];
  }
  return text;
}

std::string digest_json(const std::optional<proto::Digest>& digest) {
  return digest ? "\"" + digest_text(digest) + "\"" : std::string{"null"};
}

void print_digest_line(const std::optional<proto::Digest>& digest) {
  if (digest) {
    std::fprintf(stderr, "tapestream: sha256 %s\n", digest_text(digest).c_str());
  }
}

client::Result<std::string> pick_drive(client::Connection& c, const std::string& wanted) {
  if (!wanted.empty()) {
    return wanted;
  }
  BOOST_OUTCOME_TRY(c.send(proto::ListDrives{}));
  BOOST_OUTCOME_TRY(reply, c.receive());
  if (std::holds_alternative<proto::Error>(reply.message)) {
    return failed(reply.message, "listing the drives");  // not_permitted, for one
  }
  const auto* list = std::get_if<proto::DriveList>(&reply.message);
  if (list == nullptr || list->drives.empty()) {
    return Failure{proto::Status::unknown_drive, "the daemon serves no drive"};
  }
  if (list->drives.size() > 1) {
    std::string names;
    for (const auto& d : list->drives) {
      names += " " + d;
    }
    return Failure{proto::Status::unknown_drive,
                   "several drives (" + names.substr(1) + "): name one with --drive"};
  }
  return list->drives.front();
}

Failure failed(const proto::Message& m, const char* what) {
  if (const auto* e = std::get_if<proto::Error>(&m)) {
    return Failure{e->status, std::string{what} + ": " + e->message};
  }
  if (const auto* f = std::get_if<proto::StreamFailed>(&m)) {
    if (std::string_view{what} == "write") {
      if (f->blocks == 0) {
        return Failure{f->status,
                       "write failed: " + f->message +
                           "; 0 bytes of the stream (0 blocks) are on the tape: no file was made",
                       *f};
      }
      return Failure{f->status,
                     "write failed: " + f->message + "; " + std::to_string(f->bytes) +
                         " bytes of the stream (" + std::to_string(f->blocks) +
                         " blocks) are on the tape as file " + std::to_string(f->file_number) +
                         ((f->flags & TS_FAILED_FILEMARK_WRITTEN) != 0
                              ? ", closed by a filemark"
                              : ", not closed by a filemark (the next write closes it)"),
                     *f};
    }
    return Failure{f->status, std::string{what} + " failed: " + f->message + "; " +
                                  std::to_string(f->bytes) + " bytes were delivered",
                   *f};
  }
  return Failure{proto::Status::bad_type, std::string{what} + ": unexpected reply"};
}

Progress::Progress(const char* verb) : _verb{verb}, _on{isatty(STDERR_FILENO) == 1} {}

void Progress::update(std::uint64_t bytes, bool last) {
  _bytes = bytes;
  show(last);
}

void Progress::update(const proto::Progress& p) {
  _bytes = std::max(_bytes, p.bytes);
  _full = p.buffers_full;
  _buffers = p.buffers;
  show(false);
}

void Progress::show(bool last) {
  if (!_on) {
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!last && now - _shown < std::chrono::milliseconds{500}) {
    return;
  }
  _shown = now;
  const double seconds = std::chrono::duration<double>(now - _start).count();
  const double mib = static_cast<double>(_bytes) / 1048576.0;
  char pool[32] = "";
  if (_buffers > 0) {
    std::snprintf(pool, sizeof pool, "  pool %u/%u", _full, _buffers);
  }
  std::fprintf(stderr, "\r%s %.1f MiB  %.1f MiB/s%s  %02d:%02d%s", _verb, mib,
               seconds > 0 ? mib / seconds : 0.0, pool, static_cast<int>(seconds) / 60,
               static_cast<int>(seconds) % 60, last ? "\n" : "   ");
}

namespace {

// The data path: the descriptor itself to the daemon (fd passing), which then reads or writes it
// with no copy through this process and no socket in between, or the bytes on the socket. "auto"
// passes pipes, sockets and regular files (bench/stream_vs_mbuffer.sh: fd passing takes about
// half the CPU of the stream path); a terminal stays with the client.
client::Result<bool> pass_descriptor(const client::Connection& c, const po::variables_map& vm,
                                     int fd, bool for_output) {
  const auto path = vm.count("data-path") != 0 ? vm["data-path"].as<std::string>() : "auto";
  if (path != "auto" && path != "fd" && path != "stream") {
    return Failure{proto::Status::bad_request, "--data-path: expected auto, fd or stream"};
  }
  struct stat st {};
  const bool passable = fstat(fd, &st) == 0 && isatty(fd) == 0 &&
                        (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode) ||
                         (for_output && S_ISCHR(st.st_mode)));
  if (path == "fd" && (!passable || !c.fd_passing())) {
    return Failure{proto::Status::bad_request,
                   !passable ? "--data-path fd: the descriptor is a terminal or cannot be passed"
                             : "--data-path fd: the daemon does not offer fd passing"};
  }
  return path == "fd" || (path == "auto" && passable && c.fd_passing());
}

template <typename Request>
client::Result<bool> send_request(client::Connection& c, const po::variables_map& vm,
                                  Request request, int fd, const Progress& progress,
                                  bool for_output) {
  static_assert(TS_WRITE_FD == TS_READ_FD && TS_WRITE_PROGRESS == TS_READ_PROGRESS);
  if (progress.on()) {
    request.flags |= TS_WRITE_PROGRESS;
  }
  BOOST_OUTCOME_TRY(by_fd, pass_descriptor(c, vm, fd, for_output));
  if (by_fd) {
    request.flags |= TS_WRITE_FD;
    BOOST_OUTCOME_TRY(c.send_with_fd(request, fd));
  } else {
    BOOST_OUTCOME_TRY(c.send(request));
  }
  return by_fd;
}

}  // namespace

client::Result<bool> send_stream_request(client::Connection& c, const po::variables_map& vm,
                                         proto::WriteRequest request, int fd,
                                         const Progress& progress) {
  return send_request(c, vm, std::move(request), fd, progress, false);
}

client::Result<bool> send_stream_request(client::Connection& c, const po::variables_map& vm,
                                         proto::ReadRequest request, int fd,
                                         const Progress& progress) {
  return send_request(c, vm, std::move(request), fd, progress, true);
}

// A non-negative decimal: "-1" must not wrap around to "the current file".
client::Result<std::uint64_t> file_option(const po::variables_map& vm) {
  if (vm.count("file") == 0) {
    return TS_READ_CURRENT_FILE;
  }
  const auto text = vm["file"].as<std::string>();
  std::uint64_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() ||
      n == TS_READ_CURRENT_FILE) {
    return Failure{proto::Status::bad_request,
                   "--file " + text + ": expected a file number (0, 1, 2, ...)"};
  }
  return n;
}

}  // namespace tapestream::cli
