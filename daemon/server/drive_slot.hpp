// A configured drive as the server sees it: its transport, the pool buffers reserved for it,
// what it said about itself at start-up, and who owns it. One stream or control operation owns
// a drive at a time; writers and readers wait in a FIFO (or get BUSY).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drive/positioning.hpp"
#include "transport/transport.hpp"

namespace tapestream::server {

struct DriveIdentity {
  std::string vendor;
  std::string product;
  std::string revision;
  std::string serial;
  std::uint32_t max_block_length = 0;
  drive::PositioningCommands positioning;
};

class DriveSlot {
 public:
  DriveSlot(std::string name, std::unique_ptr<transport::ScsiTransport> transport,
            std::vector<std::uint16_t> stream_buffers, std::uint16_t control_buffer)
      : _name{std::move(name)},
        _transport{std::move(transport)},
        _stream_buffers{std::move(stream_buffers)},
        _control_buffer{control_buffer} {}

  const std::string& name() const { return _name; }
  transport::ScsiTransport& transport() { return *_transport; }
  const std::vector<std::uint16_t>& stream_buffers() const { return _stream_buffers; }
  // For the short commands of STATUS and CONTROL, also while a stream owns the drive.
  std::uint16_t control_buffer() const { return _control_buffer; }
  DriveIdentity& identity() { return _identity; }
  bool busy() const { return _busy; }

  // Grants the drive now (calling `granted` before returning, and returning no ticket), or
  // once the owners before have released it (returning the ticket that withdraws the wait if
  // the client leaves first).
  std::optional<std::uint64_t> acquire(std::function<void()> granted) {
    if (!_busy) {
      _busy = true;
      granted();
      return std::nullopt;
    }
    const auto ticket = ++_tickets;
    _waiting.push_back({ticket, std::move(granted)});
    return ticket;
  }
  void withdraw(std::uint64_t ticket) {
    std::erase_if(_waiting, [ticket](const Waiter& w) { return w.ticket == ticket; });
  }
  void release() {
    if (_waiting.empty()) {
      _busy = false;
      return;
    }
    auto next = std::move(_waiting.front().granted);
    _waiting.pop_front();
    next();
  }

 private:
  struct Waiter {
    std::uint64_t ticket;
    std::function<void()> granted;
  };
  std::string _name;
  std::unique_ptr<transport::ScsiTransport> _transport;
  std::vector<std::uint16_t> _stream_buffers;
  std::uint16_t _control_buffer;
  DriveIdentity _identity;
  bool _busy = false;
  std::uint64_t _tickets = 0;
  std::deque<Waiter> _waiting;
};

}  // namespace tapestream::server
