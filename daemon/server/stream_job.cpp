#include "server/stream_job.hpp"

#include <spdlog/spdlog.h>

#include <vector>

#include "base/log_fields.hpp"
#include "base/sha256.hpp"
#include "server/status_map.hpp"

namespace tapestream::server {

StreamJob::StreamJob(JobHost& host, DriveSlot& slot, bool progress_wanted)
    : _host{host}, _slot{slot}, _progress_wanted{progress_wanted} {}

// A job that was shown and not released yet can only end on its drive's thread (a connection
// moves only once its request is over), so hiding it touches the slot on the right thread.
StreamJob::~StreamJob() { hide(); }

void StreamJob::hide() {
  if (_shown) {
    _slot.hide_stream(this);
    _shown = false;
  }
}

std::string StreamJob::who() const {
  return "connection " + std::to_string(_host.id()) + " (uid " + std::to_string(_host.uid()) + ")";
}

std::string StreamJob::amount_text(const drive::StreamOutcome& outcome) {
  return std::to_string(outcome.bytes) + " bytes in " + std::to_string(outcome.blocks) + " blocks";
}

void StreamJob::begin() {
  _lease = _slot.join(DriveSlot::Owner::stream, _host.uid());
  _lease.when_granted([this] {
    _phase = Phase::starting;
    start();
  });
}

void StreamJob::leave_line() { (void)_lease.end(); }

bool StreamJob::ended_in_line(std::optional<std::string> why) {
  if (_phase != Phase::waiting) {
    return false;
  }
  leave_line();
  stop_mover();
  _phase = Phase::done;
  if (why) {
    _host.refuse(proto::Status::shutting_down, *why);
  } else {
    _host.request_over(false);
  }
  return true;
}

void StreamJob::release_drive(drive::Ending ending) {
  hide();
  if (_lease.holds()) {
    _slot.drive().stream_ended(ending);
  }
  leave_line();
}

void StreamJob::streaming(std::optional<std::uint64_t> file) {
  _phase = Phase::streaming;
  _stall_mark = 0;
  _stall_since = Clock::now();
  _streaming_since = _stall_since;
  _rate.begin(_stall_since);
  _file = file;
  _slot.show_stream(this, [this] { return DriveSlot::StreamGlance{_file, progress().on_tape}; });
  _shown = true;
}

void StreamJob::log_summary(const drive::StreamOutcome& outcome, const std::string& what,
                            std::string_view result, const std::string& label,
                            const std::string& detail,
                            const drive::StreamProgress* telemetry) const {
  const double seconds =
      _streaming_since ? std::chrono::duration<double>(Clock::now() - *_streaming_since).count() : 0;
  const auto rate = seconds > 0 ? static_cast<std::uint64_t>(static_cast<double>(outcome.bytes) / seconds) : 0;
  std::vector<LogField> fields{
      {"TAPESTREAM_DRIVE", _slot.name()},
      {"TAPESTREAM_FILE", std::to_string(outcome.file_number)},
      {"TAPESTREAM_BYTES", std::to_string(outcome.bytes)},
      {"TAPESTREAM_BLOCKS", std::to_string(outcome.blocks)},
      {"TAPESTREAM_RATE", std::to_string(rate)},  // bytes per second, from READY to the end
      {"TAPESTREAM_RESULT", std::string{result}},
      {"TAPESTREAM_CLIENT_UID", std::to_string(_host.uid())},
      {"TAPESTREAM_PROTECTION", outcome.protected_blocks ? "crc32c" : "off"},
  };
  if (!label.empty()) {
    fields.push_back({"TAPESTREAM_LABEL", label});
  }
  if (outcome.sha256) {
    fields.push_back({"TAPESTREAM_SHA256", base::to_hex(*outcome.sha256)});
  }
  std::string fed;
  if (telemetry != nullptr && telemetry->drive_waited_ns) {
    const auto waited_ms = *telemetry->drive_waited_ns / 1'000'000;
    fields.push_back({"TAPESTREAM_DRIVE_WAITED_MS", std::to_string(waited_ms)});
    fed = "; the drive waited " + std::to_string(waited_ms / 1000) + "." +
          std::to_string(waited_ms % 1000 / 100) + " s for data";
    if (telemetry->backhitches) {
      fields.push_back({"TAPESTREAM_BACKHITCHES", std::to_string(*telemetry->backhitches)});
      fed += ", " + std::to_string(*telemetry->backhitches) + " backhitches";
    }
    if (telemetry->buffers_full_min && telemetry->buffers > 0) {
      const auto permille = *telemetry->buffers_full_min * 1000ULL / telemetry->buffers;
      fields.push_back({"TAPESTREAM_POOL_MIN_PERMILLE", std::to_string(permille)});
      fed += ", pool fill at least " + std::to_string(permille / 10) + " %";
    }
    if (telemetry->paced_from) {
      fields.push_back({"TAPESTREAM_PACED_FROM", std::to_string(*telemetry->paced_from)});
      fed += fmt::format(", fed at its producer's pace (the drive's lowest speed {:.1f} MB/s)",
                         static_cast<double>(*telemetry->paced_from) / 1e6);
    }
  }
  const LogFieldScope scope{fields};
  spdlog::info("drive {}: {}: {} at {:.1f} MB/s (uid {}{}){}{}", _slot.name(), what,
               amount_text(outcome), static_cast<double>(rate) / 1e6, _host.uid(),
               label.empty() ? std::string{} : ", label \"" + label + "\"", fed, detail);
}

void StreamJob::outcome(const drive::StreamOutcome& outcome) {
  if (moving_buffers()) {
    _pending = outcome;
    stop_mover();
    return;
  }
  report(outcome);
}

void StreamJob::settle() {
  if (!_pending || moving_buffers()) {
    return;
  }
  const auto outcome = *_pending;
  _pending.reset();
  report(outcome);
}

void StreamJob::report_progress() {
  if (!_progress_wanted || _host.client_gone() || _phase == Phase::waiting ||
      _phase == Phase::done) {
    return;
  }
  const auto now = Clock::now();
  if (now - _progress_sent < std::chrono::milliseconds{500}) {
    return;
  }
  _progress_sent = now;
  _host.reply(progress_message(progress()));
}

void StreamJob::progress_tick() {
  if (!_progress_wanted || !_host.telemetry_granted() || _host.client_gone()) {
    return;
  }
  if (_phase == Phase::streaming) {
    if (!progress_paused()) {
      report_progress();
    }
    return;
  }
  const auto holding = _slot.holding();
  const auto now = Clock::now();
  if (_phase != Phase::waiting || !holding || now - _progress_sent < std::chrono::milliseconds{500}) {
    return;
  }
  _progress_sent = now;
  proto::Progress message{};
  proto::Progress::Telemetry t;
  t.drive_waited_ns = TS_TELEMETRY_UNKNOWN;
  t.state = TS_PROGRESS_WAITING;
  t.owner_uid = holding->uid;
  t.owner_since = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(holding->since.time_since_epoch()).count());
  message.telemetry = t;
  _host.reply(message);
}

void StreamJob::final_progress(const drive::StreamProgress& progress) {
  if (_progress_wanted && _host.telemetry_granted() && !_host.client_gone()) {
    _host.reply(progress_message(progress));
  }
}

proto::Progress StreamJob::progress_message(const drive::StreamProgress& p) {
  auto message = to_progress(p);
  if (!_host.telemetry_granted()) {
    return message;  // exactly the old 24 bytes: a client before `telemetry` refuses more
  }
  const auto now = Clock::now();
  _rate.sample(p.on_tape, now);
  const auto permille = [&](std::uint32_t full) {
    return static_cast<std::uint16_t>(
        p.buffers == 0 ? 0 : std::min<std::uint64_t>(full, p.buffers) * TS_PROGRESS_MAX_FILL / p.buffers);
  };
  proto::Progress::Telemetry t;
  t.drive_waited_ns = p.drive_waited_ns.value_or(TS_TELEMETRY_UNKNOWN);
  t.backhitches = p.backhitches.value_or(TS_TELEMETRY_UNKNOWN);
  t.rate_now = _rate.now_rate(p.on_tape, now);
  t.rate_average = _rate.average(p.on_tape, now);
  t.fill_now = permille(p.buffers_full);
  t.fill_min = permille(p.buffers_full_min.value_or(p.buffers_full));
  message.telemetry = t;
  return message;
}

void StreamJob::check_stall(Clock::time_point now, std::chrono::seconds timeout) {
  if (timeout.count() == 0 || _phase != Phase::streaming) {
    return;
  }
  const auto sample = stall_sample();
  if (sample.bytes != _stall_mark || !sample.waiting_for_client) {
    _stall_mark = sample.bytes;
    _stall_since = now;
    return;
  }
  if (now - _stall_since < timeout) {
    return;
  }
  _stall_since = now;
  stalled("no data moved for " + std::to_string(timeout.count()) + " s (the stream timeout)");
}

}  // namespace tapestream::server
