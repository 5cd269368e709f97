// The session layer under a stateful fuzzer (issue 9): the whole server — connections,
// pipelined requests, write and read streams, descriptors passed with SCM_RIGHTS — against two
// emulated drives, driven by a little script decoded from the input. The server lives for the
// whole run; each input gets fresh client connections and a tape brought back to the same
// state. Findings (each an abort with a message): a reply that does not decode; clients that
// left and a server that still holds a connection or a drive after a bound; descriptors that
// the process holds after an input and did not before it; whatever the sanitizers see.
//
// The script: actions until the input ends; an action whose bytes are cut short is dropped.
// Each starts with a byte A: kind = A & 15, client = A >> 4 & 3 (modulo the clients made),
// A & 64: the frame goes out in two pieces with ring turns between (a byte after the frame
// says where), A & 128: one byte of the frame is flipped (two bytes: offset, XOR value).
//   0 HELLO    versions (min = v & 3, max = v >> 2 & 3), features, name length, name
//   1 LIST_DRIVES
//   2 STATUS   drive
//   3 WRITE    flags, block size, expected length, drive, label length, label
//   4 READ     flags, file number, drive
//   5 CONTROL  operation, flags, argument, drive
//   6 DATA     length (2 bytes, little-endian); the body is a fixed pattern
//   7 END      mode (& 3 — 0: the DATA bytes sent since this client's WRITE, 1: that plus
//              delta, 2: delta alone, 3: 2^64-1; & 16: with a digest), delta (signed)
//   8 ABORT    reason length, reason
//   9 RAW      length, bytes
//  10 PASS     descriptor kind (& 15, see descriptors(); & 16: O_NONBLOCK), data size, then
//              a frame action (0-9 or 15) whose frame carries the descriptor(s)
//  11 DRAIN    0: read the client's socket now, 1: stop reading it, 2: read it again
//  12 CLOSE    & 3 — 0: shut down writing, 1: close, 2: shut down reading, 3: close one of the
//              descriptors the harness kept (a pipe's other end...), number: the byte >> 2
//  13 TURN     n: the ring turns n % 16 times, up to 1 ms each; 255 then 0xA5: a wait past
//              one of the daemon's timeouts (1.2 s)
//  14 CONNECT  another client (at most four)
//  15 HEADER   type (2 bytes), length (2 bytes), bits (1 bad magic, 2 version 2, 4 flags 1,
//              >> 4: bits 16-19 of the length), then up to 64 body bytes; the rest of the
//              length is zeros, of which at most 70000 bytes go out (a frame cut short)
// The other field bytes pick from the small tables below. gen_session_seeds.py writes seeds.
// To follow a reproducer: TAPESTREAM_FUZZ_LOG=debug prints the daemon's log, and
// TAPESTREAM_FUZZ_PATIENCE=N waits N times longer before a release finding (slow or stuck?).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "codec.hpp"
#include "session_world.hpp"

namespace {

using namespace std::chrono_literals;
using namespace tapestream;
using fuzz::Bytes;
using fuzz::Client;
using fuzz::Clock;
using fuzz::finding;
using fuzz::World;

// The script may run this long, and clients that left must be let go within quick_release,
// so that neither of the daemon's timeouts (1 s) can be what let them go ...
constexpr auto script_limit = 300ms;
constexpr auto quick_release = 500ms;
// ... unless the script waited past the timeouts on purpose, or passed a socket connected to
// the daemon itself (which the daemon then holds open): only its timeouts end those.
constexpr auto slow_release = 3s;
constexpr auto long_wait = 1200ms;
constexpr std::size_t max_clients = 4;

constexpr std::string_view drive_names[] = {"emu0", "emu1", "emu0", "emu1",
                                            "nope", "",     "bad/name", "\xc3\x28"};
constexpr std::uint32_t block_sizes[] = {0, 1, 512, 4096, 65536, 65537, 1000, 0xffffffffU};
constexpr std::size_t small_block_budget = 1024;  // see Client::budget
constexpr std::uint64_t expected_lengths[] = {0, 1, 100, 4096, 65536, 1U << 20, UINT64_MAX, 7};
constexpr std::uint64_t file_numbers[] = {TS_READ_CURRENT_FILE, 0, 1, 2, 3, 1000,
                                          std::uint64_t{1} << 63, UINT64_MAX - 1};
constexpr std::int64_t arguments[] = {0, 1, -1, 2, 5, 512, std::int64_t{1} << 40, INT64_MIN};
constexpr std::size_t data_sizes[] = {0, 1, 100, 4096, 65535, 65536, 300000, 1U << 20};

// Strings go into the encoder as placeholders it accepts and are then replaced by the script's
// raw bytes, so that names and texts the encoder would refuse (invalid, too long, not UTF-8)
// still reach the daemon in an otherwise well-formed frame.
constexpr std::string_view placeholder_1 = "Zq9Zq9a";
constexpr std::string_view placeholder_2 = "Yw8Yw8b";

void splice(Bytes& frame, std::string_view placeholder, const std::string& raw) {
  Bytes needle{static_cast<std::uint8_t>(placeholder.size()), 0};
  needle.insert(needle.end(), placeholder.begin(), placeholder.end());
  const auto at = std::search(frame.begin() + TS_PROTO_HEADER_SIZE, frame.end(), needle.begin(),
                              needle.end());
  if (at == frame.end()) {
    return;
  }
  Bytes replacement{static_cast<std::uint8_t>(raw.size()), static_cast<std::uint8_t>(raw.size() >> 8)};
  replacement.insert(replacement.end(), raw.begin(), raw.end());
  const auto next = frame.erase(at, at + static_cast<std::ptrdiff_t>(needle.size()));
  frame.insert(next, replacement.begin(), replacement.end());
  const auto length = static_cast<std::uint32_t>(frame.size() - TS_PROTO_HEADER_SIZE);
  for (std::size_t i = 0; i < 4; ++i) {
    frame[TS_HDR_LENGTH + i] = static_cast<std::uint8_t>(length >> (8 * i));
  }
}

// The script's bytes; reading past the end yields zeros and marks the action as cut short.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> data) : _data{data} {}
  bool done() const { return _at >= _data.size(); }
  bool cut() const { return _cut; }
  std::uint8_t byte() {
    if (_at < _data.size()) {
      return _data[_at++];
    }
    _cut = true;
    return 0;
  }
  std::string text(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      s.push_back(static_cast<char>(byte()));
    }
    return s;
  }

 private:
  std::span<const std::uint8_t> _data;
  std::size_t _at = 0;
  bool _cut = false;
};

class Session {
 public:
  explicit Session(World& world) : _w{world} {}
  ~Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void run(std::span<const std::uint8_t> script) {
    connect();
    Reader r{script};
    auto deadline = Clock::now() + script_limit;
    while (!r.done() && Clock::now() < deadline && step(r, deadline)) {
    }
    // What is still queued may go out for a moment (a request waiting for a drive takes none).
    for (int i = 0; i < 20 && std::any_of(_clients.begin(), _clients.end(),
                                          [](const Client& c) { return c.fd && !c.out.empty(); });
         ++i) {
      _w.pump(_clients, _held, 1ms);
    }
    _clients.clear();
    _held.clear();
    _w.wait_released(_slow ? slow_release : quick_release, "after the script's clients left");
  }

 private:
  void connect() {
    if (_clients.size() < max_clients) {
      _clients.push_back(_w.connect());
    }
  }

  // One action; false when its bytes were cut short (it is dropped and the script ends).
  bool step(Reader& r, Clock::time_point& deadline) {
    const auto a = r.byte();
    auto& c = _clients[(a >> 4 & 3U) % _clients.size()];
    switch (a & 15) {
      case 10: {
        const auto kind = r.byte();
        const auto size = data_sizes[r.byte() & 7];
        const auto inner = r.byte();
        auto frame = build(static_cast<std::uint8_t>(inner & 15), r, c);
        const auto split = shape(inner, r, frame);
        if (!r.cut()) {
          send(c, std::move(frame), descriptors(kind, size, c), split);
        }
        break;
      }
      case 11: {
        const auto mode = r.byte() % 3;
        if (!r.cut()) {
          if (mode == 0) {
            fuzz::drain(c, true);
          } else {
            c.reading = mode == 2;
          }
        }
        break;
      }
      case 12: {
        const auto mode = r.byte();
        if (!r.cut()) {
          close(c, mode);
        }
        break;
      }
      case 13: {
        const auto n = r.byte();
        const bool wait_long = n == 255 && r.byte() == 0xA5;
        if (r.cut()) {
          break;
        }
        if (wait_long) {
          _slow = true;
          deadline += long_wait;
          for (const auto until = Clock::now() + long_wait; Clock::now() < until;) {
            _w.pump(_clients, _held, 10ms);
          }
        }
        for (unsigned i = 0; !wait_long && i < n % 16U; ++i) {
          _w.pump(_clients, _held, 1ms);
        }
        break;
      }
      case 14:
        connect();
        break;
      default: {
        auto frame = build(a & 15, r, c);
        const auto split = shape(a, r, frame);
        if (!r.cut()) {
          send(c, std::move(frame), {}, split);
        }
      }
    }
    return !r.cut();
  }

  // A well-formed frame of action kind `kind`, from the script's next bytes.
  Bytes build(std::uint8_t kind, Reader& r, Client& c) {
    const auto id = c.next_id++;
    std::vector<std::pair<std::string_view, std::string>> strings;
    auto drive = [&] { return std::string{drive_names[r.byte() & 7]}; };
    proto::Message m;
    switch (kind) {
      case 0: {
        proto::Hello h;
        const auto v = r.byte();
        h.min_version = v & 3;
        h.max_version = v >> 2 & 3;
        h.features = r.byte();
        strings.emplace_back(placeholder_1, r.text(r.byte()));
        h.client = placeholder_1;
        m = h;
        break;
      }
      case 2:
        strings.emplace_back(placeholder_1, drive());
        m = proto::StatusRequest{std::string{placeholder_1}};
        break;
      case 3: {
        proto::WriteRequest w;
        w.flags = r.byte();
        w.block_size = block_sizes[r.byte() & 7];
        c.budget = w.block_size > 0 && w.block_size < 512 ? small_block_budget : SIZE_MAX;
        w.expected_length = expected_lengths[r.byte() & 7];
        strings.emplace_back(placeholder_1, drive());
        strings.emplace_back(placeholder_2, r.text(r.byte()));
        w.drive = placeholder_1;
        w.label = placeholder_2;
        c.data_since_write = 0;
        m = w;
        break;
      }
      case 4: {
        proto::ReadRequest rd;
        rd.flags = r.byte();
        rd.file_number = file_numbers[r.byte() & 7];
        strings.emplace_back(placeholder_1, drive());
        rd.drive = placeholder_1;
        m = rd;
        break;
      }
      case 5: {
        proto::ControlRequest ctl;
        ctl.op = static_cast<proto::ControlOp>(r.byte());
        ctl.flags = r.byte();
        ctl.argument = arguments[r.byte() & 7];
        strings.emplace_back(placeholder_1, drive());
        ctl.drive = placeholder_1;
        m = ctl;
        break;
      }
      case 6: {
        const auto n = static_cast<std::uint32_t>(r.byte() | r.byte() << 8);
        const auto header = proto::data_header(id, n);
        Bytes frame{header.begin(), header.end()};
        const auto body = fuzz::pattern(n);
        frame.insert(frame.end(), body.begin(), body.end());
        c.data_since_write += n;
        return frame;
      }
      case 7: {
        const auto mode = r.byte();
        const auto delta = static_cast<std::int8_t>(r.byte());
        const std::uint64_t counts[] = {c.data_since_write, c.data_since_write + static_cast<std::uint64_t>(delta),
                                        static_cast<std::uint64_t>(std::int64_t{delta}), UINT64_MAX};
        proto::End end{counts[mode & 3], 0, {}};
        if ((mode & 16) != 0) {
          end.digest = proto::Digest{};
        }
        m = end;
        break;
      }
      case 8:
        strings.emplace_back(placeholder_1, r.text(r.byte()));
        m = proto::Abort{std::string{placeholder_1}};
        break;
      case 9: {
        const auto raw = r.text(r.byte());
        return Bytes{raw.begin(), raw.end()};
      }
      case 15: {
        const auto type = static_cast<std::uint16_t>(r.byte() | r.byte() << 8);
        const auto low = static_cast<std::uint32_t>(r.byte() | r.byte() << 8);
        const auto bits = r.byte();
        // Up to 2^20 - 1 declared (DATA beyond max_data), of which at most 70000 bytes are sent.
        const auto length = low | static_cast<std::uint32_t>(bits >> 4) << 16;
        const auto body = r.text(std::min<std::size_t>(length, 64));
        Bytes frame{(bits & 1) != 0 ? std::uint8_t{'X'} : std::uint8_t{TS_PROTO_MAGIC_0},
                    TS_PROTO_MAGIC_1, TS_PROTO_MAGIC_2, TS_PROTO_MAGIC_3,
                    static_cast<std::uint8_t>((bits & 2) != 0 ? 2 : TS_PROTO_VERSION),
                    static_cast<std::uint8_t>((bits & 4) != 0 ? 1 : 0),
                    static_cast<std::uint8_t>(type), static_cast<std::uint8_t>(type >> 8),
                    static_cast<std::uint8_t>(id), static_cast<std::uint8_t>(id >> 8), 0, 0,
                    static_cast<std::uint8_t>(length), static_cast<std::uint8_t>(length >> 8),
                    static_cast<std::uint8_t>(length >> 16), 0};
        frame.insert(frame.end(), body.begin(), body.end());
        frame.resize(TS_PROTO_HEADER_SIZE + std::min<std::size_t>(length, 70000));
        return frame;
      }
      default:  // 1, and the kinds that are not frames when they follow PASS
        m = proto::ListDrives{};
    }
    auto encoded = proto::encode(m, id);
    if (!encoded) {
      finding("the harness built a frame the encoder refuses: " + encoded.error().message());
    }
    for (const auto& [placeholder, raw] : strings) {
      splice(encoded.value(), placeholder, raw);
    }
    return std::move(encoded.value());
  }

  // The flipped byte and the split point that bits 128 and 64 of the action byte ask for.
  static std::size_t shape(std::uint8_t a, Reader& r, Bytes& frame) {
    if ((a & 128) != 0) {
      const auto at = r.byte();
      const auto mask = r.byte();
      if (!frame.empty()) {
        frame[at % frame.size()] ^= mask;
      }
    }
    return (a & 64) != 0 ? r.byte() : 0;
  }

  void send(Client& c, Bytes frame, std::vector<UniqueFd> fds, std::size_t split) {
    if (!c.fd || frame.empty() || frame.size() > c.budget) {
      return;  // the descriptors close here
    }
    c.budget -= c.budget == SIZE_MAX ? 0 : frame.size();
    if (split > 0 && split < frame.size()) {
      Bytes tail(frame.begin() + static_cast<std::ptrdiff_t>(split), frame.end());
      frame.resize(split);
      c.out.push_back({std::move(frame), std::move(fds)});
      _w.pump(_clients, _held, 0ms);
      _w.pump(_clients, _held, 0ms);
      c.out.push_back({std::move(tail), {}});
    } else {
      c.out.push_back({std::move(frame), std::move(fds)});
    }
    _w.pump(_clients, _held, 0ms);
  }

  void close(Client& c, std::uint8_t mode) {
    switch (mode & 3) {
      case 0:
        c.shut_after_out = true;
        fuzz::flush(c);
        break;
      case 1:
        c.out.clear();
        c.fd.reset();
        break;
      case 2:
        if (c.fd) {
          ::shutdown(c.fd.get(), SHUT_RD);
        }
        break;
      default:
        if (!_held.empty()) {
          _held.erase(_held.begin() + static_cast<std::ptrdiff_t>((mode >> 2) % _held.size()));
        }
    }
    _w.pump(_clients, _held, 0ms);
  }

  // The descriptors a PASS action sends; the harness keeps the other ends it needs in _held.
  std::vector<UniqueFd> descriptors(std::uint8_t kind, std::size_t size, Client& c) {
    std::vector<UniqueFd> out;
    switch (kind & 15) {
      case 0:  // a pipe's read end with data, its writer closed: the data then end of file
      case 1: {  // ... its writer kept open: no end of file until the harness closes it
        auto [reader, writer] = fuzz::make_pipe();
        fuzz::fill(writer.get(), size);
        out.push_back(std::move(reader));
        if ((kind & 15) == 1) {
          _held.push_back({std::move(writer), false});
        }
        break;
      }
      case 2:  // a pipe's write end, read by the harness
      case 3:  // ... never read: the daemon's writes stop when the pipe is full
      case 4: {  // ... with no reader at all: EPIPE
        auto [reader, writer] = fuzz::make_pipe();
        out.push_back(std::move(writer));
        if ((kind & 15) != 4) {
          _held.push_back({std::move(reader), (kind & 15) == 2});
        }
        break;
      }
      case 5:
        out.push_back(fuzz::open_or_die("/dev/null", O_RDWR));
        break;
      case 6:
        out.push_back(fuzz::open_or_die(_w.dir(), O_RDONLY | O_DIRECTORY));
        break;
      case 7:
        out.push_back(fuzz::open_or_die(_w.dir() / "data.bin", O_PATH));
        break;
      case 8:  // a memfd with data, at offset 0
        out.push_back(fuzz::memfd_with(size));
        break;
      case 9:  // a regular file with data, open for both, past its first 4 KiB when it has more
      case 10:  // ... open read-only, at 0
        out.push_back(_w.file_with(size, (kind & 15) == 9));
        break;
      case 11:  // the client's own end of its connection
        out.push_back(UniqueFd{::fcntl(c.fd.get(), F_DUPFD_CLOEXEC, 0)});
        _slow = true;
        break;
      case 12:  // another connection to the server, whose other end goes with the frame
        out.push_back(_w.adopted_peer());
        _slow = true;
        break;
      case 13: {  // a stream socket to another process: with data then end of file, or silent
        auto [passed, kept] = _w.foreign_socket_pair();
        if (size > 0) {
          fuzz::fill(kept.get(), size);
          ::shutdown(kept.get(), SHUT_WR);
        }
        out.push_back(std::move(passed));
        _held.push_back({std::move(kept), true});
        break;
      }
      case 14: {  // two at once: the daemon takes the first and closes the second
        auto [reader, writer] = fuzz::make_pipe();
        fuzz::fill(writer.get(), size);
        out.push_back(std::move(reader));
        out.push_back(fuzz::open_or_die("/dev/null", O_RDWR));
        break;
      }
      default:
        out.push_back(fuzz::open_or_die("/dev/zero", O_RDWR));
    }
    // Blocking or not as asked; but the client's own end shares its flags with the client's.
    for (auto& fd : out) {
      const auto flags = ::fcntl(fd.get(), F_GETFL);
      if ((kind & 15) != 11 && flags >= 0) {
        ::fcntl(fd.get(), F_SETFL, (kind & 16) != 0 ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
      }
    }
    return out;
  }

  World& _w;
  std::deque<Client> _clients;  // a deque: references stay valid as clients are added
  std::vector<fuzz::Held> _held;
  bool _slow = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  // Counted per input, not against start-up: libFuzzer itself opens descriptors between inputs
  // (the pipes to llvm-symbolizer when it prints a new function).
  const auto before = world.descriptors();
  world.reset_tape();
  Session{world}.run({data, size});
  world.check_descriptors(before);
  return 0;
}
