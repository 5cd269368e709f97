// The fd-passing data path: the client sends its standard input or output with SCM_RIGHTS and
// the daemon moves the data itself, through the ring, with no socket and no client process in
// between. FdSource reads the descriptor into a write stream's registered buffers (a regular
// file with O_DIRECT, straight from the disk into the pinned buffers, where offsets allow);
// FdSink writes a read stream's blocks to the descriptor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "drive/read_stream.hpp"
#include "drive/write_stream.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

// What a passed descriptor is, checked before it is used: an error message, or empty.
std::string check_passed_fd(int fd, bool for_reading);

class FdSource final : public uring::Completion {
 public:
  // `ended` is called once, when the descriptor's data ended (error empty) or reading failed.
  using Ended = std::function<void(const std::string& error)>;

  FdSource(uring::Ring& ring, UniqueFd fd);
  FdSource(const FdSource&) = delete;
  FdSource& operator=(const FdSource&) = delete;

  void start(drive::WriteStream& stream, Ended ended);
  // The stream has room again (its on_space callback).
  void resume();
  // No more reads: the stream stopped or the client went away; cancels a read in flight.
  // `idle` is called once nothing is in flight any more (at once if nothing is).
  void stop(std::function<void()> idle = {});
  // Nothing in flight: the stream's buffers may go to someone else, the source may be destroyed.
  bool idle() const { return !_busy; }
  bool direct() const { return static_cast<bool>(_direct_fd); }

 private:
  void read_more();
  void on_complete(const io_uring_cqe& cqe) override;
  void end(const std::string& error);

  uring::Ring& _ring;
  UniqueFd _fd;
  UniqueFd _direct_fd;        // the same regular file opened again with O_DIRECT
  std::uint64_t _offset;      // for files; uring::kCurrentPosition for pipes and sockets
  bool _polling = false;      // the last request was a poll (the descriptor is non-blocking)
  bool _busy = false;
  bool _stopped = false;
  drive::WriteStream* _stream = nullptr;
  Ended _ended;
  std::function<void()> _on_idle;
};

class FdSink final : public uring::Completion {
 public:
  using Ended = std::function<void(const std::string& error)>;

  FdSink(uring::Ring& ring, UniqueFd fd);
  FdSink(const FdSink&) = delete;
  FdSink& operator=(const FdSink&) = delete;

  // Writes the stream's blocks as they arrive; `failed` is called once if writing fails.
  void start(drive::ReadStream& stream, Ended failed);
  // The stream has a block (its on_data callback).
  void resume();
  void stop(std::function<void()> idle = {});
  bool idle() const { return !_busy; }

 private:
  void write_more();
  void on_complete(const io_uring_cqe& cqe) override;

  uring::Ring& _ring;
  UniqueFd _fd;
  std::size_t _done = 0;  // bytes of the current block written
  bool _polling = false;
  bool _busy = false;
  bool _stopped = false;
  drive::ReadStream* _stream = nullptr;
  Ended _failed;
  std::function<void()> _on_idle;
};

}  // namespace tapestream::server
