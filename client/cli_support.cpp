// What the CLI's commands share (cli.hpp): failures and exit codes, texts, the drive, the
// progress display and the choice of data path.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "cli.hpp"

namespace tapestream::cli {

int exit_code(std::uint32_t status) {
  switch (status) {
    case TS_OK:
      return 0;
    case TS_BAD_REQUEST:
    case TS_UNKNOWN_DRIVE:
      return 64;
    case TS_NO_MEDIUM:
    case TS_WRITE_PROTECTED:
    case TS_END_OF_DATA:
      return 66;
    case TS_UNREACHABLE:
      return 69;
    case TS_VOLUME_FULL:
      return 73;
    case TS_MEDIUM_ERROR:
    case TS_DRIVE_ERROR:
    case TS_TIMEOUT:
    case TS_MEDIUM_CHANGED:
      return 74;
    case TS_BUSY:
    case TS_SHUTTING_DOWN:
    case TS_STALLED:
      return 75;
    case TS_INCOMPLETE:
      return 65;
    case TS_NOT_PERMITTED:
      return 77;
    default:
      return 70;
  }
}

std::string status_name(std::uint32_t status) {
  // ts_strerror's text starts with the name: "volume_full: the tape is full".
  const std::string text = ts_strerror(TS_ERROR(static_cast<int>(status)));
  return status == TS_OK ? std::string{"ok"} : text.substr(0, text.find(':'));
}

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

std::string digest_text(const std::uint8_t (&digest)[TS_DIGEST_SIZE]) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  for (const auto byte : digest) {
    text += digits[byte >> 4];
    text += digits[byte & 0x0F];
  }
  return text;
}

Result<Handle> connect(const Globals& g) {
  ts_client* c = nullptr;
  if (const int r = ts_connect(g.socket.c_str(), "tapestream " TAPESTREAM_VERSION, &c); r != 0) {
    // Whatever kept the CLI from its daemon (a refused connect, a lost HELLO) exits 69, unless
    // the daemon said what it refused (bad_version).
    const int status = TS_ERROR_STATUS(r);
    return Failure{status >= 0 ? static_cast<std::uint32_t>(status) : std::uint32_t{TS_UNREACHABLE},
                   ts_connect_error()};
  }
  return Handle{c, &ts_close};
}

Failure lib_failure(ts_client* c, long code, const std::string& what) {
  const int status = TS_ERROR_STATUS(static_cast<int>(code));
  // An errno after connecting is this side's trouble (a descriptor, memory), not the daemon's.
  const auto s = status >= 0 ? static_cast<std::uint32_t>(status) : std::uint32_t{TS_INTERNAL};
  const std::string said = ts_daemon_message(c);
  if (!said.empty()) {
    return Failure{s, what + ": " + said};
  }
  const std::string message = ts_last_error(c);
  return Failure{s, message.empty() ? std::string{ts_strerror(static_cast<int>(code))} : message};
}

Failure stream_failure(const ts_result& account, std::string message) {
  return Failure{account.status, std::move(message), account};
}

Result<std::string> pick_drive(ts_client* c, const std::string& wanted) {
  if (!wanted.empty()) {
    return wanted;
  }
  std::vector<std::string> names;
  const int n = ts_list_drives(
      c,
      [](const char* drive, void* context) {
        static_cast<std::vector<std::string>*>(context)->emplace_back(drive);
        return 0;
      },
      &names);
  if (n < 0) {
    return lib_failure(c, n, "listing the drives");  // not_permitted, for one
  }
  if (names.empty()) {
    return Failure{TS_UNKNOWN_DRIVE, "the daemon serves no drive"};
  }
  if (names.size() > 1) {
    std::string list;
    for (const auto& d : names) {
      list += " " + d;
    }
    return Failure{TS_UNKNOWN_DRIVE, "several drives (" + list.substr(1) + "): name one with --drive"};
  }
  return names.front();
}

// The data path: the descriptor itself to the daemon (fd passing), which then reads or writes it
// with no copy through this process and no socket in between, or the bytes on the socket. "auto"
// passes pipes, sockets and regular files (bench/stream_vs_mbuffer.sh: fd passing takes about
// half the CPU of the stream path); a terminal stays with the client.
Result<bool> pass_descriptor(ts_client* c, const po::variables_map& vm, int fd, bool for_output) {
  const auto path = vm.count("data-path") != 0 ? vm["data-path"].as<std::string>() : "auto";
  if (path != "auto" && path != "fd" && path != "stream") {
    return Failure{TS_BAD_REQUEST, "--data-path: expected auto, fd or stream"};
  }
  const bool fd_passing = (ts_features(c) & TS_FEATURE_FD_PASSING) != 0;
  struct stat st {};
  const bool passable = fstat(fd, &st) == 0 && isatty(fd) == 0 &&
                        (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode) ||
                         (for_output && S_ISCHR(st.st_mode)));
  if (path == "fd" && (!passable || !fd_passing)) {
    return Failure{TS_BAD_REQUEST,
                   !passable ? "--data-path fd: the descriptor is a terminal or cannot be passed"
                             : "--data-path fd: the daemon does not offer fd passing"};
  }
  return path == "fd" || (path == "auto" && passable && fd_passing);
}

// A non-negative decimal: "-1" must not wrap around to "the current file".
Result<std::uint64_t> file_option(const po::variables_map& vm) {
  if (vm.count("file") == 0) {
    return TS_READ_CURRENT_FILE;
  }
  const auto text = vm["file"].as<std::string>();
  std::uint64_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() ||
      n == TS_READ_CURRENT_FILE) {
    return Failure{TS_BAD_REQUEST, "--file " + text + ": expected a file number (0, 1, 2, ...)"};
  }
  return n;
}

}  // namespace tapestream::cli
