#include "server/label_job.hpp"

#include <spdlog/spdlog.h>

#include "drive/label_block.hpp"
#include "server/catalog_record.hpp"
#include "server/status_map.hpp"

namespace tapestream::server {

LabelJob::LabelJob(JobHost& host, DriveSlot& slot, const proto::LabelRequest& request,
                   catalog::Catalog* catalog,
                   std::function<std::optional<std::string>()> destroy_refusal)
    : StreamJob{host, slot, false},
      _request{request},
      _catalog{catalog},
      _destroy_refusal{std::move(destroy_refusal)} {}

void LabelJob::client_gone() {
  if (ended_in_line(std::nullopt)) {
    return;
  }
  _gone = true;  // the commands under way finish; then the drive is given up, nobody told
}

void LabelJob::cut_for_stop() {
  // A label takes a few commands; one under way finishes, and the stop waits for it.
  (void)ended_in_line("the daemon is stopping and its stop timeout passed before the drive was free");
}

bool LabelJob::gone_meanwhile() {
  if (!_gone) {
    return false;
  }
  _phase = Phase::done;
  leave_line();
  _host.request_over(false);
  return true;
}

void LabelJob::fail(proto::Status status, const std::string& message) {
  _phase = Phase::done;
  leave_line();
  _host.refuse(status, message.substr(0, TS_MAX_MESSAGE));
}

// The medium serial number goes into the label, and names the volume in the catalog.
void LabelJob::start() {
  _epoch = _slot.drive().watch().medium_epoch();
  _commanding = true;
  read_medium_serial(_slot.drive(), [this](std::optional<std::string> serial) {
    _medium_serial = std::move(serial);
    if (gone_meanwhile()) {
      _commanding = false;
      return;
    }
    look_at_volume(_slot.drive(), [this](const VolumeLook& look) {
      _commanding = false;
      looked(look);
    });
  });
}

void LabelJob::looked(const VolumeLook& look) {
  if (gone_meanwhile()) {
    return;
  }
  if (!look.read) {
    fail(to_status(look.ending), look.message + "; nothing was written");
    return;
  }
  _slot.learn_layout(look.layout());
  if (look.holds != VolumeLook::Holds::nothing) {
    if ((_request.flags & TS_LABEL_FORCE) == 0) {
      fail(proto::Status::bad_request,
           look.what + "; nothing was written (label it anyway with --force, which ends the "
                       "tape at its beginning)");
      return;
    }
    if (auto refusal = _destroy_refusal()) {
      fail(proto::Status::not_permitted, *refusal + " (" + look.what + ")");
      return;
    }
  }
  write_label(look);
}

void LabelJob::write_label(const VolumeLook& look) {
  _volume.label = _request.name;
  _volume.uuid = tape_label::new_uuid();
  _volume.created = std::chrono::system_clock::now();
  _volume.medium_serial = _medium_serial;
  _volume.writer = "tapestreamd " TAPESTREAM_VERSION;
  _commanding = true;
  drive::rewind_tape(_slot.drive(), [this, look](const drive::LabelStep& rewound) {
    if (!rewound.ok()) {
      _commanding = false;
      written(rewound, look);
      return;
    }
    // The REWIND is sent again after a unit attention: after a reset or a cartridge change
    // since the job began, the medium serial and the look may be another tape's.
    if (_slot.drive().watch().medium_epoch() != _epoch) {
      _commanding = false;
      _slot.forget_layout();
      if (!gone_meanwhile()) {
        fail(to_status(drive::Ending::medium_changed),
             "the drive was reset or its cartridge changed while the tape was looked at; nothing "
             "was written (label it again)");
      }
      return;
    }
    drive::write_label_block(_slot.drive(), tape_label::encode(_volume),
                             [this, look](const drive::LabelStep& step) {
                               _commanding = false;
                               written(step, look);
                             });
  });
}

catalog::VolumeKey LabelJob::volume_before(const VolumeLook& look) const {
  return {_medium_serial, _slot.name(), look.volume ? std::optional{look.volume->uuid} : std::nullopt,
          look.volume ? std::optional{look.volume->label} : std::nullopt};
}

void LabelJob::written(const drive::LabelStep& step, const VolumeLook& look) {
  const bool held_something = look.holds != VolumeLook::Holds::nothing;
  if (!step.ok()) {
    _slot.forget_layout();  // a WRITE at the beginning may have ended the tape there
    spdlog::error("drive {}: {}: the volume label \"{}\" was not written: {}", _slot.name(), who(),
                  _request.name, step.message);
    // The label's block is (or may be, after a WRITE that timed out or failed on the medium) at
    // the beginning of the tape: whatever followed is gone even though its filemark failed,
    // and the catalog must not go on calling those files complete.
    const bool tape_touched = step.block_written || step.block_maybe_written;
    if (tape_touched && held_something && _catalog != nullptr) {
      _catalog->files_voided({volume_before(look), 0});
    }
    if (gone_meanwhile()) {
      return;
    }
    const std::string gone = held_something ? "; what the tape held may be gone from its beginning"
                                            : "";
    if (step.block_written) {
      fail(to_status(step.ending),
           "the volume label's block is at the beginning of the tape, but its filemark was not "
           "written (" + step.message + "): the tape may read as labelled \"" + _request.name +
               "\"; label it again with --force" + gone);
      return;
    }
    if (step.block_maybe_written) {
      fail(to_status(step.ending),
           "the volume label was not written (its " + step.message +
               "), and the failed WRITE may have recorded part of it at the beginning of the "
               "tape; label it again with --force" + gone);
      return;
    }
    fail(to_status(step.ending), "the volume label was not written (its " + step.message + ")" + gone);
    return;
  }
  _slot.learn_layout({TapeLayout::Kind::labelled, _volume});
  if (_catalog != nullptr) {
    _catalog->files_voided({volume_before(look), 0});
    _catalog->volume_seen({_medium_serial, _slot.name(), _volume.uuid, _volume.label},
                          std::chrono::system_clock::now());
  }
  spdlog::info("drive {}: {} labelled the tape \"{}\" (uuid {}){}", _slot.name(), who(),
               _volume.label, _volume.uuid,
               held_something ? "; " + look.what + ", which is gone now" : "");
  if (gone_meanwhile()) {
    return;
  }
  _phase = Phase::done;
  leave_line();
  _host.reply(proto::Labelled{held_something ? TS_LABELLED_VOIDED : 0U, _volume.uuid, _volume.label});
  _host.request_over(false);
}

}  // namespace tapestream::server
