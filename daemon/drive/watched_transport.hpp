// A drive's transport as the daemon uses it: every command passes through unchanged, and what
// the drive says about itself on the way is kept. Whether it reported a reset (or a changed
// cartridge) since its tape was last put at an absolute place: a stream that writes "here"
// must not trust a position from before it. And since when the oldest command in flight has
// been running, so that STATUS of a drive hung in a command answers from what was last known
// instead of waiting behind it.
#pragma once

#include <chrono>
#include <list>
#include <memory>
#include <optional>

#include "transport/transport.hpp"

namespace tapestream::drive {

class WatchedTransport final : public transport::ScsiTransport {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WatchedTransport(std::unique_ptr<transport::ScsiTransport> drive)
      : _drive{std::move(drive)} {}
  WatchedTransport(const WatchedTransport&) = delete;
  WatchedTransport& operator=(const WatchedTransport&) = delete;

  Result<void> submit(const transport::ScsiRequest& request,
                      transport::ScsiCallback& callback) override;
  std::string_view kind() const override { return _drive->kind(); }

  bool position_trusted() const { return _position_trusted; }
  // Counts the cartridge changes seen: a load, no medium, a unit attention that the medium may
  // have changed. What was learned of a cartridge is its generation's (TapeAlert flags kept).
  std::uint64_t medium_generation() const { return _medium_generation; }
  // Counts the events after which the tape in the drive may not be the one it was, or may have
  // been changed by someone else: a cartridge change as above, and also a reset or a command that
  // timed out. What was read from a tape (whether it is labelled) holds for one epoch.
  std::uint64_t medium_epoch() const { return _medium_epoch; }
  std::optional<Clock::time_point> busy_since() const {
    return _in_flight.empty() ? std::nullopt : std::optional{_in_flight.front().started};
  }
  transport::ScsiTransport& inner() { return *_drive; }

 private:
  struct Forward final : transport::ScsiCallback {
    WatchedTransport* owner = nullptr;
    transport::ScsiCallback* target = nullptr;
    scsi::Command command;
    Clock::time_point started;
    std::list<Forward>::iterator self;
    void on_scsi_complete(const transport::ScsiResult& result) override;
  };
  void observe(const scsi::Command& command, const transport::ScsiResult& result);

  std::list<Forward> _in_flight;  // in submission order, which is completion order
  bool _position_trusted = true;
  std::uint64_t _medium_generation = 0;
  std::uint64_t _medium_epoch = 0;
  bool _medium_absent = false;
  // Last, so that it goes first: a drive that drains its commands as it closes must not find
  // their forwarders gone.
  std::unique_ptr<transport::ScsiTransport> _drive;
};

}  // namespace tapestream::drive
