// A write that spans volumes (TS_WRITE_SPAN): when a part ends at early warning, committed, the
// client hears PART, the drive unloads its tape on its own worker, the changer (on its thread)
// puts the cartridge back in its slot and loads the next cartridge of a storage slot, the tape
// is looked at (data at its beginning: it is no scratch volume, it goes back untouched and the
// next is tried), and the next part starts there with the blocks the last tape did not take.
// The job holds the drive throughout; DATA waits in the socket meanwhile.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "drive/command_channel.hpp"
#include "drive/stream_outcome.hpp"
#include "scsi/cdb.hpp"
#include "scsi/timeouts.hpp"
#include "scsi/mode_pages.hpp"
#include "server/changer_ops.hpp"
#include "server/changer_worker.hpp"
#include "server/mailbox.hpp"
#include "server/status_map.hpp"
#include "server/volume_look.hpp"
#include "server/write_job.hpp"

namespace tapestream::server {
namespace {

// How long a drive may take to notice the cartridge the robot put in (MEDIUM NOT PRESENT
// meanwhile); after that, no medium means the move did not bring one.
constexpr std::chrono::seconds medium_sensing_time{60};

// The data transfer element of `drive` in an inventory, if the library has it.
const proto::ChangerElement* drive_element(const ChangerAnswer& inventory, const std::string& drive) {
  for (const auto& frame : inventory.frames) {
    for (const auto& e : frame.elements) {
      if (e.kind == TS_ELEMENT_DRIVE && e.drive == drive) {
        return &e;
      }
    }
  }
  return nullptr;
}

// On the changer's thread: the drive's cartridge back to its slot, then the first full storage
// slot not tried yet into the drive. The drive has unloaded its tape already.
WriteJob::Swap swap_cartridge(const ChangerContext& context, const std::string& drive,
                              const std::vector<std::uint32_t>& tried) {
  WriteJob::Swap swap;
  const auto inventory = changer_inventory(context);
  if (inventory.status != proto::Status::ok) {
    swap.message = "the library's inventory failed: " + inventory.message;
    return swap;
  }
  if (const auto* in_drive = drive_element(inventory, drive)) {
    swap.unloaded_barcode = in_drive->barcode;
    swap.unloaded_slot = in_drive->source;
  }
  std::vector<proto::ChangerElement> slots;
  for (const auto& frame : inventory.frames) {
    for (const auto& e : frame.elements) {
      if (e.kind == TS_ELEMENT_SLOT && (e.flags & TS_ELEMENT_FULL) != 0) {
        slots.push_back(e);
      }
    }
  }
  const auto back = changer_move(
      context, proto::ChangerMove{TS_CHANGER_UNLOAD, 0, 0, context.library, drive});
  if (back.status != proto::Status::ok) {
    swap.ending = back.status == proto::Status::no_medium ? drive::Ending::no_medium
                                                          : drive::Ending::drive_error;
    swap.message = "the cartridge of the finished part did not go back to its slot: " + back.message;
    return swap;
  }
  // A cleaning cartridge (barcode CLN..., the LTO convention) is never a scratch volume: loading
  // it would clean the drive, and its "blank" look would make it a part's volume.
  const auto next = std::find_if(slots.begin(), slots.end(), [&](const proto::ChangerElement& e) {
    return e.number != swap.unloaded_slot && e.barcode.rfind("CLN", 0) != 0 &&
           std::find(tried.begin(), tried.end(), e.number) == tried.end();
  });
  if (next == slots.end()) {
    swap.ending = drive::Ending::volume_full;
    swap.message = "no scratch volume left in library " + context.library +
                   ": every cartridge in its slots was written by this stream, holds data or "
                   "is write protected";
    return swap;
  }
  const auto load = changer_move(
      context, proto::ChangerMove{TS_CHANGER_LOAD, next->number, 0, context.library, drive});
  if (load.status != proto::Status::ok) {
    swap.ending = drive::Ending::drive_error;
    swap.message = "loading the next volume failed: " + load.message;
    return swap;
  }
  swap.ok = true;
  swap.loaded_slot = next->number;
  // As the changer reports the drive after the move: a move sent again after an attention (an
  // operator at the mail slot) may have brought another cartridge than the inventory before.
  swap.loaded_barcode = load.moved ? load.moved->to.barcode : next->barcode;
  return swap;
}

}  // namespace

// The first part's cartridge is known to the catalog by its barcode only once a swap names it:
// a stream that commits in its first part would be on a volume `read --stream` cannot find
// among the library's cartridges. The changer's inventory names it now; the record is a copy
// of the first part's, so an answer that comes after the part ended still names its volume. It
// is recorded from the changer's thread (the catalog takes changes from any thread and outlives
// the changers): the changer may be busy with another drive's swap for minutes, and the job
// may be over by then.
void WriteJob::record_first_barcode() {
  auto* changer = _spanning->changer;
  changer->post([mailbox = _spanning->mailbox, alive = std::weak_ptr<bool>{_alive}, this,
                 record = _record, drive = _slot.name()](const ChangerContext& context) {
    const auto inventory = changer_inventory(context);
    const auto* in_drive = drive_element(inventory, drive);
    const std::string barcode = in_drive != nullptr ? in_drive->barcode : std::string{};
    if (inventory.status != proto::Status::ok || barcode.empty()) {
      return;  // the swap after the part, if there is one, names it again
    }
    record.volume_barcode(barcode);
    mailbox->post([alive, this, barcode] {
      if (alive.lock() && _part_index == 1 && _barcode.empty()) {
        _barcode = barcode;
      }
    });
  });
}

void WriteJob::part_committed(const drive::StreamOutcome& outcome) {
  _record.ended(outcome);
  _part = outcome;
  _carryover = _stream->take_carryover();
  _changing_volume = true;
  _host.read_more();  // a hang-up poll while no DATA is taken (FrameReader::PayloadTarget)
  spdlog::info("drive {}: {}: part {} of its stream committed in file {} ({}); changing volumes",
               _slot.name(), who(), _part_index, outcome.file_number, amount_text(outcome));
  if (ended_by_cut()) {  // came while the part's filemark was written: no next volume
    return;
  }
  swap_volume();
}

// The drive unloads on its own worker first: the changer thread never commands a drive.
void WriteJob::swap_volume() {
  auto unload = drive::prepare_control(
      to_control(proto::ControlRequest{proto::ControlOp::eject, 0, 0, _slot.name()}),
      _slot.drive().identity());
  if (!unload) {
    fail_between_parts(drive::Ending::internal, unload.error().what());
    return;
  }
  _slot.drive().control(std::move(unload).value(), [this](const drive::ControlOutcome& o) {
    if (o.ending != drive::Ending::complete) {
      fail_between_parts(o.ending, "the drive did not unload the finished volume: " + o.message);
      return;
    }
    auto& spanning = *_spanning;
    auto* changer = spanning.changer;
    if (changer == nullptr) {
      await_next_cartridge();
      return;
    }
    changer->post([mailbox = spanning.mailbox, alive = std::weak_ptr<bool>{_alive}, this,
                   drive = _slot.name(), tried = _tried_slots](const ChangerContext& context) {
      auto swap = swap_cartridge(context, drive, tried);
      mailbox->post([alive, this, swap = std::move(swap)] {
        if (alive.lock()) {
          volume_swapped(swap);
        }
      });
    });
  });
}

// No changer: the drive has unloaded, and an autoloader in sequential mode or an operator puts
// the next cartridge in. It is waited for as a robot's load is, for --volume-wait.
void WriteJob::await_next_cartridge() {
  if (_part) {
    send_part({});
    // The wait is counted from the part's end: a cartridge passed over does not restart it.
    _wait_began = Clock::now();
  }
  spdlog::info("drive {}: {}: no library serves the drive: waiting {} for the next cartridge "
               "(an autoloader's or an operator's: a blank one)",
               _slot.name(), who(),
               _spanning->volume_wait.count() == 0
                   ? std::string{"without limit"}
                   : "up to " + std::to_string(_spanning->volume_wait.count()) + " s");
  _barcode.clear();
  begin_ready_wait();
}

std::string WriteJob::volume_text() const {
  return _barcode.empty() ? "the cartridge put in" : "volume " + _barcode;
}

std::string WriteJob::next_volume_text() const {
  return "the next volume" + (_barcode.empty() ? std::string{} : " (" + _barcode + ")");
}

void WriteJob::begin_ready_wait() {
  _threading_since.reset();
  _ready_attentions = 0;
  await_ready();
}

void WriteJob::volume_swapped(const Swap& swap) {
  if (_part) {  // the first answer after a part: its cartridge's barcode is known now
    send_part(swap.unloaded_barcode);
    _record.volume_barcode(swap.unloaded_barcode);
  }
  if (swap.unloaded_slot != 0) {
    _tried_slots.push_back(swap.unloaded_slot);
  }
  if (!swap.ok) {
    fail_between_parts(swap.ending, swap.message);
    return;
  }
  _barcode = swap.loaded_barcode;
  _tried_slots.push_back(swap.loaded_slot);
  if (ended_by_cut()) {
    return;
  }
  _wait_began = Clock::now();
  begin_ready_wait();
}

// A cartridge the robot puts in a real drive takes the drive seconds to minutes to thread
// (NOT READY, BECOMING READY), and may not even be sensed at once (MEDIUM NOT PRESENT); the
// first command after that reports the load (UNIT ATTENTION). Asked with TEST UNIT READY once a
// second (from tick(), so the drive's ring is free meanwhile) until the drive is ready, within
// the drive's load timeout. The look at the tape comes only then: a command refused while the
// tape threads would end the stream.
void WriteJob::await_ready() {
  _commanding = true;
  _slot.drive().commands().run(scsi::cdb::test_unit_ready(), [this](const drive::CommandResult& r) {
    _commanding = false;
    if (ended_by_cut()) {
      return;
    }
    const auto condition = r.classification.condition;
    const auto now = Clock::now();
    const auto waited = std::chrono::duration<double>(now - _wait_began).count();
    if (condition == scsi::TapeCondition::good) {
      if (waited >= 1) {
        spdlog::info("drive {}: {}: the next volume{} was ready {:.1f} s after {}", _slot.name(),
                     who(), _barcode.empty() ? "" : " " + _barcode, waited,
                     _spanning->changer != nullptr ? "the robot loaded it" : "the last one left");
      }
      check_scratch();
      return;
    }
    // A cartridge is in and threading (an attention reports it, or BECOMING READY): it has
    // the drive's load timeout from then, whatever else was waited for before it.
    const bool in_drive = drive::is_unit_attention(condition) ||
                          condition == scsi::TapeCondition::becoming_ready;
    if (in_drive && !_threading_since) {
      _threading_since = now;
    }
    if (drive::is_unit_attention(condition) && ++_ready_attentions <= 4) {
      await_ready();
      return;
    }
    const auto load_timeout = _slot.drive().timeouts().class_default(scsi::TimeoutClass::load);
    if (condition == scsi::TapeCondition::becoming_ready && now < *_threading_since + load_timeout) {
      _ready_poll_at = now + std::chrono::seconds{1};
      return;
    }
    // Some drives say only NOT READY (04/00) while they load, or nothing at all for a moment;
    // without a changer the drive is empty until someone puts the next cartridge in.
    const bool by_hand = _spanning->changer == nullptr;
    const bool empty = condition == scsi::TapeCondition::no_medium ||
                       condition == scsi::TapeCondition::not_ready;
    if (empty) {
      _threading_since.reset();
      _ready_attentions = 0;
      const auto wait = by_hand ? _spanning->volume_wait : medium_sensing_time;
      if (wait.count() == 0 || now < _wait_began + wait) {
        _ready_poll_at = now + std::chrono::seconds{1};
        return;
      }
      if (by_hand) {
        fail_between_parts(drive::Ending::volume_full,
                           "no next cartridge was ready in drive " + _slot.name() + " within " +
                               std::to_string(wait.count()) +
                               " s (--volume-wait; no library serves the drive)");
        return;
      }
    }
    fail_between_parts(drive::ending_for(r.classification, r.result.timed_out),
                       next_volume_text() + " did not become ready in " +
                           std::to_string(static_cast<long>(waited)) +
                           " s: " + drive::describe_condition(r.classification));
  });
}

void WriteJob::tick() {
  if (_stream) {
    _stream->tick();
  }
  if (_ready_poll_at && (_cut_between_parts || Clock::now() >= *_ready_poll_at)) {
    _ready_poll_at.reset();
    if (!ended_by_cut()) {
      await_ready();
    }
  }
}

// Only a blank tape is a scratch volume: whatever is at the beginning of another stays there.
void WriteJob::check_scratch() {
  look_at_volume(_slot.drive(), [this](const VolumeLook& look) {
    if (ended_by_cut()) {  // the client left, aborted, or the daemon stops: no more moves
      return;
    }
    if (!look.read) {
      fail_between_parts(look.ending, next_volume_text() + " could not be read: " + look.message);
      return;
    }
    if (look.holds != VolumeLook::Holds::nothing) {
      spdlog::info("drive {}: {}: {} is no scratch volume ({}); it goes back untouched",
                   _slot.name(), who(), volume_text(), look.what);
      swap_volume();
      return;
    }
    check_write_protect();
  });
}

// A blank cartridge whose write-protect tab is set is no scratch volume either: the next part's
// first WRITE would fail and end the stream, where the next cartridge would take it. The drive
// says so in MODE SENSE's header (WP); a drive that does not answer leaves it to that WRITE.
void WriteJob::check_write_protect() {
  _commanding = true;
  _slot.drive().commands().run(scsi::cdb::mode_sense6(scsi::DataCompressionPage::code),
                               [this](const drive::CommandResult& r) {
    _commanding = false;
    if (ended_by_cut()) {
      return;
    }
    bool write_protected = false;
    if (r.classification.condition == scsi::TapeCondition::good) {
      if (const auto mode = scsi::parse_mode_sense6(r.data)) {
        write_protected = mode.value().header.write_protected;
      }
    }
    if (write_protected) {
      spdlog::info("drive {}: {}: {} is write protected; it goes back untouched", _slot.name(),
                   who(), volume_text());
      swap_volume();
      return;
    }
    _commanding = true;
    read_medium_serial(_slot.drive(), [this](std::optional<std::string> serial) {
      _commanding = false;
      if (!serial && _spanning->changer == nullptr) {
        fail_between_parts(drive::Ending::drive_error, no_serial_to_span);
        return;
      }
      _record = _record.next_part(_spanning->next_stream_number());
      _record.volume(std::move(serial));
      _record.span_part(_part_index, _parts_bytes);
      start_next_part();
    });
  });
}

void WriteJob::start_next_part() {
  if (ended_by_cut()) {
    return;
  }
  // The part before is done with: its stream's commands all completed.
  _stream = _slot.drive().write_stream(std::move(*_carryover), stream_options(true),
                                       [this](const drive::StreamOutcome& o) { outcome(o); });
  _carryover.reset();
  _next_part_starting = true;
  _stream->on_space([this] {
    report_progress();
    _host.read_more();
  });
  _stream->start([this](std::uint64_t file) { next_part_ready(file); });
}

void WriteJob::next_part_ready(std::uint64_t file) {
  spdlog::info("drive {}: {}: part {} of its stream goes to file {} of volume {}", _slot.name(),
               who(), _part_index, file, _barcode.empty() ? std::string{"(no barcode)"} : _barcode);
  _changing_volume = false;
  _next_part_starting = false;
  _record.begun(file, _request);
  _record.volume_barcode(_barcode);
  if (_cut_between_parts) {  // an END whose count was wrong came while the part started
    const auto [ending, message] = *_cut_between_parts;
    _cut_between_parts.reset();
    _stream->cut(ending, message);
    return;
  }
  if (_finish_pending) {
    _stream->finish();
  }
  _host.read_more();  // the DATA that waited in the socket
}

void WriteJob::send_part(const std::string& barcode) {
  const auto part = *_part;
  _part.reset();
  _parts_bytes += part.bytes;
  if (!_host.client_gone()) {
    _host.reply(proto::Part{_part_index, part.file_number, part.bytes, part.blocks, _parts_bytes,
                            barcode.substr(0, TS_MAX_VOLUME_TEXT),
                            _record.medium_serial().value_or("").substr(0, TS_MAX_VOLUME_TEXT)});
  }
  ++_part_index;
}

bool WriteJob::ended_by_cut() {
  if (!_cut_between_parts) {
    return false;
  }
  fail_between_parts(_cut_between_parts->first, _cut_between_parts->second);
  return true;
}

void WriteJob::fail_between_parts(drive::Ending ending, const std::string& message) {
  if (_part) {
    send_part(_barcode);
  }
  _changing_volume = false;
  _next_part_starting = false;
  _carryover.reset();  // the blocks no volume took: the client hears how far the stream got
  drive::StreamOutcome outcome;
  outcome.ending = ending;
  outcome.message = message + " (" + std::to_string(_parts_bytes) + " bytes of the stream are in " +
                    std::to_string(_part_index - 1) + " committed part(s))";
  finish_report(outcome);
}

}  // namespace tapestream::server
