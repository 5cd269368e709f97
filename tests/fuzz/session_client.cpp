// The client side of the session fuzzer's connections (session_world.hpp): queued chunks sent
// with their descriptors without blocking, the daemon's replies taken as they come and each
// frame checked to decode, and what a client passes: pipes, files and memfds of pattern bytes.
#include "session_world.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tapestream::fuzz {
namespace {

std::array<std::uint8_t, 64 * 1024> scratch;  // where replies land

std::string hex(std::span<const std::uint8_t> bytes) {
  std::string s;
  std::array<char, 4> two{};
  for (auto b : bytes.first(std::min<std::size_t>(bytes.size(), 48))) {
    std::snprintf(two.data(), two.size(), "%02x", b);
    s += two.data();
  }
  return s;
}

}  // namespace

// Only system calls: the socket factory's child uses it after a fork.
ssize_t send_with_fds(int socket, std::span<const std::uint8_t> bytes, std::span<const int> fds,
                      int flags) {
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  alignas(cmsghdr) std::array<std::uint8_t, CMSG_SPACE(sizeof(int) * 2)> control{};
  if (!fds.empty()) {
    m.msg_control = control.data();
    m.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    auto* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  return ::sendmsg(socket, &m, flags | MSG_NOSIGNAL);
}

void flush(Client& c) {
  while (c.fd && !c.out.empty()) {
    auto& chunk = c.out.front();
    std::array<int, 2> fds{};
    std::size_t n = 0;
    for (const auto& fd : chunk.fds) {
      fds[n++] = fd.get();
    }
    const auto sent = send_with_fds(c.fd.get(), std::span{chunk.bytes}.subspan(chunk.done),
                                    std::span{fds}.first(n), MSG_DONTWAIT);
    if (sent < 0) {
      if (errno != EAGAIN && errno != EINTR) {
        c.out.clear();  // the daemon closed, or this client shut its writing down
      }
      return;
    }
    chunk.fds.clear();  // in flight now: the kernel holds them
    chunk.done += static_cast<std::size_t>(sent);
    if (chunk.done == chunk.bytes.size()) {
      c.out.pop_front();
    }
  }
  if (c.fd && c.out.empty() && c.shut_after_out) {
    c.shut_after_out = false;
    ::shutdown(c.fd.get(), SHUT_WR);
  }
}

void drain(Client& c, bool force) {
  if (!c.fd || (!c.reading && !force)) {
    return;
  }
  while (true) {
    const auto n = ::recv(c.fd.get(), scratch.data(), scratch.size(), MSG_DONTWAIT);
    if (n <= 0) {
      return;  // nothing more now, or the daemon closed (its last frame may be cut short)
    }
    c.in.insert(c.in.end(), scratch.begin(), scratch.begin() + n);
    // A reply that does not decode is a finding: the client could not find the next frame.
    std::size_t at = 0;
    while (c.in.size() - at >= TS_PROTO_HEADER_SIZE) {
      const auto rest = std::span<const std::uint8_t>{c.in}.subspan(at);
      const auto header = proto::decode_header(rest.first(TS_PROTO_HEADER_SIZE),
                                               proto::Receiver::client, TS_MAX_DATA);
      if (!header) {
        finding("the daemon sent a frame whose header does not decode (" +
                header.error().message() + "): " + hex(rest));
      }
      const auto length = header.value().length;
      if (rest.size() - TS_PROTO_HEADER_SIZE < length) {
        break;
      }
      if (auto body = proto::decode_body(header.value(), rest.subspan(TS_PROTO_HEADER_SIZE, length));
          !body) {
        finding("the daemon sent a frame whose body does not decode (" + body.error().message() +
                "): " + hex(rest));
      }
      if (c.keep_replies) {
        c.replies.push_back(header.value().type);
      }
      at += TS_PROTO_HEADER_SIZE + length;
    }
    c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(at));
  }
}

std::span<const std::uint8_t> pattern(std::size_t n) {
  static const Bytes bytes = [] {
    Bytes b(std::size_t{1} << 20);
    for (std::size_t i = 0; i < b.size(); ++i) {
      b[i] = static_cast<std::uint8_t>(i * 7 + (i >> 9));
    }
    return b;
  }();
  return std::span{bytes}.first(std::min(n, bytes.size()));
}

std::pair<UniqueFd, UniqueFd> make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC | O_NONBLOCK) != 0) {
    finding("pipe2: " + errno_text());
  }
  return {UniqueFd{fds[0]}, UniqueFd{fds[1]}};
}

void fill(int fd, std::size_t n) {
  const auto bytes = pattern(n);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto written = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (written <= 0) {
      return;  // a pipe or socket that is full takes no more
    }
    done += static_cast<std::size_t>(written);
  }
}

UniqueFd open_or_die(const std::filesystem::path& path, int flags) {
  UniqueFd fd{::open(path.c_str(), flags | O_CLOEXEC, 0600)};
  if (!fd) {
    finding("open " + path.string() + ": " + errno_text());
  }
  return fd;
}

UniqueFd memfd_with(std::size_t n) {
  UniqueFd fd{::memfd_create("fuzz-session", MFD_CLOEXEC)};
  if (!fd) {
    finding("memfd_create: " + errno_text());
  }
  fill(fd.get(), n);
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

}  // namespace tapestream::fuzz
