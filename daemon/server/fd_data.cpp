#include "server/fd_data.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace tapestream::server {
namespace {

constexpr std::size_t direct_alignment = 4096;
// A pipe of the default 64 KiB hands over at most that much per read; a larger one lets a read
// take a whole block when the producer is ahead.
constexpr int pipe_size = 1 << 20;

std::string error_text(int error) { return std::strerror(error); }

bool aligned(std::uint64_t value) { return value % direct_alignment == 0; }

}  // namespace

Result<void, Failure> check_passed_fd(int fd, bool for_reading) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    return Failure{{errno, std::generic_category()},
                   "the passed descriptor cannot be examined: " + error_text(errno)};
  }
  const int flags = fcntl(fd, F_GETFL);
  const int mode = flags & O_ACCMODE;
  // An O_PATH descriptor grants no access at all: the daemon's own open of the file for O_DIRECT
  // would read, with the daemon's rights, what the client may not.
  if (flags < 0 || (flags & O_PATH) != 0 || (for_reading ? mode == O_WRONLY : mode == O_RDONLY)) {
    return Failure{std::make_error_code(std::errc::bad_file_descriptor),
                   std::string{"the passed descriptor is not open for "} +
                       (for_reading ? "reading" : "writing")};
  }
  const bool usable = S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode) ||
                      (!for_reading && S_ISCHR(st.st_mode));
  // A socket connected to this daemon (the client's own connection, or another one) would make
  // the daemon read what it sends itself, and hold the connection open forever.
  ucred peer{};
  socklen_t size = sizeof peer;
  if (S_ISSOCK(st.st_mode) && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) == 0 &&
      peer.pid == getpid()) {
    return Failure{std::make_error_code(std::errc::invalid_argument),
                   "the passed descriptor is a connection to this daemon"};
  }
  if (!usable) {
    return Failure{std::make_error_code(std::errc::invalid_argument),
                   for_reading ? "the passed descriptor is not a pipe, socket or regular file"
                               : "the passed descriptor is not a pipe, socket, regular file or device"};
  }
  return outcome::success();
}

// --- FdMover ---------------------------------------------------------------------------------

FdMover::FdMover(uring::Ring& ring, UniqueFd fd, unsigned poll_events)
    : _ring{ring}, _fd{std::move(fd)}, _poll_events{poll_events} {}

void FdMover::stop(std::function<void()> idle) {
  _stopped = true;
  if (!_busy) {
    if (idle) {
      idle();
    }
    return;
  }
  _on_idle = std::move(idle);
  (void)_ring.prepare(uring::Cancel{this}, nullptr);
}

bool FdMover::issue(const uring::Request& request) {
  const auto& r = _polling ? uring::Request{uring::Poll{_fd.get(), _poll_events}} : request;
  if (!_ring.prepare(r, this)) {
    end(Failure{std::make_error_code(std::errc::resource_unavailable_try_again),
                "the daemon's ring is full"});
    return false;
  }
  _busy = true;
  return true;
}

void FdMover::on_complete(const io_uring_cqe& cqe) {
  _busy = false;
  if (_stopped) {
    if (auto idle = std::move(_on_idle)) {
      _on_idle = nullptr;
      idle();
    }
    return;
  }
  if (_polling) {
    _polling = false;
    more();
    return;
  }
  if (cqe.res == -EAGAIN) {  // a non-blocking descriptor with nothing ready: poll, then retry
    _polling = true;
    more();
    return;
  }
  moved(cqe.res);
}

void FdMover::end(Result<void, Failure> how) {
  _stopped = true;
  if (auto ended = std::move(_ended)) {
    _ended = nullptr;
    ended(how);
  }
}

// --- FdSource --------------------------------------------------------------------------------

FdSource::FdSource(uring::Ring& ring, UniqueFd fd)
    : FdMover{ring, std::move(fd), POLLIN}, _offset{uring::kCurrentPosition} {
  struct stat st {};
  if (fstat(this->fd(), &st) == 0 && S_ISREG(st.st_mode)) {
    const auto position = lseek(this->fd(), 0, SEEK_CUR);
    _offset = position < 0 ? 0 : static_cast<std::uint64_t>(position);
    // A second open file description of the same file: O_DIRECT on the client's own would
    // change how the client's descriptor behaves.
    const auto path = "/proc/self/fd/" + std::to_string(this->fd());
    _direct_fd = UniqueFd{::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC)};
  } else if (S_ISFIFO(st.st_mode)) {
    (void)fcntl(this->fd(), F_SETPIPE_SZ, pipe_size);  // a smaller pipe still works
  }
}

void FdSource::start(drive::WriteStream& stream, Ended ended) {
  _stream = &stream;
  on_ended([this, ended = std::move(ended)](const Result<void, Failure>& how) {
    if (_offset != uring::kCurrentPosition) {
      // The client's descriptor ends where the daemon stopped reading, as if it had read it.
      (void)lseek(fd(), static_cast<off_t>(_offset), SEEK_SET);
    }
    ended(how);
  });
  more();
}

void FdSource::more() {
  if (!idle() || stopped() || _stream == nullptr) {
    return;
  }
  const auto space = _stream->writable();
  if (space.empty()) {
    return;  // every buffer is full or on its way to the drive: resume() comes
  }
  const bool use_direct = _direct_fd && aligned(_offset) &&
                          aligned(reinterpret_cast<std::uintptr_t>(space.data())) &&
                          aligned(space.size());
  (void)issue(uring::ReadFixed{use_direct ? _direct_fd.get() : fd(), space,
                               _stream->writable_buffer(), _offset});
}

void FdSource::moved(int result) {
  if (result == -EINVAL && _direct_fd) {  // the file system refused this O_DIRECT read
    _direct_fd.reset();
    more();
    return;
  }
  if (result < 0) {
    end(Failure{{-result, std::generic_category()},
                "cannot read the passed descriptor: " + error_text(-result)});
    return;
  }
  if (result == 0) {
    end(outcome::success());
    return;
  }
  if (_offset != uring::kCurrentPosition) {
    _offset += static_cast<std::uint64_t>(result);
  }
  _stream->commit(static_cast<std::size_t>(result));  // may send a block to the drive
  more();
}

// --- FdSink ----------------------------------------------------------------------------------

FdSink::FdSink(uring::Ring& ring, UniqueFd fd) : FdMover{ring, std::move(fd), POLLOUT} {}

void FdSink::start(drive::ReadStream& stream, Ended failed) {
  _stream = &stream;
  on_ended(std::move(failed));
  more();
}

void FdSink::more() {
  if (!idle() || stopped() || _stream == nullptr) {
    return;
  }
  const auto block = _stream->next();
  if (!block) {
    return;  // resume() comes with the next block, or the stream reports its end
  }
  (void)issue(uring::Write{fd(), block->subspan(_done), uring::kCurrentPosition});
}

void FdSink::moved(int result) {
  _consumer_gone = result == -EPIPE;
  if (result <= 0) {
    end(result == 0 ? Failure{std::make_error_code(std::errc::no_space_on_device),
                              "the passed descriptor takes no more data"}
                    : Failure{{-result, std::generic_category()},
                              "cannot write the passed descriptor: " + error_text(-result)});
    return;
  }
  _done += static_cast<std::size_t>(result);
  if (_done == _stream->next()->size()) {
    _done = 0;
    _stream->consumed();  // may report the stream's end
  }
  more();
}

}  // namespace tapestream::server
