// tapestream: the command-line client of tapestreamd. `tar c /srv | tapestream write` puts a
// stream on tape, committed only when it is on the medium; `tapestream read --file 3 | tar x`
// gives it back; the other commands position and inspect the drive, with mt's verbs.
#include <boost/program_options.hpp>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "common/size.hpp"
#include "connection.hpp"

namespace po = boost::program_options;
using namespace tapestream;
using client::Failure;

namespace {

constexpr int exit_usage = 64;

constexpr const char* usage_text = R"(tapestream - write to and read from tape through tapestreamd

Usage:
  tapestream [OPTIONS] write [--block-size SIZE] [--fixed] [--no-wait] [--here]
                           [--label TEXT] [--data-path auto|fd|stream]
  tapestream [OPTIONS] read [--file N] [--data-path auto|fd|stream]
  tapestream [OPTIONS] status | drives | tell
  tapestream [OPTIONS] rewind | load | eject | eod
  tapestream [OPTIONS] weof [N] | fsf [N] | bsf [N] | fsr [N] | bsr [N] | seek BLOCK
  tapestream [OPTIONS] erase [--long] | setblk SIZE | compression on|off

Commands:
  write    copy standard input to tape as one file, appended after the last file
           (--here: at the current position, which ends the tape there). Exits 0 only
           once the data and a filemark are on the medium (WRITE FILEMARKS, Immed=0).
  read     copy file N (default: the file at the current position) to standard output
  status   the drive: identity, position, block size, flags
  drives   the drives the daemon serves
  tell     the current block and file number
  rewind, load, eject (unload), eod (to end of data), weof (write N filemarks),
  fsf/bsf (forward/back over N filemarks), fsr/bsr (over N blocks), seek (to a block),
  erase (short, or --long: to the end of the tape), setblk (0: variable blocks),
  compression on|off

Options:)";

constexpr const char* exit_text = R"(
Environment:
  TAPESTREAM_SOCKET   the daemon's socket, unless --socket names one

Exit status:
  0   done (write: committed: on the medium)
  64  usage error, or an unknown drive
  66  no cartridge, write protected, or no such file
  69  the daemon cannot be reached
  70  a protocol or internal error
  73  the tape is full: the stream ended at end of medium (the message says how much
      of it is on the tape)
  74  a medium, drive or transport error, or a timeout (the message says how much of
      the stream is on the tape)
  75  the drive is busy (with --no-wait), or the daemon is stopping
)";

struct Globals {
  std::string socket;
  std::string drive;
  bool json = false;
};

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

std::string pick_drive(client::Connection& c, const std::string& wanted) {
  if (!wanted.empty()) {
    return wanted;
  }
  c.send(proto::ListDrives{});
  const auto reply = c.receive();
  const auto* list = std::get_if<proto::DriveList>(&reply.message);
  if (list == nullptr || list->drives.empty()) {
    throw Failure{proto::Status::unknown_drive, "the daemon serves no drive"};
  }
  if (list->drives.size() > 1) {
    std::string names;
    for (const auto& d : list->drives) {
      names += " " + d;
    }
    throw Failure{proto::Status::unknown_drive, "several drives (" + names.substr(1) +
                                                    "): name one with --drive"};
  }
  return list->drives.front();
}

[[noreturn]] void failed(const proto::Message& m, const char* what) {
  if (const auto* e = std::get_if<proto::Error>(&m)) {
    throw Failure{e->status, std::string{what} + ": " + e->message};
  }
  if (const auto* f = std::get_if<proto::StreamFailed>(&m)) {
    if (std::string_view{what} == "write") {
      throw Failure{f->status, "write failed: " + f->message + "; " + std::to_string(f->bytes) +
                                   " bytes of the stream (" + std::to_string(f->blocks) +
                                   " blocks) are on the tape as file " +
                                   std::to_string(f->file_number) +
                                   ((f->flags & TS_FAILED_FILEMARK_WRITTEN) != 0
                                        ? ", closed by a filemark"
                                        : ", not closed by a filemark")};
    }
    throw Failure{f->status, std::string{what} + " failed: " + f->message + "; " +
                                 std::to_string(f->bytes) + " bytes were delivered"};
  }
  throw Failure{proto::Status::bad_type, std::string{what} + ": unexpected reply"};
}

// Progress on stderr while it is a terminal, as pv shows it: bytes, rate, how full the daemon's
// buffer pool is (from its PROGRESS messages), elapsed time.
class Progress {
 public:
  explicit Progress(const char* verb) : _verb{verb}, _on{isatty(STDERR_FILENO) == 1} {}
  bool on() const { return _on; }
  void update(std::uint64_t bytes, bool last = false) {
    _bytes = bytes;
    show(last);
  }
  void update(const proto::Progress& p) {
    _bytes = std::max(_bytes, p.bytes);
    _full = p.buffers_full;
    _buffers = p.buffers;
    show(false);
  }

 private:
  void show(bool last) {
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

  const char* _verb;
  bool _on;
  std::uint64_t _bytes = 0;
  std::uint32_t _full = 0;
  std::uint32_t _buffers = 0;
  std::chrono::steady_clock::time_point _start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point _shown{};
};

// The data path: the descriptor itself to the daemon (fd passing), which then reads or writes it
// with no copy through this process and no socket in between, or the bytes on the socket. "auto"
// passes pipes, sockets and regular files (bench/stream_vs_mbuffer.sh: fd passing takes about
// half the CPU of the stream path); a terminal stays with the client.
bool pass_descriptor(const client::Connection& c, const po::variables_map& vm, int fd) {
  const auto path = vm.count("data-path") != 0 ? vm["data-path"].as<std::string>() : "auto";
  if (path != "auto" && path != "fd" && path != "stream") {
    throw Failure{proto::Status::bad_request, "--data-path: expected auto, fd or stream"};
  }
  struct stat st {};
  const bool passable = fstat(fd, &st) == 0 && isatty(fd) == 0 &&
                        (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode) ||
                         (fd == STDOUT_FILENO && S_ISCHR(st.st_mode)));
  if (path == "fd" && (!passable || !c.fd_passing())) {
    throw Failure{proto::Status::bad_request,
                  !passable ? "--data-path fd: the descriptor is a terminal or cannot be passed"
                            : "--data-path fd: the daemon does not offer fd passing"};
  }
  return path == "fd" || (path == "auto" && passable && c.fd_passing());
}

// Sends a WRITE or READ for the data on `fd`: the descriptor goes with it when
// pass_descriptor() says so, and it asks for PROGRESS while `progress` is shown. Returns
// whether the descriptor went.
template <typename Request>
bool send_stream_request(client::Connection& c, const po::variables_map& vm, Request request,
                         int fd, const Progress& progress) {
  static_assert(TS_WRITE_FD == TS_READ_FD && TS_WRITE_PROGRESS == TS_READ_PROGRESS);
  if (progress.on()) {
    request.flags |= TS_WRITE_PROGRESS;
  }
  const bool by_fd = pass_descriptor(c, vm, fd);
  if (by_fd) {
    request.flags |= TS_WRITE_FD;
    c.send_with_fd(request, fd);
  } else {
    c.send(request);
  }
  return by_fd;
}

// Standard input to DATA frames: from a pipe by splice(2), so the bytes never pass through
// this process; from anything else by read(2).
std::uint64_t send_stdin(client::Connection& c, std::optional<proto::Message>& early_reply,
                         Progress& progress) {
  const auto chunk = std::min<std::uint32_t>(c.max_data(), 1U << 20);
  std::vector<std::uint8_t> buffer;
  std::uint64_t total = 0;
  // splice(2) needs a pipe at one end; from a file or a terminal the bytes are read.
  struct stat st {};
  const bool use_splice = fstat(STDIN_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);
  for (;;) {
    if (c.readable()) {
      auto reply = c.receive().message;
      if (const auto* p = std::get_if<proto::Progress>(&reply)) {
        progress.update(*p);
        continue;
      }
      early_reply = std::move(reply);  // the daemon ended the stream early: stop sending
      return total;
    }
    int available = 0;
    if (use_splice && ioctl(STDIN_FILENO, FIONREAD, &available) == 0 && available > 0) {
      const auto n = std::min<std::uint32_t>(static_cast<std::uint32_t>(available), chunk);
      c.send_data_header(n);
      std::uint32_t moved = 0;
      while (moved < n) {
        const auto r = splice(STDIN_FILENO, nullptr, c.fd(), nullptr, n - moved, SPLICE_F_MOVE);
        if (r <= 0) {
          if (r < 0 && errno == EINTR) {
            continue;
          }
          throw Failure{proto::Status::unreachable,
                        std::string{"splice to the daemon failed: "} + std::strerror(errno)};
        }
        moved += static_cast<std::uint32_t>(r);
      }
      total += n;
      progress.update(total);
      continue;
    }
    // Not a pipe, or nothing buffered in it yet: block in read(), which also sees the end.
    buffer.resize(chunk);
    const auto r = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      throw Failure{proto::Status::internal,
                    std::string{"cannot read standard input: "} + std::strerror(errno)};
    }
    if (r == 0) {
      return total;
    }
    c.send_data_header(static_cast<std::uint32_t>(r));
    c.write_all({buffer.data(), static_cast<std::size_t>(r)});
    total += static_cast<std::uint64_t>(r);
    progress.update(total);
  }
}

int write_command(client::Connection& c, const Globals& g, const po::variables_map& vm) {
  proto::WriteRequest request;
  request.drive = pick_drive(c, g.drive);
  if (vm.count("block-size") != 0) {
    const auto size = parse_size(vm["block-size"].as<std::string>());
    if (!size || *size == 0 || *size > 0xFF'FFFF) {
      throw Failure{proto::Status::bad_request, "--block-size: expected a size up to 16M-1"};
    }
    request.block_size = static_cast<std::uint32_t>(*size);
  }
  request.flags = (vm.count("no-wait") != 0 ? TS_WRITE_NO_WAIT : 0U) |
                  (vm.count("here") != 0 ? 0U : TS_WRITE_APPEND) |
                  (vm.count("fixed") != 0 ? TS_WRITE_FIXED : 0U);
  if (vm.count("label") != 0) {
    request.label = vm["label"].as<std::string>();
  }
  Progress progress{"written"};
  const bool by_fd = send_stream_request(c, vm, request, STDIN_FILENO, progress);
  const auto ready = c.receive();
  const auto* r = std::get_if<proto::Ready>(&ready.message);
  if (r == nullptr) {
    failed(ready.message, "write");
  }
  std::optional<proto::Message> early;
  if (!by_fd) {  // with fd passing the daemon reads standard input to its end itself
    const auto total = send_stdin(c, early, progress);
    if (!early) {
      c.send(proto::End{total, 0, {}});
    }
  }
  auto outcome = early ? *early : c.receive().message;
  while (const auto* p = std::get_if<proto::Progress>(&outcome)) {
    progress.update(*p);
    outcome = c.receive().message;
  }
  const auto* committed = std::get_if<proto::Committed>(&outcome);
  if (committed == nullptr) {
    failed(outcome, "write");
  }
  progress.update(committed->bytes, true);
  const bool fixed = (r->flags & TS_READY_FIXED) != 0;
  // Fixed blocks are whole on tape: the last one carries zeros after the stream's end.
  const auto pad = fixed ? committed->blocks * committed->block_size - committed->bytes : 0;
  if (g.json) {
    std::printf("{\"drive\":%s,\"file\":%llu,\"bytes\":%llu,\"blocks\":%llu,\"block_size\":%u,"
                "\"fixed\":%s,\"pad\":%llu,\"early_warning\":%s}\n",
                json_text(request.drive).c_str(),
                static_cast<unsigned long long>(committed->file_number),
                static_cast<unsigned long long>(committed->bytes),
                static_cast<unsigned long long>(committed->blocks), committed->block_size,
                fixed ? "true" : "false", static_cast<unsigned long long>(pad),
                (committed->flags & TS_COMMITTED_EARLY_WARNING) != 0 ? "true" : "false");
  } else {
    std::fprintf(stderr, "tapestream: committed %llu bytes in %llu blocks as file %llu on %s",
                 static_cast<unsigned long long>(committed->bytes),
                 static_cast<unsigned long long>(committed->blocks),
                 static_cast<unsigned long long>(committed->file_number), request.drive.c_str());
    if (fixed) {
      std::fprintf(stderr, " (fixed blocks of %u bytes, the last padded with %llu zero bytes)",
                   committed->block_size, static_cast<unsigned long long>(pad));
    }
    std::fputc('\n', stderr);
  }
  return 0;
}

int read_command(client::Connection& c, const Globals& g, const po::variables_map& vm) {
  proto::ReadRequest request;
  request.drive = pick_drive(c, g.drive);
  if (vm.count("file") != 0) {
    request.file_number = vm["file"].as<std::uint64_t>();
  }
  Progress progress{"read"};
  const bool by_fd = send_stream_request(c, vm, request, STDOUT_FILENO, progress);
  const auto ready = c.receive();
  if (!std::holds_alternative<proto::Ready>(ready.message)) {
    failed(ready.message, "read");
  }
  std::vector<std::uint8_t> buffer;
  std::uint64_t total = 0;
  for (;;) {
    auto frame = c.receive(true);
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
          throw Failure{proto::Status::internal, "the daemon says " + std::to_string(end->bytes) +
                                                     " bytes, " + std::to_string(total) + " arrived"};
        }
        if (g.json) {
          std::fprintf(stderr, "{\"drive\":%s,\"bytes\":%llu,\"blocks\":%llu}\n",
                       json_text(request.drive).c_str(), static_cast<unsigned long long>(end->bytes),
                       static_cast<unsigned long long>(end->blocks));
        }
        return 0;
      }
      failed(frame.message, "read");
    }
    if (by_fd) {
      throw Failure{proto::Status::out_of_sequence, "the daemon sent DATA to a passed descriptor's read"};
    }
    buffer.resize(frame.header.length);
    c.read_exact(buffer);
    std::size_t done = 0;
    while (done < buffer.size()) {
      const auto w = ::write(STDOUT_FILENO, buffer.data() + done, buffer.size() - done);
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w <= 0) {
        throw Failure{proto::Status::internal,
                      std::string{"cannot write standard output: "} + std::strerror(errno)};
      }
      done += static_cast<std::size_t>(w);
    }
    total += buffer.size();
    progress.update(total);
  }
}

// A file number as text: drives without READ POSITION's long form report none.
std::string file_text(std::uint64_t file, std::uint32_t state, bool json) {
  if ((state & TS_STATE_FILE_UNKNOWN) != 0) {
    return json ? "null" : "unknown";
  }
  return std::to_string(file);
}

int status_command(client::Connection& c, const Globals& g) {
  proto::StatusRequest request{pick_drive(c, g.drive)};
  c.send(request);
  const auto reply = c.receive();
  const auto* s = std::get_if<proto::DriveStatus>(&reply.message);
  if (s == nullptr) {
    failed(reply.message, "status");
  }
  auto flag = [s](std::uint32_t f) { return (s->state & f) != 0; };
  if (g.json) {
    std::printf("{\"drive\":%s,\"transport\":%s,\"vendor\":%s,\"product\":%s,\"revision\":%s,"
                "\"serial\":%s,\"loaded\":%s,\"write_protected\":%s,\"bop\":%s,"
                "\"early_warning\":%s,\"busy\":%s,\"compression\":%s,\"block_size\":%u,"
                "\"max_block_length\":%u,\"density_code\":%u,\"block\":%llu,\"file\":%s}\n",
                json_text(s->drive).c_str(), json_text(s->transport).c_str(),
                json_text(s->vendor).c_str(), json_text(s->product).c_str(),
                json_text(s->revision).c_str(), json_text(s->serial).c_str(),
                flag(TS_STATE_LOADED) ? "true" : "false",
                flag(TS_STATE_WRITE_PROTECTED) ? "true" : "false",
                flag(TS_STATE_BOP) ? "true" : "false", flag(TS_STATE_EARLY_WARNING) ? "true" : "false",
                flag(TS_STATE_BUSY) ? "true" : "false", flag(TS_STATE_COMPRESSION) ? "true" : "false",
                s->block_size, s->max_block_length, s->density_code,
                static_cast<unsigned long long>(s->block_number),
                file_text(s->file_number, s->state, true).c_str());
    return 0;
  }
  std::printf("drive:        %s (%s)\n", s->drive.c_str(), s->transport.c_str());
  std::printf("device:       %s %s %s, serial %s\n", s->vendor.c_str(), s->product.c_str(),
              s->revision.c_str(), s->serial.c_str());
  std::printf("medium:       %s%s%s\n", flag(TS_STATE_LOADED) ? "loaded" : "none",
              flag(TS_STATE_WRITE_PROTECTED) ? ", write protected" : "",
              flag(TS_STATE_EARLY_WARNING) ? ", beyond early warning" : "");
  std::printf("position:     file %s, block %llu%s\n",
              file_text(s->file_number, s->state, false).c_str(),
              static_cast<unsigned long long>(s->block_number), flag(TS_STATE_BOP) ? " (BOP)" : "");
  std::printf("block size:   %s (drive maximum %u)\n",
              s->block_size == 0 ? "variable" : std::to_string(s->block_size).c_str(),
              s->max_block_length);
  std::printf("compression:  %s\n", flag(TS_STATE_COMPRESSION) ? "on" : "off");
  std::printf("in use:       %s\n", flag(TS_STATE_BUSY) ? "yes, by a stream" : "no");
  return 0;
}

int drives_command(client::Connection& c, const Globals& g) {
  c.send(proto::ListDrives{});
  const auto reply = c.receive();
  const auto* list = std::get_if<proto::DriveList>(&reply.message);
  if (list == nullptr) {
    failed(reply.message, "drives");
  }
  if (g.json) {
    std::string out = "[";
    for (std::size_t i = 0; i < list->drives.size(); ++i) {
      out += (i == 0 ? "" : ",") + json_text(list->drives[i]);
    }
    std::printf("%s]\n", out.c_str());
  } else {
    for (const auto& d : list->drives) {
      std::printf("%s\n", d.c_str());
    }
  }
  return 0;
}

int control_command(client::Connection& c, const Globals& g, const std::string& verb,
                    const std::vector<std::string>& args, const po::variables_map& vm) {
  struct Verb {
    const char* name;
    proto::ControlOp op;
    bool takes_count;
  };
  static constexpr Verb verbs[] = {
      {"rewind", proto::ControlOp::rewind, false}, {"load", proto::ControlOp::load, false},
      {"eject", proto::ControlOp::eject, false},   {"offline", proto::ControlOp::eject, false},
      {"weof", proto::ControlOp::weof, true},      {"fsf", proto::ControlOp::fsf, true},
      {"bsf", proto::ControlOp::bsf, true},        {"fsr", proto::ControlOp::fsr, true},
      {"bsr", proto::ControlOp::bsr, true},        {"eod", proto::ControlOp::eod, false},
      {"tell", proto::ControlOp::tell, false},     {"seek", proto::ControlOp::seek, true},
      {"erase", proto::ControlOp::erase, false},   {"setblk", proto::ControlOp::setblk, true},
      {"compression", proto::ControlOp::compression, true},
  };
  const Verb* v = nullptr;
  for (const auto& candidate : verbs) {
    if (verb == candidate.name) {
      v = &candidate;
    }
  }
  if (v == nullptr) {
    throw Failure{proto::Status::bad_request, "unknown command \"" + verb + "\"; see --help"};
  }
  proto::ControlRequest request;
  request.op = v->op;
  request.drive = pick_drive(c, g.drive);
  if (v->takes_count) {
    const bool required = v->op == proto::ControlOp::seek || v->op == proto::ControlOp::setblk ||
                          v->op == proto::ControlOp::compression;
    if (args.empty()) {
      if (required) {
        throw Failure{proto::Status::bad_request, verb + " needs an argument"};
      }
      request.argument = 1;
    } else if (v->op == proto::ControlOp::compression) {
      if (args[0] != "on" && args[0] != "off") {
        throw Failure{proto::Status::bad_request, "compression on|off"};
      }
      request.argument = args[0] == "on" ? 1 : 0;
    } else {
      const auto n = parse_size(args[0]);
      if (!n || *n > static_cast<std::uint64_t>(INT64_MAX)) {
        throw Failure{proto::Status::bad_request, verb + ": \"" + args[0] + "\" is not a count"};
      }
      request.argument = static_cast<std::int64_t>(*n);
    }
  }
  if (v->op == proto::ControlOp::erase) {
    request.argument = vm.count("long") != 0 ? 1 : 0;
  }
  c.send(request);
  const auto reply = c.receive();
  const auto* done = std::get_if<proto::ControlDone>(&reply.message);
  if (done == nullptr) {
    failed(reply.message, verb.c_str());
  }
  if (g.json) {
    std::printf("{\"drive\":%s,\"file\":%s,\"block\":%llu,\"bop\":%s}\n",
                json_text(request.drive).c_str(),
                file_text(done->file_number, done->state, true).c_str(),
                static_cast<unsigned long long>(done->block_number),
                (done->state & TS_STATE_BOP) != 0 ? "true" : "false");
  } else if (v->op == proto::ControlOp::tell) {
    std::printf("file %s, block %llu\n", file_text(done->file_number, done->state, false).c_str(),
                static_cast<unsigned long long>(done->block_number));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description options;
  // clang-format off
  options.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("socket", po::value<std::string>()->value_name("PATH"),
       "the daemon's socket (default: $TAPESTREAM_SOCKET, else " TS_PROTO_DEFAULT_SOCKET ")")
      ("drive,d", po::value<std::string>()->value_name("NAME"),
       "the drive (default: the only one the daemon serves)")
      ("json", "print the result as JSON on standard output")
      ("block-size", po::value<std::string>()->value_name("SIZE"), "write: the block size (256K, 1M)")
      ("no-wait", "write: fail with exit 75 instead of waiting for a busy drive")
      ("here", "write: at the current position instead of after the last file")
      ("fixed", "write: fixed-block mode: every block --block-size bytes, the last one padded "
                "with zeros (reading the file back returns the padding too)")
      ("label", po::value<std::string>()->value_name("TEXT"), "write: a label for the log")
      ("data-path", po::value<std::string>()->value_name("PATH"),
       "write, read: how the data moves: fd (standard input or output is passed to the "
       "daemon, which reads or writes it itself: fewest copies), stream (the bytes go "
       "through this process and the socket), auto (default: fd for pipes, sockets and "
       "files, stream for a terminal)")
      ("file", po::value<std::uint64_t>()->value_name("N"), "read: the file number")
      ("long", "erase: the whole rest of the tape");
  po::options_description hidden;
  hidden.add_options()
      ("command", po::value<std::string>())
      ("args", po::value<std::vector<std::string>>());
  // clang-format on
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("args", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "tapestream: %s\nTry 'tapestream --help'.\n", e.what());
    return exit_usage;
  }
  if (vm.count("help") != 0) {
    std::cout << usage_text << "\n" << options << exit_text;
    return 0;
  }
  if (vm.count("version") != 0) {
    std::cout << "tapestream " << TAPESTREAM_VERSION << "\n";
    return 0;
  }
  if (vm.count("command") == 0) {
    std::fputs("tapestream: no command given\nTry 'tapestream --help'.\n", stderr);
    return exit_usage;
  }
  Globals g;
  const char* env = std::getenv("TAPESTREAM_SOCKET");
  g.socket = vm.count("socket") != 0 ? vm["socket"].as<std::string>()
                                     : (env != nullptr ? env : TS_PROTO_DEFAULT_SOCKET);
  g.drive = vm.count("drive") != 0 ? vm["drive"].as<std::string>() : "";
  g.json = vm.count("json") != 0;
  const auto command = vm["command"].as<std::string>();
  const auto args = vm.count("args") != 0 ? vm["args"].as<std::vector<std::string>>()
                                          : std::vector<std::string>{};
  try {
    client::Connection c{g.socket};
    if (command == "write") {
      return write_command(c, g, vm);
    }
    if (command == "read") {
      return read_command(c, g, vm);
    }
    if (command == "status") {
      return status_command(c, g);
    }
    if (command == "drives") {
      return drives_command(c, g);
    }
    return control_command(c, g, command, args, vm);
  } catch (const Failure& f) {
    std::fprintf(stderr, "tapestream: %s\n", f.what());
    if (g.json) {
      std::printf("{\"error\":%s,\"message\":%s}\n",
                  json_text(std::string{proto::status_name(f.status())}).c_str(),
                  json_text(f.what()).c_str());
    }
    return client::exit_code(f.status());
  }
}
