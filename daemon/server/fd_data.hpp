// The fd-passing data path: the client sends its standard input or output with SCM_RIGHTS and
// the daemon moves the data itself, through the ring, with no socket and no client process in
// between. FdSource reads the descriptor into a write stream's registered buffers (a regular
// file with O_DIRECT, straight from the disk into the pinned buffers, where offsets allow);
// FdSink writes a read stream's blocks to the descriptor.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "drive/read_stream.hpp"
#include "drive/write_stream.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

// What a passed descriptor is, checked before it is used; the failure says what is wrong.
Result<void, Failure> check_passed_fd(int fd, bool for_reading);

// What FdSource and FdSink share: one request at a time on the descriptor, a poll first when
// a non-blocking descriptor had nothing ready, and a stop that waits for the request in flight.
class FdMover : public uring::Completion {
 public:
  // `ended` of the subclasses is called once: with success at the end of the data.
  using Ended = std::function<void(const Result<void, Failure>& how)>;

  FdMover(const FdMover&) = delete;
  FdMover& operator=(const FdMover&) = delete;

  // No more requests (the stream stopped or the client went away); cancels the one in flight.
  // `idle` is called once nothing is in flight any more (at once if nothing is).
  void stop(std::function<void()> idle = {});
  // Nothing in flight: the stream's buffers may go to someone else, the mover be destroyed.
  bool idle() const { return !_busy; }

 protected:
  FdMover(uring::Ring& ring, UniqueFd fd, unsigned poll_events);
  ~FdMover() = default;

  int fd() const { return _fd.get(); }
  bool stopped() const { return _stopped; }
  // Queues `request`, or the poll that must come first; false when the ring refused it.
  bool issue(const uring::Request& request);
  // Issues the next request, if there is one.
  virtual void more() = 0;
  // The result of the request (never -EAGAIN: that became a poll).
  virtual void moved(int result) = 0;
  void end(Result<void, Failure> how);
  void on_ended(Ended ended) { _ended = std::move(ended); }

 private:
  void on_complete(const io_uring_cqe& cqe) final;

  uring::Ring& _ring;
  UniqueFd _fd;
  unsigned _poll_events;
  bool _polling = false;
  bool _busy = false;
  bool _stopped = false;
  Ended _ended;
  std::function<void()> _on_idle;
};

class FdSource final : public FdMover {
 public:
  FdSource(uring::Ring& ring, UniqueFd fd);

  // Reads until the descriptor's data ends (then `ended` with success) or reading fails.
  void start(drive::WriteStream& stream, Ended ended);
  // The stream has room again (its on_space callback).
  void resume() { more(); }
  bool direct() const { return static_cast<bool>(_direct_fd); }

 private:
  void more() override;
  void moved(int result) override;

  UniqueFd _direct_fd;    // the same regular file opened again with O_DIRECT
  std::uint64_t _offset;  // for files; uring::kCurrentPosition for pipes and sockets
  drive::WriteStream* _stream = nullptr;
};

class FdSink final : public FdMover {
 public:
  FdSink(uring::Ring& ring, UniqueFd fd);

  // Writes the stream's blocks as they arrive; `failed` is called if writing fails.
  void start(drive::ReadStream& stream, Ended failed);
  // The stream has a block (its on_data callback).
  void resume() { more(); }
  // Writing failed because nobody reads the descriptor any more (EPIPE): the consumer went
  // away, as when `tapestream read | head -c 100` has its reader exit.
  bool consumer_gone() const { return _consumer_gone; }

 private:
  void more() override;
  void moved(int result) override;

  std::size_t _done = 0;  // bytes of the current block written
  bool _consumer_gone = false;
  drive::ReadStream* _stream = nullptr;
};

}  // namespace tapestream::server
