// The input side of a connection: frames from the client's socket, each checked by the codec
// before anyone acts on it, with the descriptor that came with it (SCM_RIGHTS); the payload of
// a DATA frame straight into the registered buffer a write stream offers; and, while its owner
// wants no frame, a poll that notices a client that hangs up. One receive or poll in flight at
// a time, on the ring of the home the connection is in.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "codec.hpp"
#include "common/unique_fd.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

class FrameReader {
 public:
  // Where the payload of DATA frames goes: a write stream's registered buffers.
  class PayloadTarget {
   public:
    // False once the stream takes no more data: the rest of the payload is read and dropped.
    virtual bool accepting() const = 0;
    // Room in the buffer being filled; empty while every buffer is full (the owner calls
    // read_more() when there is room again).
    virtual std::span<std::uint8_t> space() = 0;
    // The registered buffer space() lies in.
    virtual std::uint16_t space_buffer() const = 0;
    virtual void took(std::size_t bytes) = 0;
    // No room may come for a long time (a stream between two volumes): while there is none, a
    // client that leaves is noticed by a hang-up poll. Not while buffers merely wait for the
    // drive, where a poll and its cancellation for every buffer freed would cost more.
    virtual bool no_room_for_long() const { return false; }

   protected:
    ~PayloadTarget() = default;
  };

  // What the owner wants read now.
  enum class Want {
    frames,  // the next frame (or the payload of the DATA frame being read)
    hangup,  // nothing, but a client that leaves must be noticed
    nothing  // nothing at all: the connection is moving to another ring
  };

  struct Handlers {
    std::function<Want()> want;
    // Every header, before its body is read. False: the owner refused it and called close().
    std::function<bool(const proto::Header&)> header;
    // A complete frame other than DATA, decoded, with the descriptor that came with it.
    std::function<void(std::uint32_t request_id, const proto::Message&, UniqueFd fd)> frame;
    // Where the payload of the current DATA frame goes; nullptr: it is read and dropped.
    std::function<PayloadTarget*()> payload_target;
    // A frame the codec refused: the owner sends the ERROR and closes the reader.
    std::function<void(proto::Status, std::string)> malformed;
    // The client hung up, or the socket failed: the owner closes the reader.
    std::function<void()> gone;
    // After each receive came back (its buffers are free again).
    std::function<void()> received;
  };

  FrameReader(int fd, uring::Ring& ring, std::uint32_t max_data, Handlers handlers);
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;

  // Issues what want() asks for, unless something is in flight already.
  void read_more();
  // Nothing more is read; a hang-up poll in flight is cancelled.
  void close();
  bool closed() const { return _phase == Phase::closed; }
  // Withdraws a frame receive or poll in flight: the connection leaves this ring. A payload
  // receive is left to finish (the stream's buffers must come back first).
  void withdraw();
  // The connection moved to another home; only while idle().
  void use_ring(uring::Ring& ring) { _ring = &ring; }
  bool idle() const { return _in_flight == InFlight::nothing; }
  // A receive into a write stream's registered buffers is in flight.
  bool receiving_payload() const {
    return _in_flight == InFlight::receive && _receiving == Phase::payload;
  }

 private:
  enum class Phase { header, body, payload, discard, closed };
  enum class InFlight { nothing, receive, hangup_poll };
  struct Input final : uring::Completion {
    FrameReader* reader = nullptr;
    void on_complete(const io_uring_cqe& cqe) override { reader->completed(cqe.res); }
  };
  struct Hangup final : uring::Completion {
    FrameReader* reader = nullptr;
    void on_complete(const io_uring_cqe& cqe) override { reader->hung_up(cqe.res); }
  };

  void completed(int result);
  void bytes_in(std::size_t bytes);
  void hung_up(int result);
  void header_in();
  void body_in();
  void take_passed_fds();
  bool issue(const uring::Request& request, uring::Completion* completion);

  int _fd;
  uring::Ring* _ring;
  std::uint32_t _max_data;
  Handlers _handlers;
  Input _input;
  Hangup _hangup;
  Phase _phase = Phase::header;
  InFlight _in_flight = InFlight::nothing;
  Phase _receiving = Phase::header;  // the phase the receive in flight was issued for

  std::array<std::uint8_t, TS_PROTO_HEADER_SIZE> _header_bytes{};
  std::size_t _have = 0;
  proto::Header _header;
  std::vector<std::uint8_t> _body;
  std::uint32_t _payload_left = 0;
  std::vector<std::uint8_t> _discard;
  // Frames arrive through recvmsg, so that a descriptor passed with one is not lost.
  msghdr _message{};
  iovec _iov{};
  alignas(cmsghdr) std::array<std::uint8_t, CMSG_SPACE(sizeof(int) * 4)> _control{};
  UniqueFd _passed_fd;  // came with the frame being read; handed over with it
};

}  // namespace tapestream::server
