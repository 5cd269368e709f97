// A configured drive as the server sees it: its transport (watched), the pool buffers reserved
// for it, what it said about itself at start-up, the commands of the control path queued one at
// a time, the last state it reported, and who owns it. One stream or control operation owns a
// drive at a time; writers and readers wait in a FIFO (or get BUSY).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "drive/positioning.hpp"
#include "drive/watched_transport.hpp"
#include "scsi/position.hpp"
#include "scsi/timeouts.hpp"
#include "server/commands.hpp"
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

// The TS_STATE_* flags a position the drive reported stands for.
std::uint32_t position_state(const scsi::Position& position);

// What the drive last said of its medium and position (READ POSITION, MODE SENSE).
struct KnownState {
  std::uint32_t state = 0;  // TS_STATE_* flags, without busy and stale
  std::uint32_t block_size = 0;
  std::uint32_t density_code = 0;
  std::uint64_t block_number = 0;
  std::uint64_t file_number = 0;
  std::optional<std::chrono::steady_clock::time_point> when;  // never asked yet: empty
};

class DriveSlot {
 public:
  using Clock = std::chrono::steady_clock;

  DriveSlot(std::string name, std::unique_ptr<transport::ScsiTransport> transport,
            uring::BufferPool& pool, std::vector<std::uint16_t> stream_buffers,
            std::uint16_t control_buffer, scsi::TimeoutTable timeouts);
  DriveSlot(const DriveSlot&) = delete;
  DriveSlot& operator=(const DriveSlot&) = delete;

  const std::string& name() const { return _name; }
  transport::ScsiTransport& transport() { return _transport; }
  const drive::WatchedTransport& watch() const { return _transport; }
  const std::vector<std::uint16_t>& stream_buffers() const { return _stream_buffers; }
  std::uint16_t control_buffer() const { return _control_buffer; }
  const scsi::TimeoutTable& timeouts() const { return _timeouts; }
  scsi::TimeoutTable& timeouts() { return _timeouts; }
  // The control path's commands (STATUS, CONTROL), also while a stream owns the drive.
  CommandRunner& commands() { return _commands; }
  DriveIdentity& identity() { return _identity; }
  const DriveIdentity& identity() const { return _identity; }
  bool busy() const { return _busy; }
  // Locks that make this daemon the drive's one owner, held as long as the slot lives.
  void hold(std::vector<UniqueFd> locks) { _locks = std::move(locks); }

  // Asks the drive for its state again, unless that is under way already; `done` is called
  // when the answer is in (known_state() then holds it). Returns the ticket that withdraws
  // `done`, for a client that stops waiting first.
  std::uint64_t refresh_state(std::function<void()> done);
  void withdraw_state_waiter(std::uint64_t ticket) { _state_waiters.erase(ticket); }
  const KnownState& known_state() const { return _known; }

  // Who holds the drive: a stream for as long as it runs, or a control operation for its few
  // commands. Controls queue behind each other; against a stream they are refused (busy).
  enum class Owner { stream, control };
  // Grants the drive now (calling `granted` before returning, and returning no ticket), or
  // once the owners before have released it (returning the ticket that withdraws the wait if
  // the client leaves first).
  std::optional<std::uint64_t> acquire(Owner owner, std::function<void()> granted);
  // A stream holds the drive, or waits for it.
  bool wanted_by_stream() const;
  bool stream_owns() const { return _busy && _owner == Owner::stream; }
  void withdraw(std::uint64_t ticket) {
    std::erase_if(_waiting, [ticket](const Waiter& w) { return w.ticket == ticket; });
  }
  void release();

 private:
  struct Waiter {
    std::uint64_t ticket;
    Owner owner;
    std::function<void()> granted;
  };
  void state_refreshed(KnownState state);

  std::string _name;
  std::vector<UniqueFd> _locks;
  drive::WatchedTransport _transport;
  std::vector<std::uint16_t> _stream_buffers;
  std::uint16_t _control_buffer;
  scsi::TimeoutTable _timeouts;
  CommandRunner _commands;
  DriveIdentity _identity;
  bool _busy = false;
  Owner _owner = Owner::control;
  std::uint64_t _tickets = 0;
  std::deque<Waiter> _waiting;
  KnownState _known;
  bool _refreshing = false;
  std::map<std::uint64_t, std::function<void()>> _state_waiters;
};

}  // namespace tapestream::server
