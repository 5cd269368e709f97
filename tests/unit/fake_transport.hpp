// A scripted ScsiTransport for the drive layer's unit tests (nothing outside tests/unit uses
// it). It records every command it is given, with its timeout and data-out, and answers from a
// script: GOOD with data-in bytes, or CHECK CONDITION with fixed-format sense. It keeps the
// transport contract (transport.hpp): submit() only queues; each command completes exactly
// once, from the ring's dispatch (a Nop on the ring per command), in submission order.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "scsi/cdb.hpp"
#include "scsi/command.hpp"
#include "scsi/timeouts.hpp"
#include "test_support.hpp"
#include "transport/transport.hpp"
#include "uring/buffer_pool.hpp"
#include "uring/ring.hpp"

namespace tapestream::test {

// What the fake drive answers to one command.
struct Reply {
  std::uint8_t scsi_status = 0;  // GOOD
  Bytes data;                    // data-in, cut to the command's slice
  Bytes sense;
  bool timed_out = false;
};

inline Reply good(Bytes data = {}) { return Reply{0, std::move(data), {}, false}; }
inline Reply check(const SenseSpec& s) { return Reply{0x02, {}, fixed_sense(s), false}; }

// The sense conditions the tests use.
inline Reply filemark_hit(std::int32_t not_done) {
  return check({.key = 0x0, .asc = 0x00, .ascq = 0x01, .filemark = true, .information = not_done});
}
inline Reply end_of_data_hit(std::int32_t not_done) {
  return check({.key = 0x8, .asc = 0x00, .ascq = 0x05, .information = not_done});
}
inline Reply beginning_hit(std::int32_t not_done) {
  return check({.key = 0x0, .asc = 0x00, .ascq = 0x04, .eom = true, .information = not_done});
}
inline Reply unit_attention_reset() { return check({.key = 0x6, .asc = 0x29, .ascq = 0x00}); }
inline Reply no_medium() { return check({.key = 0x2, .asc = 0x3A, .ascq = 0x00}); }
inline Reply illegal_opcode() { return check({.key = 0x5, .asc = 0x20, .ascq = 0x00}); }

// READ POSITION answers.
struct PositionSpec {
  bool bop = false;
  bool eop = false;
  std::uint64_t block = 0;
  std::uint64_t file = 0;
};
inline Bytes long_position(const PositionSpec& p) {
  Bytes b(32, 0);
  b[0] = static_cast<std::uint8_t>((p.bop ? 0x80 : 0) | (p.eop ? 0x40 : 0));
  for (int i = 0; i < 8; ++i) {
    b[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(p.block >> (56 - 8 * i));
    b[static_cast<std::size_t>(16 + i)] = static_cast<std::uint8_t>(p.file >> (56 - 8 * i));
  }
  return b;
}
inline Bytes short_position(const PositionSpec& p) {
  Bytes b(20, 0);
  // BOP, EOP; LOCU and BYCU: the buffer counts are not given.
  b[0] = static_cast<std::uint8_t>((p.bop ? 0x80 : 0) | (p.eop ? 0x40 : 0) | 0x30);
  for (int i = 0; i < 4; ++i) {
    b[static_cast<std::size_t>(4 + i)] = static_cast<std::uint8_t>(p.block >> (24 - 8 * i));
    b[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(p.block >> (24 - 8 * i));
  }
  return b;
}

class FakeTransport final : public transport::ScsiTransport, private uring::Completion {
 public:
  struct Submitted {
    Bytes cdb;
    std::chrono::milliseconds timeout{0};
    std::size_t slice_length = 0;
    Bytes data_out;                 // what a to_device command carried
    std::size_t outstanding = 0;    // commands of this transport not yet completed, before it
  };

  explicit FakeTransport(uring::Ring& ring) : _ring{ring} {}
  FakeTransport(const FakeTransport&) = delete;
  FakeTransport& operator=(const FakeTransport&) = delete;
  ~FakeTransport() override = default;

  // Scripted answers are used first, in order; then `respond` decides (default: GOOD, no data).
  std::deque<Reply> script;
  std::function<Reply(const scsi::Command&)> respond;

  std::vector<Submitted> log;
  std::size_t completed = 0;

  std::size_t outstanding() const { return _pending.size(); }
  std::vector<std::uint8_t> opcodes() const {
    std::vector<std::uint8_t> out;
    for (const auto& s : log) {
      out.push_back(s.cdb.at(0));
    }
    return out;
  }

  Result<void> submit(const transport::ScsiRequest& request,
                      transport::ScsiCallback& callback) override {
    Submitted s;
    s.cdb = cdb_bytes(request.command);
    s.timeout = request.timeout;
    s.slice_length = request.data.bytes.size();
    if (request.command.direction == scsi::DataDirection::to_device) {
      s.data_out.assign(request.data.bytes.begin(), request.data.bytes.end());
    }
    s.outstanding = _pending.size();
    log.push_back(std::move(s));
    Reply reply;
    if (!script.empty()) {
      reply = std::move(script.front());
      script.pop_front();
    } else if (respond) {
      reply = respond(request.command);
    }
    _pending.push_back({request, &callback, std::move(reply)});
    if (auto queued = _ring.prepare(uring::Nop{}, this); !queued) {
      _pending.pop_back();
      return queued.error();
    }
    return outcome::success();
  }

  std::string_view kind() const override { return "fake"; }

 private:
  struct Pending {
    transport::ScsiRequest request;
    transport::ScsiCallback* callback;
    Reply reply;
  };

  void on_complete(const io_uring_cqe&) override {
    auto p = std::move(_pending.front());
    _pending.pop_front();
    transport::ScsiResult r;
    r.scsi_status = p.reply.scsi_status;
    r.timed_out = p.reply.timed_out;
    if (p.reply.timed_out) {
      r.host_status = 0x03;  // DID_TIME_OUT
    }
    const auto slice = p.request.data.bytes;
    std::size_t moved = 0;
    if (p.request.command.direction == scsi::DataDirection::from_device) {
      moved = std::min(slice.size(), p.reply.data.size());
      std::copy_n(p.reply.data.begin(), moved, slice.begin());
    } else if (p.reply.scsi_status == 0) {
      moved = slice.size();
    }
    r.residue = static_cast<std::uint32_t>(slice.size() - moved);
    r.sense_length = static_cast<std::uint8_t>(std::min(p.reply.sense.size(), r.sense.size()));
    std::copy_n(p.reply.sense.begin(), r.sense_length, r.sense.begin());
    ++completed;
    p.callback->on_scsi_complete(r);
  }

  uring::Ring& _ring;
  std::deque<Pending> _pending;
};

// A table whose every class has its own timeout, none of them the LTO default, so that a
// command's timeout says which class it was given.
inline scsi::TimeoutTable distinct_timeouts() {
  auto table = scsi::TimeoutTable::lto_defaults();
  for (std::size_t i = 0; i < scsi::timeout_class_count; ++i) {
    table.set_class_default(static_cast<scsi::TimeoutClass>(i),
                            std::chrono::seconds{1000 + 111 * static_cast<int>(i)});
  }
  return table;
}

inline std::chrono::milliseconds class_timeout(const scsi::TimeoutTable& table,
                                               scsi::TimeoutClass c) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(table.class_default(c));
}

// Turns the ring until `done` holds (or gives up after about ten seconds).
template <class Predicate>
bool run_until(uring::Ring& ring, Predicate done) {
  for (int i = 0; i < 100 && !done(); ++i) {
    if (!ring.run_once(std::chrono::milliseconds{100})) {
      return false;
    }
  }
  return done();
}

}  // namespace tapestream::test
