// The progress line a long write or read shows on a terminal, as pv shows it, and the summary
// line at the end of a stream. The text is made by pure functions of a ProgressView (tested in
// tests/unit/progress_test.cpp); Progress feeds them from the daemon's PROGRESS and the clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <tapestream/tapestream.h>

namespace tapestream::cli {

struct ProgressView {
  std::string verb;           // "written", "read", "verified"
  std::uint64_t bytes = 0;    // of the stream, so far
  std::uint64_t total = 0;    // the stream's length when known (a regular file, --size); else 0
  double seconds = 0;         // since the stream began
  double client_rate = 0;     // bytes/s over the last second as this process saw them
  std::uint32_t buffers_full = 0;  // the daemon's pool, without telemetry
  std::uint32_t buffers = 0;
  std::optional<ts_telemetry> telemetry;  // from a daemon with TS_FEATURE_TELEMETRY
};

// "written 1.20 GiB / 4.00 GiB  30%  312 MiB/s (avg 290 MiB/s)  pool 87% (min 12%)  0:00:14
// ETA 0:00:32". Rates are the drive's when the daemon says them.
std::string progress_line(const ProgressView& view);
// "waiting for emu0: in use by uid 1000 since 10:02" (local time of the daemon's machine).
std::string waiting_line(const std::string& drive, const ts_telemetry& t);
// "written 4.00 GiB in 0:00:14, 290 MiB/s on average; the drive waited 0.3 s for data,
// 0 backhitches": what the daemon does not know is left out.
std::string summary_line(const ProgressView& view);
// 1536 → "1.50 KiB", 16039936 → "15.3 MiB".
std::string human_bytes(double bytes);

class Progress {
 public:
  explicit Progress(const char* verb);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // The line is shown while stderr is a terminal; the summary is printed either way.
  bool on() const { return _on; }
  void set_total(std::uint64_t total) { _view.total = total; }
  void set_drive(std::string drive) { _drive = std::move(drive); }
  // Bytes before the stream the daemon's PROGRESS counts (verify: the files checked already).
  void set_offset(std::uint64_t bytes) { _offset = bytes; }
  void update(std::uint64_t bytes, bool last = false);
  void update(const ts_progress& p);
  // Takes the daemon's PROGRESS of `c`'s next streams; this object must outlive them.
  void follow(ts_client* c);
  // Ends the line on a terminal and prints the summary of a stream that ended with `bytes`.
  void finish(std::uint64_t bytes);

 private:
  void refresh();
  void show(bool last);

  ProgressView _view;
  std::string _drive;
  std::uint64_t _offset = 0;
  bool _on;
  bool _line_open = false;  // a line without its newline is on the terminal
  using Clock = std::chrono::steady_clock;
  Clock::time_point _start = Clock::now();
  Clock::time_point _shown{};
  Clock::time_point _sampled = _start;
  std::uint64_t _sampled_bytes = 0;
};

}  // namespace tapestream::cli
