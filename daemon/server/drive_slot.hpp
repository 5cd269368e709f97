// A configured drive as the server sees it: the drive (drive/drive.hpp) and who owns it. One
// stream or control operation owns a drive at a time; writers and readers wait in a FIFO (or
// get BUSY).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "drive/drive.hpp"

namespace tapestream::server {

class DriveSlot {
 public:
  explicit DriveSlot(std::unique_ptr<drive::Drive> drive) : _drive{std::move(drive)} {}
  DriveSlot(const DriveSlot&) = delete;
  DriveSlot& operator=(const DriveSlot&) = delete;

  const std::string& name() const { return _drive->name(); }
  drive::Drive& drive() { return *_drive; }
  const drive::Drive& drive() const { return *_drive; }
  bool busy() const { return _busy; }

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

  std::unique_ptr<drive::Drive> _drive;
  bool _busy = false;
  Owner _owner = Owner::control;
  std::uint64_t _tickets = 0;
  std::deque<Waiter> _waiting;
};

}  // namespace tapestream::server
