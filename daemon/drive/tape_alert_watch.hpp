// Watches a write stream's drive for TapeAlert flags: LOG SENSE 2Eh between WRITE commands at
// most every `interval`, and once when the stream's data is all written; never while another
// command of the stream is with the drive. A critical flag ends the stream (its owner stops it
// through the usual path, with exact accounting); every flag read is handed on, since reading
// clears them on the drive (Drive keeps them for STATUS; the server logs warnings).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "drive/command_channel.hpp"
#include "scsi/log_pages.hpp"

namespace tapestream::drive {

class TapeAlertWatch {
 public:
  using Clock = std::chrono::steady_clock;
  using Seen = std::function<void(const scsi::TapeAlerts&)>;

  // interval 0: only the poll at the end of the data.
  TapeAlertWatch(std::chrono::seconds interval, Seen seen)
      : _interval{interval}, _seen{std::move(seen)}, _last{Clock::now()} {}

  // Whether a poll is due before the next WRITE (`ending`: the data is all written). The first
  // poll, before the stream's first WRITE, is the baseline: flags raised before the stream (an
  // earlier failure's) are handed on but do not end this stream.
  bool due(bool ending) const;
  // Sends LOG SENSE 2Eh into `buffer` (a pool buffer no data needs now); `then` gets how the
  // command ended and whether it timed out (a reset or a timeout is the stream's to act on),
  // and the message naming the first critical flag, or nothing. A drive without the TapeAlert
  // page raises nothing.
  using Then = std::function<void(const scsi::Classification&, bool timed_out,
                                  std::optional<std::string> critical)>;
  void poll(CommandChannel& channel, transport::DataBuffer buffer, bool ending, Then then);

  // The message for the first critical flag in `alerts`, or nothing.
  static std::optional<std::string> critical_message(const scsi::TapeAlerts& alerts);

 private:
  std::chrono::seconds _interval;
  Seen _seen;
  Clock::time_point _last;
  bool _final_done = false;
  bool _baseline_done = false;
};

}  // namespace tapestream::drive
