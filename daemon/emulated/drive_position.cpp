// The emulated drive's positioning: SPACE, LOCATE, READ POSITION, LOAD UNLOAD. None of them
// touches the image; the index answers.
#include <algorithm>
#include <tuple>

#include "emulated/emulated_drive.hpp"
#include "scsi/bytes.hpp"

namespace tapestream::emulated {
namespace {

using scsi::Opcode;
using scsi::SenseKey;

}  // namespace

void EmulatedDrive::space(const scsi::Command& c) {
  if (!needs_medium()) {
    return;
  }
  const auto code = static_cast<scsi::cdb::SpaceCode>(c.cdb[1] & 0x0F);
  std::int64_t count;
  if (c.opcode() == Opcode::space6) {
    std::uint32_t raw = scsi::load_be24(c.cdb, 2);
    if ((raw & 0x80'0000) != 0) {
      raw |= 0xFF00'0000;
    }
    count = static_cast<std::int32_t>(raw);
  } else {
    count = static_cast<std::int64_t>(scsi::load_be64(c.cdb, 4));
  }
  const auto size = _index.size();
  const auto files = _index.files_before(_position);
  const std::uint64_t n = count < 0 ? static_cast<std::uint64_t>(-count)
                                    : static_cast<std::uint64_t>(count);
  // The INFORMATION field carries the count not done, as a positive number in both
  // directions (as scsi_debug does).
  switch (code) {
    case scsi::cdb::SpaceCode::blocks: {
      if (count >= 0) {
        // Blocks up to the next filemark, or to end of data.
        const auto mark = files < _index.filemarks() ? _index.filemark(files + 1) : size;
        if (n <= mark - _position) {
          _position += n;
          good();
        } else if (mark < size) {
          const auto left = n - (mark - _position);
          _position = mark + 1;  // on the end-of-tape side of the filemark
          check(SenseKey::no_sense, 0x0001, {.filemark = true}, static_cast<std::int64_t>(left));
        } else {
          const auto left = n - (size - _position);
          _position = size;
          check(SenseKey::blank_check, 0x0005, {}, static_cast<std::int64_t>(left));
        }
        return;
      }
      // Blocks back to the previous filemark, or to the beginning.
      const auto after_mark = files > 0 ? _index.filemark(files) + 1 : 0;
      if (n <= _position - after_mark) {
        _position -= n;
        good();
      } else if (files > 0) {
        const auto left = n - (_position - after_mark);
        _position = after_mark - 1;  // on the beginning-of-tape side of the filemark
        check(SenseKey::no_sense, 0x0001, {.filemark = true}, static_cast<std::int64_t>(left));
      } else {
        const auto left = n - _position;
        _position = 0;
        check(SenseKey::no_sense, 0x0004, {.end_of_medium = true}, static_cast<std::int64_t>(left));
      }
      return;
    }
    case scsi::cdb::SpaceCode::filemarks: {
      if (count >= 0) {
        const auto available = _index.filemarks() - files;
        if (n == 0) {
          good();
        } else if (available >= n) {
          _position = _index.filemark(files + n) + 1;
          good();
        } else {
          _position = size;
          check(SenseKey::blank_check, 0x0005, {}, static_cast<std::int64_t>(n - available));
        }
        return;
      }
      if (files >= n) {
        _position = _index.filemark(files - n + 1);  // BOT side of the filemark
        good();
      } else {
        _position = 0;
        check(SenseKey::no_sense, 0x0004, {.end_of_medium = true},
              static_cast<std::int64_t>(n - files));
      }
      return;
    }
    case scsi::cdb::SpaceCode::end_of_data:
      _position = size;
      good();
      return;
    case scsi::cdb::SpaceCode::sequential_filemarks:
      break;
  }
  check(SenseKey::illegal_request, 0x2400);  // sequential filemarks are not emulated
}

void EmulatedDrive::locate(const scsi::Command& c) {
  if (!needs_medium()) {
    return;
  }
  std::uint64_t target;
  bool by_file = false;
  bool to_end = false;
  std::uint8_t partition = 0;
  bool change_partition;
  if (c.opcode() == Opcode::locate10) {
    change_partition = (c.cdb[1] & 0x04) != 0;
    target = scsi::load_be32(c.cdb, 3);
    partition = c.cdb[8];
  } else {
    const auto destination = static_cast<std::uint8_t>((c.cdb[1] >> 3) & 0x07);
    change_partition = (c.cdb[1] & 0x02) != 0;
    partition = c.cdb[3];
    target = scsi::load_be64(c.cdb, 4);
    by_file = destination == 0b001;
    to_end = destination == 0b011;
    if (destination != 0b000 && !by_file && !to_end) {
      check(SenseKey::illegal_request, 0x2400);
      return;
    }
  }
  if (change_partition && partition != 0) {
    check(SenseKey::illegal_request, 0x2400);  // one partition only
    return;
  }
  const auto size = _index.size();
  if (to_end) {
    _position = size;
  } else if (by_file) {
    if (target == 0) {
      _position = 0;
    } else if (target <= _index.filemarks()) {
      _position = _index.filemark(target) + 1;
    } else {
      _position = size;
      check(SenseKey::blank_check, 0x0005);
      return;
    }
  } else if (target <= size) {
    _position = target;
  } else {
    _position = size;
    check(SenseKey::blank_check, 0x0005);
    return;
  }
  good();
}

void EmulatedDrive::read_position(const scsi::Command& c) {
  if (!needs_medium()) {
    return;
  }
  const auto form = static_cast<scsi::cdb::ReadPositionForm>(c.cdb[1] & 0x1F);
  switch (form) {
    case scsi::cdb::ReadPositionForm::short_block_id:
    case scsi::cdb::ReadPositionForm::short_vendor:
    case scsi::cdb::ReadPositionForm::long_form:
    case scsi::cdb::ReadPositionForm::extended:
      break;
    default:
      check(SenseKey::illegal_request, 0x2400);
      return;
  }
  PositionState p;
  p.object = _position;
  p.file = _index.files_before(_position);
  p.beginning = _position == 0;
  p.beyond_early_warning = past_early_warning(_index.offset_at(_position));
  if (_model) {
    std::tie(p.buffered_objects, p.buffered_bytes) = _model->buffered(DriveModel::Clock::now());
    if (_batch) {  // not linked into the image yet: a crash would lose them
      p.buffered_objects = std::max(p.buffered_objects, _index.size() - _batch->objects);
      p.buffered_bytes = std::max(p.buffered_bytes, _batch->data_bytes);
    }
    p.buffered_objects = std::min(p.buffered_objects, p.object);
  }
  respond(emulated::read_position(form, p));
}

void EmulatedDrive::load_unload(const scsi::Command& c) {
  const bool load = (c.cdb[4] & 0x01) != 0;
  if (load) {
    if (!_present) {
      check(SenseKey::not_ready, 0x3A00);  // MEDIUM NOT PRESENT: nothing to thread
      return;
    }
    thread_tape();
    good();
    return;
  }
  if (_prevent_removal) {
    check(SenseKey::illegal_request, 0x5302);  // MEDIUM REMOVAL PREVENTED
    return;
  }
  _loaded = false;
  _position = 0;
  change_from_magazine();
  good();
}

}  // namespace tapestream::emulated
