// The requests that run no stream: HELLO, LIST_DRIVES, STATUS and CONTROL.
#include <spdlog/spdlog.h>

#include "scsi/cdb.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/position.hpp"
#include "server/catalog_record.hpp"
#include "server/connection.hpp"
#include "server/drive_slot.hpp"
#include "server/server.hpp"
#include "server/status_map.hpp"

namespace tapestream::server {
namespace {

using scsi::TapeCondition;

// How long STATUS waits for the drive before it answers from the last known state.
constexpr std::chrono::seconds status_patience{1};

}  // namespace

void Connection::hello(const proto::Hello& m) {
  if (_phase != Phase::hello) {
    refuse(proto::Status::out_of_sequence, "HELLO twice", true);
    return;
  }
  if (m.min_version > TS_PROTO_VERSION || m.max_version < TS_PROTO_VERSION) {
    refuse(proto::Status::bad_version, "this daemon speaks protocol version 1 only", true);
    return;
  }
  // Both features are offered to every client that asks, and only to one that asks: a client
  // that did not ask for `digest` gets COMMITTED and END without it.
  _fd_passing = (m.features & TS_FEATURE_FD_PASSING) != 0;
  _digest = (m.features & TS_FEATURE_DIGEST) != 0;
  _health = (m.features & TS_FEATURE_HEALTH) != 0;
  _shared_buffers = (m.features & TS_FEATURE_SHARED_BUFFERS) != 0;
  _no_digest = (m.features & TS_FEATURE_NO_DIGEST) != 0;
  _span_list = (m.features & TS_FEATURE_SPAN_LIST) != 0;
  _telemetry = (m.features & TS_FEATURE_TELEMETRY) != 0;
  spdlog::debug("connection {} (uid {}): hello from \"{}\"", _id, _peer.uid, m.client);
  reply(proto::HelloOk{TS_PROTO_VERSION,
                       (_fd_passing ? TS_FEATURE_FD_PASSING : 0U) | (_digest ? TS_FEATURE_DIGEST : 0U) |
                           (_health ? TS_FEATURE_HEALTH : 0U) |
                           (_shared_buffers ? TS_FEATURE_SHARED_BUFFERS : 0U) |
                           ((m.features & TS_FEATURE_SPAN) != 0 ? TS_FEATURE_SPAN : 0U) |
                           (_no_digest ? TS_FEATURE_NO_DIGEST : 0U) |
                           (_span_list ? TS_FEATURE_SPAN_LIST : 0U) |
                           (_telemetry ? TS_FEATURE_TELEMETRY : 0U),
                       _server.options().max_data, "tapestreamd " TAPESTREAM_VERSION});
  finish_request();
}

void Connection::list_drives() {
  proto::DriveList list;
  for (const auto& [name, slot] : _server.drives()) {  // names only: the slots are the workers'
    list.drives.push_back(name);
  }
  reply(list);
  finish_request();
}

DriveSlot* Connection::drive_for(const std::string& name) {
  auto* slot = _server.drive(name);
  if (slot == nullptr) {
    refuse(proto::Status::unknown_drive, "no drive named \"" + name + "\"");
  }
  return slot;
}

DriveSlot* Connection::drive_named_in(const proto::Message& message) const {
  if (std::holds_alternative<proto::ListFiles>(message)) {
    return nullptr;  // answered by the catalog, wherever the connection is: no drive moves
  }
  const auto name = drive_named_by(message);
  return name.empty() ? nullptr : _server.drive(name);
}

// DRIVE_STATUS is always answered: from the drive when it answers within a second, otherwise
// (a command running long, or a drive hung in one) from the last known state, flagged stale.
void Connection::status(const proto::StatusRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  _phase = Phase::serving;
  const auto now = Clock::now();
  const auto busy_since = slot->drive().watch().busy_since();
  if (busy_since && now - *busy_since > status_patience) {
    reply_status(*slot, true);
    finish_request();
    return;
  }
  _status_wait = StatusWait{slot, 0, now + status_patience};
  const auto ticket = slot->drive().refresh_state([this, slot] {
    if (!_status_wait) {
      return;
    }
    _status_wait.reset();
    if (!_reader.closed()) {
      reply_status(*slot, false);
    }
    finish_request();
  });
  if (_status_wait) {
    _status_wait->ticket = ticket;
  }
}

void Connection::status_deadline(Clock::time_point now) {
  if (!_status_wait || now < _status_wait->deadline) {
    return;
  }
  auto* slot = _status_wait->slot;
  slot->drive().withdraw_state_waiter(_status_wait->ticket);
  _status_wait.reset();
  reply_status(*slot, true);
  finish_request();
}

void Connection::reply_status(DriveSlot& slot, bool stale) {
  proto::DriveStatus answer;
  const auto& id = slot.drive().identity();
  answer.drive = slot.name();
  answer.transport = std::string{slot.drive().transport().kind()};
  answer.vendor = id.vendor;
  answer.product = id.product;
  answer.revision = id.revision;
  answer.serial = id.serial;
  answer.max_block_length = id.max_block_length;
  const auto& known = slot.drive().known_state();
  answer.state = state_flags(known) | (slot.stream_owns() ? TS_STATE_BUSY : 0U);
  answer.drive_state = to_drive_state(slot.drive().state());
  answer.block_size = known.block_size;
  answer.density_code = known.density_code;
  if (known.position) {
    answer.block_number = known.position->block_number;
    answer.file_number = known.position->file_number.value_or(0);
  }
  fill_health(answer, known, _health);
  if (stale) {
    answer.state |= TS_STATE_STALE;
    if (known.when) {
      answer.state_age_ms = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *known.when).count());
    }
  }
  reply(answer);
}

// The tape ends where an erase or a WEOF began (a WEOF's filemarks lie between there and where
// the tape stands after it): the catalog keeps the rows beyond, marked overwritten.
void Connection::record_tape_end(drive::Drive& drive, const drive::ControlOutcome& outcome,
                                 std::uint64_t filemarks) {
  auto* catalog = _server.catalog();
  if (catalog == nullptr || !outcome.position || !outcome.position->file_number ||
      *outcome.position->file_number < filemarks) {
    return;
  }
  const auto from = *outcome.position->file_number - filemarks;
  read_medium_serial(drive, [catalog, from, name = drive.name()](std::optional<std::string> serial) {
    catalog->files_voided(
        {catalog::VolumeKey{std::move(serial), name, std::nullopt, std::nullopt}, from});
  });
}

void Connection::control(const proto::ControlRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  if (slot->wanted_by_stream()) {
    refuse(proto::Status::busy, "drive " + slot->name() + " is in use by a stream");
    return;
  }
  auto prepared = drive::prepare_control(to_control(m), slot->drive().identity());
  if (!prepared) {
    refuse(proto::Status::bad_request, prepared.error().what());
    return;
  }
  _phase = Phase::serving;
  _control_slot = slot;
  _control_ends_tape.reset();
  if (m.op == proto::ControlOp::erase) {
    _control_ends_tape = 0;
  } else if (m.op == proto::ControlOp::weof && m.argument > 0) {  // WEOF 0 only flushes
    _control_ends_tape = static_cast<std::uint64_t>(m.argument);
  }
  if (_control_ends_tape) {
    slot->forget_layout();  // a filemark or an erase at the beginning unlabels the tape
  }
  // Held for the operation; another control operation before it is waited for.
  _control_lease = slot->join(DriveSlot::Owner::control, _peer.uid);
  _control_lease.when_granted([this, operation = std::move(prepared).value()]() mutable {
    ++_control_in_flight;
    _control_slot->drive().control(std::move(operation),
                           [this](const drive::ControlOutcome& outcome) { control_done(outcome); });
  });
  _reader.read_more();
}

// CONTROL_DONE carries where the tape stands after the operation; a drive that cannot say
// (no cartridge after an unload) reports no file number.
void Connection::control_done(const drive::ControlOutcome& outcome) {
  --_control_in_flight;
  if (_control_ends_tape && outcome.ending == drive::Ending::complete) {
    record_tape_end(_control_slot->drive(), outcome, *_control_ends_tape);
  }
  (void)_control_lease.end();
  _control_slot = nullptr;
  if (_reader.closed()) {
    finish_request();
    return;
  }
  if (outcome.ending != drive::Ending::complete) {
    refuse(to_status(outcome.ending), outcome.message);
    return;
  }
  proto::ControlDone done{0, 0, TS_STATE_FILE_UNKNOWN};
  if (outcome.position) {
    done.block_number = outcome.position->block_number;
    done.file_number = outcome.position->file_number.value_or(0);
    done.state = state_flags(*outcome.position) |
                 (outcome.compression_enabled ? TS_STATE_COMPRESSION : 0U);  // the drive took it
  }
  reply(done);
  finish_request();
}

}  // namespace tapestream::server
