// WriteJob on a labelled tape: learning whether the tape is labelled before the stream, and the
// trailer after it (docs/TAPE_FORMAT.md, "The labelled layout").
#include <spdlog/spdlog.h>

#include "server/status_map.hpp"
#include "server/write_job.hpp"

namespace tapestream::server {

bool WriteJob::stopped_before_stream() {
  if (_gone_before_stream) {
    _phase = Phase::done;
    leave_line();
    _host.request_over(false);
    return true;
  }
  if (_cut_before_stream) {
    refuse_start(_cut_before_stream->first, _cut_before_stream->second);
    return true;
  }
  return false;
}

// As a stream that cannot start: STREAM_FAILED in place of READY, nothing on the tape, and the
// drive's state learns a drive failure as it would from the stream.
void WriteJob::refuse_start(drive::Ending ending, const std::string& message) {
  _phase = Phase::done;
  _slot.drive().stream_ended(ending);
  leave_line();
  spdlog::warn("drive {}: {}: the stream did not start ({}): {}", _slot.name(), who(),
               drive::ending_name(ending), message);
  if (!_host.client_gone()) {
    _host.reply(proto::StreamFailed{to_status(ending), 0, 0, 0, 0,
                                    message.substr(0, TS_MAX_MESSAGE)});
  }
  _host.request_over(false);
}

// A write where the tape stands keeps its place: READ POSITION before the look at the tape's
// beginning, LOCATE back after it. A position the drive no longer vouches for (a reset since it
// was placed) is left to the stream, which refuses it as it always did.
void WriteJob::prepare_volume() {
  if (stopped_before_stream()) {
    return;
  }
  _layout = _slot.layout();
  const bool append = (_request.flags & TS_WRITE_APPEND) != 0;
  if (append && _layout.kind != TapeLayout::Kind::unknown) {
    volume_known();
    return;
  }
  if (append) {
    look_at_tape();
    return;
  }
  if (!_slot.drive().watch().position_trusted()) {
    begin_stream();
    return;
  }
  _commanding = true;
  _here_epoch = _slot.drive().watch().medium_epoch();
  drive::read_tape_position(_slot.drive(), [this](std::optional<drive::TapePosition> here) {
    _commanding = false;
    if (stopped_before_stream()) {
      return;
    }
    if (!here) {
      begin_stream();  // the stream reads the position itself, and says what the drive said
      return;
    }
    _here = here;
    if (_layout.kind != TapeLayout::Kind::unknown) {
      volume_known();
      return;
    }
    look_at_tape();
  });
}

void WriteJob::look_at_tape() {
  _commanding = true;
  look_at_volume(_slot.drive(), [this](const VolumeLook& look) {
    if (!look.read) {
      _commanding = false;
      if (!stopped_before_stream()) {
        refuse_start(look.ending,
                     "the beginning of the tape could not be read to learn whether it is "
                     "labelled: " + look.message + "; nothing was written");
      }
      return;
    }
    _layout = look.layout();
    _slot.learn_layout(_layout);
    if (!_here) {
      _commanding = false;
      volume_known();
      return;
    }
    drive::locate_block(_slot.drive(), _here->block_number, [this](const drive::LabelStep& step) {
      _commanding = false;
      if (!step.ok()) {
        if (!stopped_before_stream()) {
          refuse_start(step.ending,
                       "the tape could not be put back where it stood after its beginning was "
                       "read: " + step.message + "; nothing was written");
        }
        return;
      }
      volume_known();
    });
  });
}

// On a labelled tape a data file follows the volume label (file 0) or a trailer: a stream
// written where the tape stands must begin at such a place, or it would overwrite the volume
// label or take a trailer's place. Parity is not enough: a data file whose trailer the drive
// refused (or a daemon stopped between filemark and trailer) shifts every file after it.
void WriteJob::volume_known() {
  if (stopped_before_stream()) {
    return;
  }
  // The look's commands are sent again after a unit attention, the LOCATE back too: after a
  // reset or a cartridge change since the position was read, that LOCATE put another tape (or
  // a rewound one) at the old block number.
  if (_here && _slot.drive().watch().medium_epoch() != _here_epoch) {
    refuse_start(drive::Ending::medium_changed,
                 "the drive was reset or its cartridge changed while the tape was looked at; "
                 "position the tape and write again; nothing was written");
    return;
  }
  if (_layout.kind == TapeLayout::Kind::labelled && _layout.volume) {
    _record.volume_label(_layout.volume->uuid, _layout.volume->label);
    if (_here && !_here->file_number && !_place_checked) {
      refuse_start(drive::Ending::not_at_boundary,
                   "the tape is labelled \"" + _layout.volume->label +
                       "\" and the drive does not say which file it stands at, so a stream "
                       "written where the tape stands could take the volume label's or a "
                       "trailer's place; write with --append; nothing was written");
      return;
    }
    if (_here && _here->file_number && !_place_checked) {
      const auto file = *_here->file_number;
      if (file == 0) {
        refuse_start(drive::Ending::not_at_boundary,
                     "the tape is labelled \"" + _layout.volume->label +
                         "\" and stands at file 0, its volume label; a stream written where the "
                         "tape stands must begin after the label or after a trailer; nothing was "
                         "written");
        return;
      }
      if (file >= 2) {
        check_file_before(file);
        return;
      }
    }
  }
  begin_stream();
}

// The file before `file` must be the trailer of the file before it, on this volume: back over
// two filemarks, forward over one, read its first block, and LOCATE back where the tape stood.
// A reset on the way (the LOCATE and MODE SELECT are sent again after one, and a READ that met
// it read nothing) leaves the answer about another place, or none: refused, never "not a trailer".
void WriteJob::check_file_before(std::uint64_t file) {
  auto& drive = _slot.drive();
  const auto epoch = drive.watch().medium_epoch();
  const auto failed = [this](const drive::LabelStep& step) {
    _commanding = false;
    if (!stopped_before_stream()) {
      refuse_start(step.ending, "the file before the place to write could not be read to learn "
                                "whether it is a trailer: " + step.message +
                                    "; nothing was written");
    }
  };
  _commanding = true;
  drive::space_filemarks(drive, -2, [this, &drive, file, epoch, failed](const drive::LabelStep& back) {
    if (!back.ok()) {
      failed(back);
      return;
    }
    drive::space_filemarks(drive, 1, [this, &drive, file, epoch, failed](const drive::LabelStep& fwd) {
      if (!fwd.ok()) {
        failed(fwd);
        return;
      }
      drive::set_variable_blocks(drive, [this, &drive, file, epoch, failed](const drive::LabelStep& set) {
        if (!set.ok()) {
          failed(set);
          return;
        }
        drive::read_label_block(drive, [this, &drive, file, epoch,
                                        failed](const drive::LabelBlockRead& read) {
          const auto trailer = read.kind == drive::LabelBlockRead::Kind::block && !read.longer
                                   ? tape_label::parse_trailer(read.bytes)
                                   : std::nullopt;
          const bool is_trailer = trailer && trailer->volume == _layout.volume->uuid &&
                                  trailer->file == file - 2;
          std::optional<drive::LabelStep> unread;
          if (read.kind == drive::LabelBlockRead::Kind::failed) {
            unread = drive::LabelStep{read.ending, read.message};
          }
          drive::locate_block(drive, _here->block_number,
                              [this, &drive, file, epoch, is_trailer, unread,
                               failed](const drive::LabelStep& step) {
                                if (!step.ok()) {
                                  failed(step);
                                  return;
                                }
                                if (drive.watch().medium_epoch() != epoch) {
                                  failed({drive::Ending::medium_changed,
                                          "the drive was reset or its cartridge changed on the "
                                          "way; position the tape and write again"});
                                  return;
                                }
                                if (unread) {
                                  failed(*unread);
                                  return;
                                }
                                _commanding = false;
                                if (stopped_before_stream()) {
                                  return;
                                }
                                if (!is_trailer) {
                                  refuse_start(drive::Ending::not_at_boundary,
                                               place_refusal(file));
                                  return;
                                }
                                _place_checked = true;
                                volume_known();
                              });
        });
      });
    });
  });
}

std::string WriteJob::place_refusal(std::uint64_t file) const {
  return "the tape is labelled \"" + _layout.volume->label + "\" and stands at file " +
         std::to_string(file) + ", but file " + std::to_string(file - 1) +
         " is not the trailer of file " + std::to_string(file - 2) +
         ": a stream written here would take a trailer's place; write with --append, or where "
         "a trailer ends; nothing was written";
}

// A trailer follows every data file the drive closed with a filemark on a labelled tape, an
// empty one too (an empty stream that commits is a file: without its trailer the next stream
// would take a trailer's place); one of a stream that failed while its client was still sending
// by the socket is left out (its frames may still come in while the drive writes it). A stream
// that put no block there wrote no filemark, so made no file.
bool WriteJob::wants_trailer(const drive::StreamOutcome& outcome) const {
  if (_layout.kind != TapeLayout::Kind::labelled || !_layout.volume || !outcome.filemark_written) {
    return false;
  }
  return outcome.complete() || _phase == Phase::ending || _source != nullptr ||
         _host.client_gone();
}

void WriteJob::write_trailer(const drive::StreamOutcome& outcome) {
  tape_label::Trailer t;
  t.volume = _layout.volume->uuid;
  t.file = outcome.file_number;
  t.label = _request.label;
  t.bytes = outcome.bytes;
  t.blocks = outcome.blocks;
  t.block_size = _request.block_size;
  t.fixed = (_request.flags & TS_WRITE_FIXED) != 0;
  if (t.fixed) {
    const auto whole = outcome.blocks * std::uint64_t{_request.block_size};
    t.padding = whole > outcome.bytes ? whole - outcome.bytes : 0;
  }
  t.started = _started_at;
  t.ended = std::chrono::system_clock::now();
  t.uid = _host.uid();
  switch (file_status_for(outcome.ending)) {
    case catalog::FileStatus::complete:
      t.status = tape_label::TrailerStatus::complete;
      t.sha256 = outcome.sha256;
      break;
    case catalog::FileStatus::interrupted:
      t.status = tape_label::TrailerStatus::interrupted;
      break;
    default:
      t.status = tape_label::TrailerStatus::failed;
      break;
  }
  // The stream may have left fixed blocks (a mode it could not undo) or CRC32C on in the drive:
  // the trailer is one variable block without protection. Its MODE SELECT, and the stream's
  // own commands after its filemark, are sent again after a unit attention, and a reset rewinds
  // the tape: a trailer written then would land on the volume label and end the tape there.
  _commanding = true;
  drive::set_variable_blocks(
      _slot.drive(), [this, outcome, block = tape_label::encode(t)](const drive::LabelStep& set) {
        if (!set.ok()) {
          _commanding = false;
          trailer_written(outcome, set);
          return;
        }
        if (_slot.drive().watch().medium_epoch() != _stream_epoch) {
          _commanding = false;
          trailer_written(outcome, {drive::Ending::medium_changed,
                                    "the drive was reset during the stream, so the tape may "
                                    "no longer stand after its filemark"});
          return;
        }
        drive::write_label_block(_slot.drive(), block,
                                 [this, outcome](const drive::LabelStep& step) {
                                   _commanding = false;
                                   trailer_written(outcome, step);
                                 });
      });
}

// A committed stream whose trailer did not reach the medium is not committed: its data is all
// there, but the tape does not say so.
void WriteJob::trailer_written(const drive::StreamOutcome& outcome, const drive::LabelStep& step) {
  if (step.ok()) {
    spdlog::debug("drive {}: the trailer of file {} is file {}", _slot.name(), outcome.file_number,
                  outcome.file_number + 1);
    finish_report(outcome);
    return;
  }
  spdlog::error("drive {}: the trailer of file {} was not written: {}", _slot.name(),
                outcome.file_number, step.message);
  if (!outcome.complete()) {
    finish_report(outcome);
    return;
  }
  auto failed = outcome;
  failed.ending = step.ending;
  failed.filemark_written = true;
  failed.message = "all " + amount_text(outcome) + " of the stream are on the tape in file " +
                   std::to_string(outcome.file_number) +
                   ", closed by a filemark, but not confirmed by a trailer (its " + step.message +
                   "); the stream was not committed";
  finish_report(failed);
}

}  // namespace tapestream::server
