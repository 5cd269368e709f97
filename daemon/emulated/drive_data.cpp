// The emulated drive's data commands: WRITE, READ, WRITE FILEMARKS and ERASE, whose image I/O
// goes through the ring from and into the registered buffers; for the null drive, the index
// alone (null_append, at the end).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/crc32c.hpp"
#include "emulated/emulated_drive.hpp"
#include "scsi/bytes.hpp"

namespace tapestream::emulated {
namespace {

using scsi::Opcode;
using scsi::SenseKey;

}  // namespace

std::optional<EmulatedDrive::TransferShape> EmulatedDrive::transfer_shape(bool fixed,
                                                                          std::uint32_t count) {
  if (count == 0) {
    good();  // a transfer length of 0 moves nothing and is no error
    return std::nullopt;
  }
  const TransferShape shape{fixed ? _block_length : count, fixed ? count : 1};
  if (std::uint64_t{shape.block} * shape.blocks > data().size()) {
    transport_error();  // the buffer slice is smaller than the CDB's transfer
    return std::nullopt;
  }
  return shape;
}

void EmulatedDrive::write(const scsi::Command& c) {
  if (!needs_medium()) {
    return;
  }
  const bool fixed = (c.cdb[1] & 0x01) != 0;
  const std::uint32_t count = scsi::load_be24(c.cdb, 2);
  if (fixed != (_block_length != 0) || (!fixed && count > _spec.max_block_length)) {
    check(SenseKey::illegal_request, 0x2400);  // INVALID FIELD IN CDB
    return;
  }
  if (_spec.write_protected) {
    _tape_alerts |= alert(alert_write_protect);
    check(SenseKey::data_protect, 0x2700);
    return;
  }
  const auto shape = transfer_shape(fixed, count);
  if (!shape) {
    return;
  }
  const auto block = shape->block;  // named, not bound: clang 14 cannot capture bindings
  const auto blocks = shape->blocks;
  ++_writes;
  if (_spec.medium_error_write && _writes == *_spec.medium_error_write) {
    _tape_alerts |= alert(alert_write_failure);
    check(SenseKey::medium_error, 0x0C00, {}, count);  // WRITE ERROR, nothing written
    return;
  }
  const std::uint32_t protection = _protect_write ? 4 : 0;
  if (block < protection) {
    check(SenseKey::illegal_request, 0x2400);
    return;
  }
  const std::uint32_t stored = block - protection;
  if (protection != 0) {
    for (std::uint32_t i = 0; i < blocks; ++i) {
      const auto b = data().subspan(std::size_t{i} * block, block);
      const std::uint64_t first = _data_written + std::uint64_t{i} * stored;
      const bool corrupt = _spec.corrupt_write && !_write_corrupted &&
                           *_spec.corrupt_write >= first && *_spec.corrupt_write - first < stored;
      // The host's buffer stays as the host filled it: the flip is in what the drive received.
      std::vector<std::uint8_t> received;
      if (corrupt) {
        _write_corrupted = true;
        received.assign(b.begin(), b.begin() + stored);
        received[*_spec.corrupt_write - first] ^= 0xFF;
      }
      const auto checked = corrupt ? std::span<const std::uint8_t>{received} : b.first(stored);
      if (crc32c(checked) != scsi::load_be32(b, stored)) {
        check(SenseKey::aborted_command, 0x1001, {}, fixed ? blocks - i : count);
        return;
      }
    }
  }
  if (!index_has_room(blocks)) {
    check(SenseKey::volume_overflow, 0x0002, {.end_of_medium = true}, count);
    return;
  }
  if (auto cut = cut_at(_position); !cut) {
    failed_append(count, cut.error());
    return;
  }
  auto finished = [this, blocks, stored, block, count](std::uint32_t fit, bool written) {
    if (!written) {
      failed_append(count);
      return;
    }
    count_written(std::uint64_t{fit} * stored);
    model_write(fit, block);
    _data_written += std::uint64_t{fit} * stored;
    _transferred = std::uint64_t{fit} * block;
    if (fit < blocks) {
      check(SenseKey::volume_overflow, 0x0002, {.end_of_medium = true}, blocks - fit);
    } else if (past_early_warning(_index.end_offset())) {
      check(SenseKey::no_sense, 0x0002, {.end_of_medium = true}, 0);
    } else {
      good();
    }
  };
  if (_spec.null_medium) {  // the index only: the data is not looked at
    const auto fit = static_cast<std::uint32_t>(null_append(stored, false, blocks, false));
    if (fit == 0) {
      check(SenseKey::volume_overflow, 0x0002, {.end_of_medium = true}, count);
      return;
    }
    finished(fit, true);
    return;
  }
  std::vector<AppendItem> items(blocks);
  for (std::uint32_t i = 0; i < blocks; ++i) {
    items[i] = {stored, false, std::size_t{i} * block};
  }
  auto plan = plan_append(_tail, items, data(), _spec.capacity, _spec.layout);
  const auto fit = static_cast<std::uint32_t>(plan.placed);
  if (fit == 0) {
    check(SenseKey::volume_overflow, 0x0002, {.end_of_medium = true}, count);
    return;
  }
  append(std::move(plan), false,
         [fit, finished = std::move(finished)](bool written) { finished(fit, written); });
}

// Nothing of the command is on the tape: the index keeps the old end, and what the prepare step
// wrote beyond it is overwritten by the next append.
void EmulatedDrive::failed_append(std::uint32_t count, std::error_code error) {
  const bool no_space = error == std::errc::no_space_on_device ||
                        error == std::error_code{EDQUOT, std::system_category()};
  if (no_space || out_of_space()) {
    // The file system is full: for the image, the end of the medium; no defect of it.
    spdlog::warn("emulated drive: image {}: its file system has no space for the append at byte "
                 "offset {}; reported as VOLUME OVERFLOW",
                 _spec.image.string(), _tail.end_of_data);
    check(SenseKey::volume_overflow, 0x0002, {.end_of_medium = true}, count);
    return;
  }
  _tape_alerts |= alert(alert_write_failure);
  check(SenseKey::medium_error, 0x0C00, {}, count);
}

// The two steps of every append (image_layout.hpp): what lies beyond the image's end, then the
// link; with `sync`, an fdatasync after the link (WRITE FILEMARKS with Immed=0). With the drive's
// buffer the link waits in the batch (drive_buffer.cpp).
void EmulatedDrive::append(AppendPlan plan, bool sync, std::function<void(bool)> done) {
  _plan = std::move(plan);
  reserve(_plan.tail.end());
  if (buffering()) {
    buffered_append(sync, std::move(done));
    return;
  }
  for (const auto& w : _plan.prepare) {
    queue_plan_write(w);
  }
  auto link = [this, sync, done = std::move(done)] {
    if (io_failed()) {
      done(false);
      return;
    }
    queue_io(uring::Write{_append_fd.get(), _plan.staging.view().subspan(_plan.link.from,
                                                                          _plan.link.length),
                          _plan.link.offset},
             static_cast<std::uint32_t>(_plan.link.length), sync ? IOSQE_IO_LINK : 0);
    if (sync) {
      queue_io(uring::Fsync{_append_fd.get(), true}, 0);
    }
    _on_io_done = [this, done] {
      if (io_failed()) {
        done(false);  // the link may be half written: the index keeps the end it had
        return;
      }
      commit_plan();
      done(true);
    };
  };
  if (_plan.prepare.empty()) {
    link();
  } else {
    _on_io_done = std::move(link);
  }
}

void EmulatedDrive::queue_plan_write(const ImageWrite& w) {
  if (w.registered) {
    queue_io(uring::WriteFixed{_append_fd.get(), data().subspan(w.from, w.length),
                               _current->request.data.index, w.offset},
             static_cast<std::uint32_t>(w.length));
  } else {
    queue_io(uring::Write{_append_fd.get(), _plan.staging.view().subspan(w.from, w.length), w.offset},
             static_cast<std::uint32_t>(w.length));
  }
}

void EmulatedDrive::commit_plan() {
  for (const auto& o : _plan.objects) {
    _index.push(o);  // index_has_room() made sure it takes them
  }
  _index.set_end(_plan.tail.end_of_data);
  _tail = std::move(_plan.tail);
  _position = _index.size();
}

void EmulatedDrive::read(const scsi::Command& c) {
  if (!needs_medium()) {
    return;
  }
  const bool fixed = (c.cdb[1] & 0x01) != 0;
  const bool sili = (c.cdb[1] & 0x02) != 0;
  const std::uint32_t count = scsi::load_be24(c.cdb, 2);
  if ((fixed && (sili || _block_length == 0)) || (!fixed && count > _spec.max_block_length + 4U)) {
    check(SenseKey::illegal_request, 0x2400);
    return;
  }
  const auto shape = transfer_shape(fixed, count);
  if (!shape) {
    return;
  }
  const auto block = shape->block;  // named, not bound: clang 14 cannot capture bindings
  const auto blocks = shape->blocks;
  ++_reads;
  if (_spec.medium_error_read && _reads == *_spec.medium_error_read) {
    _tape_alerts |= alert(alert_read_failure);
    check(SenseKey::medium_error, 0x1100, {}, count);  // UNRECOVERED READ ERROR, not moved
    return;
  }
  const bool short_fault = _spec.short_read && _reads == *_spec.short_read;
  const std::uint32_t protection = _protect_read ? 4 : 0;
  const auto buffer_index = _current->request.data.index;

  // Walk the objects this READ covers; queue a read for each data block.
  enum class Stop { none, filemark, end_of_data, wrong_length, cut_short };
  Stop stop = Stop::none;
  std::uint64_t p = _position;
  std::uint32_t whole = 0;        // blocks delivered in full
  std::uint64_t delivered = 0;    // bytes moved
  std::int64_t variable_residue = 0;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> crcs;  // where to append, block length
  std::vector<std::pair<std::uint64_t, std::uint32_t>> pieces;  // where each block's data went
  while (whole < blocks) {
    if (p >= _index.size()) {
      stop = Stop::end_of_data;
      break;
    }
    const auto o = _index.object(p);
    if (o.filemark) {
      ++p;
      stop = Stop::filemark;
      break;
    }
    const std::uint64_t dest = std::uint64_t{whole} * block;
    const std::uint32_t on_tape = o.length + protection;
    std::uint32_t take = std::min(o.length, block);
    if (short_fault) {
      take = std::min(take, o.length / 2);
    }
    if (take > 0 && _spec.null_medium) {
      std::fill_n(data().begin() + static_cast<std::ptrdiff_t>(dest), take, 0);  // kept no data
    } else if (take > 0) {
      queue_io(uring::ReadFixed{_fd.get(), data().subspan(dest, take), buffer_index, o.offset + 4},
               take);
    }
    ++p;
    delivered += take;
    pieces.emplace_back(dest, take);
    if (short_fault) {
      stop = Stop::cut_short;
      break;
    }
    if (protection != 0 && o.length < block) {
      crcs.emplace_back(dest, o.length);
      delivered += std::min<std::uint32_t>(4, block - o.length);
    }
    if (on_tape != block) {
      if (!fixed) {
        variable_residue = std::int64_t{block} - on_tape;
        if (variable_residue > 0 && sili) {
          ++whole;
          break;  // SILI: a shorter block is no error
        }
      }
      stop = Stop::wrong_length;
      break;
    }
    ++whole;
  }
  _on_io_done = [this, stop, p, whole, blocks, count, fixed, delivered, variable_residue, crcs,
                 pieces] {
    if (io_failed()) {
      _tape_alerts |= alert(alert_read_failure);
      check(SenseKey::medium_error, 0x1100, {}, count);
      return;
    }
    for (const auto& [at, length] : crcs) {
      std::array<std::uint8_t, 4> crc{};
      scsi::store_be(crc, 0, crc32c(data().subspan(at, length)), 4);
      const auto room = std::min<std::size_t>(4, data().size() - at - length);
      std::copy_n(crc.begin(), room, data().begin() + static_cast<std::ptrdiff_t>(at + length));
    }
    corrupt_read_data(pieces);
    _position = p;
    _transferred = delivered;
    _bytes_read += delivered;
    _bytes_read_load += delivered;
    const std::int64_t remaining = fixed ? std::int64_t{blocks} - whole : count;
    switch (stop) {
      case Stop::none:
        good();
        break;
      case Stop::filemark:
        check(SenseKey::no_sense, 0x0001, {.filemark = true}, remaining);
        break;
      case Stop::end_of_data:
        check(SenseKey::blank_check, 0x0005,
              {.end_of_medium = past_early_warning(_index.end_offset())}, remaining);
        break;
      case Stop::wrong_length:
        check(SenseKey::no_sense, 0x0000, {.incorrect_length = true},
              fixed ? remaining : variable_residue);
        break;
      case Stop::cut_short:
        check(SenseKey::medium_error, 0x1108, {},
              static_cast<std::int64_t>(count) - static_cast<std::int64_t>(delivered));
        break;
    }
  };
}

void EmulatedDrive::write_filemarks(const scsi::Command& c) {
  if (!needs_medium()) {
    return;
  }
  const std::uint32_t count = scsi::load_be24(c.cdb, 2);
  const bool immediate = (c.cdb[1] & 0x01) != 0;
  if (count > 0 && _spec.write_protected) {
    _tape_alerts |= alert(alert_write_protect);
    check(SenseKey::data_protect, 0x2700);
    return;
  }
  if (count > 0x1'0000) {
    check(SenseKey::illegal_request, 0x2400);  // the emulator writes at most 65536 at once
    return;
  }
  if (count > 0 && !index_has_room(1)) {
    check(SenseKey::volume_overflow, 0x0002, {.end_of_medium = true}, count);
    return;
  }
  if (count > 0) {
    if (auto cut = cut_at(_position); !cut) {
      failed_append(count, cut.error());
      return;
    }
  }
  auto finished = [this, count, immediate](bool written) {
    if (!written) {
      failed_append(count);
      return;
    }
    if (_model && !immediate) {  // Immed=0: the buffer goes to the tape before GOOD
      hold_completion(_model->drain(DriveModel::Clock::now()));
    }
    if (count > 0 && past_early_warning(_index.end_offset())) {
      check(SenseKey::no_sense, 0x0002, {.end_of_medium = true}, 0);
    } else {
      good();
    }
  };
  if (_spec.null_medium) {  // nothing to flush; the marks go to the index, all or none
    if (null_append(0, true, count, true) < count) {
      check(SenseKey::volume_overflow, 0x0002, {.end_of_medium = true}, count);
      return;
    }
    finished(true);
    return;
  }
  if (count == 0) {
    if (!immediate && _batch) {  // the buffer goes to the medium, then as below
      link_batch(true, finished);
    } else if (!immediate) {  // Immed=0: whatever is written is on the medium before GOOD
      queue_io(uring::Fsync{append_fd(), true}, 0);
      _on_io_done = [this, finished] { finished(!io_failed()); };
    } else {
      good();
    }
    return;
  }
  const std::vector<AppendItem> marks(count, AppendItem{0, true, 0});
  auto plan = plan_append(_tail, marks, {}, _spec.capacity, _spec.layout);
  if (plan.placed < count) {
    check(SenseKey::volume_overflow, 0x0002, {.end_of_medium = true}, count);
    return;
  }
  append(std::move(plan), !immediate, std::move(finished));
}

void EmulatedDrive::erase(const scsi::Command&) {
  if (!needs_medium()) {
    return;
  }
  if (_spec.write_protected) {
    _tape_alerts |= alert(alert_write_protect);
    check(SenseKey::data_protect, 0x2700);
    return;
  }
  // Short and long erase both leave end of data here: nothing beyond it is ever read back.
  if (!cut_at(_position)) {
    check(SenseKey::medium_error, 0x5100);  // ERASE FAILURE
    return;
  }
  good();
}

// The null drive's medium: the tape index with no image behind it. Objects take the room they
// would take in a SIMH image without alignment gaps, so that capacity, early warning and the
// remaining capacity mean what they mean for an image; no byte of data is read, copied or kept.
std::uint64_t EmulatedDrive::null_append(std::uint32_t length, bool filemark, std::uint64_t count,
                                         bool all_or_nothing) {
  const std::uint64_t span = filemark ? 4 : simh_record_span(length);
  const auto end = _index.end_offset();
  const auto room = _spec.capacity > end ? (_spec.capacity - end) / span : 0;
  const auto fit = std::min(count, room);
  if (fit == 0 || (all_or_nothing && fit < count)) {
    return 0;
  }
  if (filemark) {
    _index.push_filemarks(end, fit);  // index_has_room() made sure it takes them
  } else {
    for (std::uint64_t i = 0; i < fit; ++i) {
      _index.push({end + i * span, length, false});
    }
  }
  _position = _index.size();
  return fit;
}

}  // namespace tapestream::emulated
