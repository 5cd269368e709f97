// One client connection: frames in and out through the ring of the home it is in, one request
// at a time, and the write or read stream it runs on a drive it owns. A request on a drive is
// served on that drive's home (its worker thread): the connection moves there before the
// request is looked at, and back to the control home once the request has answered. Everything the client sends is checked by
// the codec before it is acted on; a malformed frame ends this connection only.
//
// Requests may be pipelined: the next frame is read only once the request before has sent its
// final reply (except the DATA, END and ABORT frames of a write in progress), so replies come
// in request order. While a request runs without reading, a poll for hang-up notices a client
// that leaves. Deadlines (checked by tick()): a complete request within the idle timeout of the
// previous one (or of connecting), a stream's data moving within the stream timeout, a STATUS
// answer within a second.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec.hpp"
#include "common/unique_fd.hpp"
#include "drive/control.hpp"
#include "drive/read_stream.hpp"
#include "drive/write_stream.hpp"
#include "server/drive_slot.hpp"
#include "server/fd_data.hpp"
#include "server/send_queue.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

class Home;
class Server;

class Connection {
 public:
  using Clock = std::chrono::steady_clock;

  Connection(Home& home, UniqueFd fd, std::uint64_t id, std::uint32_t uid);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start();
  // Destroys streams that ended (never from inside their own callbacks); the server calls it
  // between ring turns.
  void collect();
  // The peer is gone (or was sent away) and nothing of this connection is in flight any more.
  bool finished() const;
  // A stream is running or replies are still going out: the server waits for this before it
  // stops, so that a stream running at SIGTERM ends committed and its client hears so.
  bool busy() const {
    return _write != nullptr || _read != nullptr || !_send.idle() ||
           _control_in_flight > 0 || !fd_data_idle() || _lease.waiting() || _carried.has_value();
  }
  // Ends the connection now (the server is going away): the pending read returns.
  void close_now() { peer_gone(); }
  // Enforces the deadlines; called by the server a few times a second.
  void tick(Clock::time_point now);
  // The daemon's stop deadline has passed: a running stream is cut (and accounted for), a
  // request waiting for a drive is refused.
  void cut_for_stop();
  std::uint32_t uid() const { return _uid; }
  std::uint64_t id() const { return _id; }

  // Moving between homes (home.hpp). The home it wants to go to, or nullptr.
  Home* destination() const { return _destination; }
  // Nothing of it is in flight on its ring: it may leave.
  bool quiescent() const;
  // Where the MsgRing that carries it is delivered.
  uring::Completion* arrival() { return &_arrival; }
  // In its new home, on that home's thread: the request it carried is dispatched there.
  void arrived(Home& home);
  // A connection that ended goes to `control` to be closed there.
  void go_home(Home& control) { _destination = &control; }

 private:
  struct Input final : uring::Completion {
    Connection* connection = nullptr;
    void on_complete(const io_uring_cqe& cqe) override { connection->received(cqe.res); }
  };
  struct Hangup final : uring::Completion {
    Connection* connection = nullptr;
    void on_complete(const io_uring_cqe& cqe) override { connection->hung_up(cqe.res); }
  };
  struct Arrival final : uring::Completion {
    Connection* connection = nullptr;
    void on_complete(const io_uring_cqe& cqe) override;
  };
  // A request held back: read during a write by fd passing (the frames are read for ABORT)
  // until the stream has answered, or carried to the home that serves it.
  struct Parked {
    std::uint32_t request_id;
    proto::Message message;
    UniqueFd fd;
  };
  struct StatusWait {
    DriveSlot* slot = nullptr;
    std::uint64_t ticket = 0;
    Clock::time_point deadline;
  };
  enum class In { header, body, payload, discard };

  // Input (connection.cpp).
  void read_more();
  bool expecting_frames() const;
  void received(int result);
  void hung_up(int result);
  void frame_bytes_in(int result);
  void take_passed_fds();
  // The descriptor a WRITE or READ brought: an empty one when it asked for none (`wanted`
  // false), nullopt when it was refused (the ERROR is on its way).
  std::optional<UniqueFd> claim_passed_fd(bool wanted, bool for_reading);
  bool fd_data_idle() const;
  bool filling_buffers() const;
  void settle_pending_stream();
  void frame_in();
  void dispatch(const proto::Message& message);
  void dispatch_request(const proto::Message& message);
  // The request is served in `to`: the connection goes there with it (nullopt: with none, to
  // read its next request there).
  void move_to(Home& to, std::optional<Parked> request);
  uring::Ring& ring();
  void peer_gone();
  void stop_input();

  // Output (the send queue; refuse and finish_request in connection.cpp).
  void reply(const proto::Message& message);
  void refuse(proto::Status status, std::string message, bool close = false);
  void finish_request();

  // Requests without a stream (connection_requests.cpp).
  void hello(const proto::Hello& m);
  void list_drives();
  void status(const proto::StatusRequest& m);
  void reply_status(DriveSlot& slot, bool stale);
  void status_deadline(Clock::time_point now);
  void control(const proto::ControlRequest& m);
  void control_done(const drive::ControlOutcome& outcome);
  DriveSlot* drive_for(const std::string& name);
  // The configured drive a request names, or nullptr (none named, or an unknown one: the
  // request's handler refuses it).
  DriveSlot* drive_named_in(const proto::Message& message) const;

  // Streams (connection_streams.cpp).
  void write(const proto::WriteRequest& m);
  void start_write(const proto::WriteRequest& m);
  void end_of_write(const proto::End& m);
  void abort_write(const proto::Abort& m);
  void write_done(const drive::StreamOutcome& outcome);
  void read(const proto::ReadRequest& m);
  void start_read(const proto::ReadRequest& m);
  void pump_read();
  void read_done(const drive::StreamOutcome& outcome);
  void report_progress();
  void check_stall(Clock::time_point now);
  // Gives the drive this connection holds (if any) to the next in line; returns it.
  DriveSlot* release_drive();
  bool outcome_waits_for_buffers(const drive::StreamOutcome& outcome);

  Server& _server;
  Home* _home;
  Home* _destination = nullptr;
  std::optional<Parked> _carried;  // the request it moves with
  Arrival _arrival;
  UniqueFd _fd;
  std::uint64_t _id;
  std::uint32_t _uid;
  Input _input;
  Hangup _hangup;

  In _in = In::header;
  bool _reading = false;
  bool _watching_hangup = false;
  bool _input_closed = false;
  bool _waiting_for_space = false;
  std::array<std::uint8_t, TS_PROTO_HEADER_SIZE> _header_bytes{};
  // Frames arrive through recvmsg, so that a descriptor passed with one is not lost.
  msghdr _message{};
  iovec _iov{};
  alignas(cmsghdr) std::array<std::uint8_t, CMSG_SPACE(sizeof(int) * 4)> _control{};
  UniqueFd _passed_fd;  // came with the frame being read; claimed by WRITE or READ, else closed
  bool _fd_passing = false;  // granted in HELLO_OK
  std::size_t _have = 0;
  proto::Header _header;
  std::vector<std::uint8_t> _body;
  std::uint32_t _payload_left = 0;
  std::vector<std::uint8_t> _discard;

  SendQueue _send;

  bool _hello_done = false;
  bool _request_active = false;
  std::uint32_t _request_id = 0;
  unsigned _control_in_flight = 0;
  Clock::time_point _idle_since = Clock::now();
  std::optional<StatusWait> _status_wait;
  std::optional<Parked> _parked;

  DriveSlot* _slot = nullptr;  // the drive of the request in progress
  DriveLease _lease;           // holding that drive, or waiting in line for it
  std::unique_ptr<drive::WriteStream> _write;
  bool _stream_ready = false;    // READY went out: the stream moves data
  bool _write_reported = false;  // the client was told how the stream ended
  bool _end_received = false;    // END or ABORT: the client sends nothing more for the stream
  std::uint32_t _block_size = 0;
  std::unique_ptr<drive::ReadStream> _read;
  bool _read_sending = false;
  std::unique_ptr<FdSource> _source;  // the data of the write stream, by fd passing
  std::unique_ptr<FdSink> _sink;      // where the read stream goes, by fd passing
  std::optional<drive::StreamOutcome> _pending_outcome;  // see settle_pending_stream()
  bool _progress_wanted = false;
  bool _close_when_reported = false;  // a stalled client is sent away after hearing why
  Clock::time_point _progress_sent{};
  std::uint64_t _stall_mark = 0;       // the stream's byte count when it last moved
  Clock::time_point _stall_since = Clock::now();
  std::vector<std::unique_ptr<FdSource>> _ended_sources;  // until their last read is back
  std::vector<std::unique_ptr<FdSink>> _ended_sinks;
  std::vector<std::unique_ptr<drive::WriteStream>> _ended_writes;
  std::vector<std::unique_ptr<drive::ReadStream>> _ended_reads;
};

}  // namespace tapestream::server
