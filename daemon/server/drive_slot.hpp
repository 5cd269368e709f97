// A configured drive as the server sees it: the drive (drive/drive.hpp), the home whose thread
// runs it (server/home.hpp), the line of those who want it, and whether the tape in it is
// labelled; only that thread touches it.
// One stream or control operation holds a drive at a time; writers and readers wait in a FIFO
// (or get BUSY). A place in that line is a DriveLease: ending it, or destroying
// it, gives the drive to the next in line or leaves the line, exactly once.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "drive/drive.hpp"
#include "server/tape_label.hpp"

namespace tapestream::server {

class DriveSlot;
class Home;

// Whether the tape in a drive is labelled (docs/TAPE_FORMAT.md), as read from its file 0 since
// the medium last may have changed: unknown until then.
struct TapeLayout {
  enum class Kind { unknown, plain, labelled };
  Kind kind = Kind::unknown;
  std::optional<tape_label::VolumeLabel> volume;  // when labelled
};

class DriveLease {
 public:
  DriveLease() = default;
  DriveLease(DriveLease&& other) noexcept
      : _slot{std::exchange(other._slot, nullptr)}, _ticket{other._ticket} {}
  DriveLease& operator=(DriveLease&& other) noexcept;
  DriveLease(const DriveLease&) = delete;
  DriveLease& operator=(const DriveLease&) = delete;
  ~DriveLease() { (void)end(); }

  // The drive is this lease's now.
  bool holds() const;
  // In line for the drive.
  bool waiting() const { return _slot != nullptr && !holds(); }
  // Runs `granted` once the drive is this lease's: at once if it is already (the lease is in
  // its place by then, so the callback may end it).
  void when_granted(std::function<void()> granted);
  // Gives the drive to the next in line, or leaves the line; returns the slot, or nullptr if
  // the lease had ended already.
  DriveSlot* end();

 private:
  friend class DriveSlot;
  DriveLease(DriveSlot* slot, std::uint64_t ticket) : _slot{slot}, _ticket{ticket} {}

  DriveSlot* _slot = nullptr;
  std::uint64_t _ticket = 0;
};

class DriveSlot {
 public:
  explicit DriveSlot(std::unique_ptr<drive::Drive> drive) : _drive{std::move(drive)} {}
  DriveSlot(const DriveSlot&) = delete;
  DriveSlot& operator=(const DriveSlot&) = delete;

  const std::string& name() const { return _drive->name(); }
  // The thread (its ring) on which the drive runs and every request on it is served; set once
  // before the first connection can name the drive.
  Home& home() const { return *_home; }
  void set_home(Home& home) { _home = &home; }
  drive::Drive& drive() { return *_drive; }
  const drive::Drive& drive() const { return *_drive; }
  bool busy() const { return _holder.has_value(); }

  // Who holds the drive: a stream for as long as it runs, or a control operation for its few
  // commands. Controls queue behind each other; against a stream they are refused (busy).
  enum class Owner { stream, control };
  // A place in line, granted at once when the drive is free (see DriveLease::when_granted);
  // `uid` is the client's, told to those waiting behind it.
  DriveLease join(Owner owner, std::uint32_t uid = 0);
  // Who holds the drive and since when, for a client waiting in its line (PROGRESS state 1).
  struct Holding {
    std::uint32_t uid = 0;
    std::chrono::system_clock::time_point since;
  };
  std::optional<Holding> holding() const {
    return _holder ? std::optional{_holding} : std::nullopt;
  }
  // A stream holds the drive, or waits for it.
  bool wanted_by_stream() const;
  bool stream_owns() const { return _holder && _owner == Owner::stream; }

  // The tape's layout as last learnt, or unknown when the drive reported a load, a changed
  // medium, a reset or a timeout since (the tape may not be the one that was read).
  TapeLayout layout() const {
    return _layout_epoch == _drive->watch().medium_epoch() ? _layout : TapeLayout{};
  }
  void learn_layout(TapeLayout layout) {
    _layout = std::move(layout);
    _layout_epoch = _drive->watch().medium_epoch();
  }
  // The tape was changed by an operation that may have reached its beginning (an erase, a
  // filemark written where it stood): read it again before the next write.
  void forget_layout() { _layout = {}; }

  // What a running stream shows of itself for the daemon's status line: the file it writes or
  // reads (none: a read where the tape stands) and its bytes on the tape or read from it so far.
  struct StreamGlance {
    std::optional<std::uint64_t> file;
    std::uint64_t bytes = 0;
  };
  // A stream's job shows itself while it streams; hide_stream() by another owner is ignored.
  void show_stream(const void* owner, std::function<StreamGlance()> glance) {
    _shown_by = owner;
    _stream_glance = std::move(glance);
  }
  void hide_stream(const void* owner) {
    if (_shown_by == owner) {
      _shown_by = nullptr;
      _stream_glance = nullptr;
    }
  }
  std::optional<StreamGlance> stream_glance() const {
    return _stream_glance ? std::optional{_stream_glance()} : std::nullopt;
  }

 private:
  friend class DriveLease;
  struct Waiter {
    std::uint64_t ticket;
    Owner owner;
    std::function<void()> granted;
    std::uint32_t uid = 0;
  };
  void leave(std::uint64_t ticket);

  std::unique_ptr<drive::Drive> _drive;
  Home* _home = nullptr;
  TapeLayout _layout;
  std::uint64_t _layout_epoch = 0;
  std::optional<std::uint64_t> _holder;  // the ticket of the lease that holds the drive
  Owner _owner = Owner::control;
  Holding _holding;
  std::uint64_t _tickets = 0;
  std::deque<Waiter> _waiting;
  const void* _shown_by = nullptr;
  std::function<StreamGlance()> _stream_glance;
};

}  // namespace tapestream::server
