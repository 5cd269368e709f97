#include "progress.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace tapestream::cli {
namespace {

[[gnu::format(printf, 1, 2)]] std::string format(const char* pattern, ...) {
  char text[96];
  va_list values;
  va_start(values, pattern);
  std::vsnprintf(text, sizeof text, pattern, values);
  va_end(values);
  return text;
}

std::string clock_text(double seconds) {
  const auto s = static_cast<unsigned long long>(std::max(seconds, 0.0));
  return format("%llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
}

bool known(std::uint64_t value) { return value != TS_TELEMETRY_UNKNOWN; }

double average_rate(const ProgressView& v) {
  return v.seconds > 0 ? static_cast<double>(v.bytes) / v.seconds : 0.0;
}

}  // namespace

std::string human_bytes(double bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::size_t unit = 0;
  while (bytes >= 1024.0 && unit + 1 < std::size(units)) {
    bytes /= 1024.0;
    ++unit;
  }
  if (unit == 0) {
    return format("%.0f B", bytes);
  }
  return format(bytes < 10 ? "%.2f %s" : bytes < 100 ? "%.1f %s" : "%.0f %s", bytes, units[unit]);
}

std::string progress_line(const ProgressView& v) {
  std::string line = v.verb + " " + human_bytes(static_cast<double>(v.bytes));
  if (v.total > 0) {
    const auto percent = std::min<std::uint64_t>(100, v.bytes * 100 / v.total);
    line += " / " + human_bytes(static_cast<double>(v.total)) +
            format("  %llu%%", static_cast<unsigned long long>(percent));
  }
  // The drive's rates when the daemon says them: what keeps a drive streaming is what it takes.
  const auto* t = v.telemetry ? &*v.telemetry : nullptr;
  const double now = t != nullptr && known(t->rate_now) ? static_cast<double>(t->rate_now) : v.client_rate;
  const double average =
      t != nullptr && known(t->rate_average) ? static_cast<double>(t->rate_average) : average_rate(v);
  line += "  " + human_bytes(now) + "/s (avg " + human_bytes(average) + "/s)";
  if (t != nullptr) {
    line += format("  pool %u%% (min %u%%)", std::min(t->fill_now_permille, TS_PROGRESS_MAX_FILL) / 10,
                   std::min(t->fill_min_permille, TS_PROGRESS_MAX_FILL) / 10);
  } else if (v.buffers > 0) {
    line += format("  pool %u%%", std::min(v.buffers_full, v.buffers) * 100 / v.buffers);
  }
  line += "  " + clock_text(v.seconds);
  // The stream's own average: the percentage counts the stream's bytes, not the drive's.
  if (v.total > v.bytes && average_rate(v) > 0) {
    line += "  ETA " + clock_text(static_cast<double>(v.total - v.bytes) / average_rate(v));
  }
  return line;
}

std::string waiting_line(const std::string& drive, const ts_telemetry& t) {
  std::string line = "waiting for " + drive + ": in use";
  if (t.owner_uid != UINT32_MAX) {
    line += " by uid " + std::to_string(t.owner_uid);
  }
  const auto since = static_cast<time_t>(t.owner_since);
  tm local{};
  if (known(t.owner_since) && t.owner_since > 0 && localtime_r(&since, &local) != nullptr) {
    line += format(" since %02d:%02d", local.tm_hour, local.tm_min);
  }
  return line;
}

std::string summary_line(const ProgressView& v) {
  std::string line = v.verb + " " + human_bytes(static_cast<double>(v.bytes)) + " in " +
                     clock_text(v.seconds) + ", " + human_bytes(average_rate(v)) + "/s on average";
  if (const auto* t = v.telemetry ? &*v.telemetry : nullptr) {
    const bool waited = known(t->drive_waited_ns);
    if (waited) {
      line += format("; the drive stood idle %.1f s", static_cast<double>(t->drive_waited_ns) / 1e9);
    }
    if (known(t->backhitches)) {
      line += format("%s%llu %s", waited ? ", " : "; ", static_cast<unsigned long long>(t->backhitches),
                     t->backhitches == 1 ? "backhitch" : "backhitches");
    }
  }
  return line;
}

Progress::Progress(const char* verb) : _on{isatty(STDERR_FILENO) == 1} { _view.verb = verb; }

// A stream that failed leaves its line open: the failure's message starts on a line of its own.
Progress::~Progress() {
  if (_line_open) {
    std::fputc('\n', stderr);
  }
}

void Progress::follow(ts_client* c) {
  ts_set_progress(
      c, [](const ts_progress* p, void* context) { static_cast<Progress*>(context)->update(*p); },
      this);
}

void Progress::update(std::uint64_t bytes, bool last) {
  _view.bytes = std::max(_view.bytes, bytes);
  show(last);
}

// `p` must be the one the callback was given: its telemetry lies behind it (tapestream.h).
void Progress::update(const ts_progress& p) {
  _view.bytes = std::max(_view.bytes, _offset + p.bytes);
  _view.buffers_full = p.buffers_full;
  _view.buffers = p.buffers;
  ts_telemetry t;
  TS_INIT(ts_telemetry, &t);
  if (ts_progress_telemetry(&p, &t) != 0) {
    show(false);
    return;
  }
  if (t.state == TS_PROGRESS_WAITING) {
    if (_on) {
      std::fprintf(stderr, "\r%s\033[K", waiting_line(_drive.empty() ? "the drive" : _drive, t).c_str());
      _line_open = true;
    }
    // The stream's clock starts when the drive is its own.
    _start = _sampled = Clock::now();
    return;
  }
  _view.telemetry = t;
  show(false);
}

void Progress::refresh() {
  const auto now = Clock::now();
  _view.seconds = std::chrono::duration<double>(now - _start).count();
  const double window = std::chrono::duration<double>(now - _sampled).count();
  if (window >= 1.0) {
    _view.client_rate = static_cast<double>(_view.bytes - std::min(_sampled_bytes, _view.bytes)) / window;
    _sampled = now;
    _sampled_bytes = _view.bytes;
  } else if (_sampled_bytes == 0 && window > 0) {
    _view.client_rate = static_cast<double>(_view.bytes) / window;  // the first second
  }
}

void Progress::show(bool last) {
  if (!_on) {
    return;
  }
  const auto now = Clock::now();
  if (!last && now - _shown < std::chrono::milliseconds{500}) {
    return;
  }
  _shown = now;
  _line_open = !last;
  refresh();
  // Erase to the end of the line: a longer line before must not leave its tail.
  std::fprintf(stderr, "\r%s\033[K%s", progress_line(_view).c_str(), last ? "\n" : "");
}

void Progress::finish(std::uint64_t bytes) {
  _view.bytes = std::max(_view.bytes, bytes);
  refresh();
  if (_on) {
    std::fprintf(stderr, "%s%s\033[K\n", _line_open ? "\r" : "", summary_line(_view).c_str());
    _line_open = false;
  } else {
    std::fprintf(stderr, "tapestream: %s\n", summary_line(_view).c_str());
  }
}

}  // namespace tapestream::cli
