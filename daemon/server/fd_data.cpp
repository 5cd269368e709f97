#include "server/fd_data.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <system_error>

namespace tapestream::server {
namespace {

constexpr std::size_t direct_alignment = 4096;
// A pipe of the default 64 KiB hands over at most that much per read; a larger one lets a read
// take a whole block when the producer is ahead.
constexpr int pipe_size = 1 << 20;

std::string error_text(int error) { return std::strerror(error); }

bool aligned(std::uint64_t value) { return value % direct_alignment == 0; }

}  // namespace

std::string check_passed_fd(int fd, bool for_reading) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    return "the passed descriptor cannot be examined: " + error_text(errno);
  }
  const int flags = fcntl(fd, F_GETFL);
  const int mode = flags & O_ACCMODE;
  if (flags < 0 || (for_reading ? mode == O_WRONLY : mode == O_RDONLY)) {
    return std::string{"the passed descriptor is not open for "} +
           (for_reading ? "reading" : "writing");
  }
  const bool usable = S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode) ||
                      (!for_reading && S_ISCHR(st.st_mode));
  if (!usable) {
    return for_reading ? "the passed descriptor is not a pipe, socket or regular file"
                       : "the passed descriptor is not a pipe, socket, regular file or device";
  }
  return {};
}

// --- FdSource --------------------------------------------------------------------------------

FdSource::FdSource(uring::Ring& ring, UniqueFd fd)
    : _ring{ring}, _fd{std::move(fd)}, _offset{uring::kCurrentPosition} {
  struct stat st {};
  if (fstat(_fd.get(), &st) == 0 && S_ISREG(st.st_mode)) {
    const auto position = lseek(_fd.get(), 0, SEEK_CUR);
    _offset = position < 0 ? 0 : static_cast<std::uint64_t>(position);
    // A second open file description of the same file: O_DIRECT on the client's own would
    // change how the client's descriptor behaves.
    const auto path = "/proc/self/fd/" + std::to_string(_fd.get());
    _direct_fd = UniqueFd{::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC)};
  } else if (S_ISFIFO(st.st_mode)) {
    (void)fcntl(_fd.get(), F_SETPIPE_SZ, pipe_size);  // a smaller pipe still works
  }
}

void FdSource::start(drive::WriteStream& stream, Ended ended) {
  _stream = &stream;
  _ended = std::move(ended);
  read_more();
}

void FdSource::resume() { read_more(); }

void FdSource::stop(std::function<void()> idle) {
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

void FdSource::read_more() {
  if (_busy || _stopped || _stream == nullptr) {
    return;
  }
  const auto space = _stream->writable();
  if (space.empty()) {
    return;  // every buffer is full or on its way to the drive: resume() comes
  }
  uring::Request request = uring::Nop{};
  if (_polling) {
    request = uring::Poll{_fd.get(), POLLIN};
  } else {
    const bool use_direct = _direct_fd && aligned(_offset) &&
                            aligned(reinterpret_cast<std::uintptr_t>(space.data())) &&
                            aligned(space.size());
    request = uring::ReadFixed{use_direct ? _direct_fd.get() : _fd.get(), space,
                               _stream->writable_buffer(), _offset};
  }
  if (!_ring.prepare(request, this)) {
    end("the daemon's ring is full");
    return;
  }
  _busy = true;
}

void FdSource::on_complete(const io_uring_cqe& cqe) {
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
    read_more();
    return;
  }
  if (cqe.res == -EAGAIN) {  // a non-blocking descriptor with nothing in it yet
    _polling = true;
    read_more();
    return;
  }
  if (cqe.res == -EINVAL && _direct_fd) {  // the file system refused this O_DIRECT read
    _direct_fd.reset();
    read_more();
    return;
  }
  if (cqe.res < 0) {
    end("cannot read the passed descriptor: " + error_text(-cqe.res));
    return;
  }
  if (cqe.res == 0) {
    end({});
    return;
  }
  if (_offset != uring::kCurrentPosition) {
    _offset += static_cast<std::uint64_t>(cqe.res);
  }
  _stream->commit(static_cast<std::size_t>(cqe.res));  // may send a block to the drive
  read_more();
}

void FdSource::end(const std::string& error) {
  _stopped = true;
  if (_offset != uring::kCurrentPosition) {
    // The client's descriptor ends where the daemon stopped reading, as if it had read it.
    (void)lseek(_fd.get(), static_cast<off_t>(_offset), SEEK_SET);
  }
  if (_ended) {
    auto ended = std::move(_ended);
    _ended = nullptr;
    ended(error);
  }
}

// --- FdSink ----------------------------------------------------------------------------------

FdSink::FdSink(uring::Ring& ring, UniqueFd fd) : _ring{ring}, _fd{std::move(fd)} {}

void FdSink::start(drive::ReadStream& stream, Ended failed) {
  _stream = &stream;
  _failed = std::move(failed);
  write_more();
}

void FdSink::resume() { write_more(); }

void FdSink::stop(std::function<void()> idle) {
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

void FdSink::write_more() {
  if (_busy || _stopped || _stream == nullptr) {
    return;
  }
  const auto block = _stream->next();
  if (!block) {
    return;  // resume() comes with the next block, or the stream reports its end
  }
  const uring::Request request =
      _polling ? uring::Request{uring::Poll{_fd.get(), POLLOUT}}
               : uring::Request{uring::Write{_fd.get(), block->subspan(_done), uring::kCurrentPosition}};
  if (!_ring.prepare(request, this)) {
    _stopped = true;
    _failed("the daemon's ring is full");
    return;
  }
  _busy = true;
}

void FdSink::on_complete(const io_uring_cqe& cqe) {
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
    write_more();
    return;
  }
  if (cqe.res == -EAGAIN) {
    _polling = true;
    write_more();
    return;
  }
  if (cqe.res <= 0) {
    _stopped = true;
    _failed(cqe.res == 0 ? std::string{"the passed descriptor takes no more data"}
                         : "cannot write the passed descriptor: " + error_text(-cqe.res));
    return;
  }
  _done += static_cast<std::size_t>(cqe.res);
  if (_done == _stream->next()->size()) {
    _done = 0;
    _stream->consumed();  // may report the stream's end
  }
  write_more();
}

}  // namespace tapestream::server
