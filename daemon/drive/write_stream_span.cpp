// A write stream in parts, one per volume: how a part ends at early warning and hands the blocks
// the medium did not take to the next part, and how the next part takes them over.
#include <algorithm>

#include "drive/write_stream.hpp"

namespace tapestream::drive {

WriteStream::WriteStream(transport::ScsiTransport& drive, uring::BufferPool& pool,
                         const scsi::TimeoutTable& timeouts, Carryover carryover, Options options,
                         Done done)
    : WriteStream(drive, pool, timeouts, carryover.buffers, options, std::move(done)) {
  auto carried = [&](std::uint16_t buffer) {
    return (carryover.filling && carryover.filling->buffer == buffer) ||
           std::any_of(carryover.queued.begin(), carryover.queued.end(),
                       [&](const Block& b) { return b.buffer == buffer; });
  };
  _free.clear();
  for (const auto buffer : _buffers) {
    if (!carried(buffer)) {
      _free.push_back(buffer);
    }
  }
  // Without a command buffer: the block the last part wrote at early warning freed its buffer,
  // so one is always free for the commands that start this part; the carried ones keep their
  // data until it is written.
  if (!_options.command_buffer && !_free.empty()) {
    _scratch = _free.front();
  }
  _full = std::move(carryover.queued);
  _filling = carryover.filling;
  _bytes_received = carryover.bytes_received;
  _bytes_before = carryover.bytes_before;
  _parts_before = carryover.parts_before;
  _finished_before_start = carryover.producer_done;
  _carried_protection = carryover.protected_blocks;
  _sha256 = std::move(carryover.sha256);
  start_pacing();  // the parts before are not this part's producer's mean
}

// Early warning on a WRITE of a spanning stream, the block written: the part ends here unless
// the stream has nothing more to write (the last block met early warning: the stream closes as
// any other, on this volume). True when the part ends.
bool WriteStream::end_part_at_early_warning() {
  if (_producer_done && _full.empty() && !_filling) {
    return false;
  }
  _handing_over = true;
  _phase = Phase::closing;
  // Without a command buffer, the READ POSITION of the count goes into the buffer of the block
  // just written (written() gave it back), never into one that holds data for the next volume.
  if (!_options.command_buffer) {
    _scratch = _free.front();
  }
  if (_on_space) {  // the producer waits for the next part: closed() says so
    _on_space();
  }
  close();
  return true;
}

// After the part's filemark and count: the part is committed when every block sent is on the
// medium; otherwise the stream ends here, with this part's exact count.
void WriteStream::settle_part(bool counted) {
  if (counted && _outcome.ending == Ending::complete && _outcome.filemark_written &&
      _outcome.blocks == _blocks_sent) {
    _outcome.ending = Ending::volume_full;
    _outcome.continues = true;
    _outcome.message = "the tape reached early warning; this part of the stream and its filemark "
                       "are on the medium, the stream goes on on the next volume";
    return;
  }
  drop_carried_blocks();
  if (_outcome.ending == Ending::complete) {
    _outcome.ending = Ending::drive_error;
    _outcome.message = counted ? "the drive holds " + std::to_string(_outcome.blocks) + " of the " +
                                     std::to_string(_blocks_sent) +
                                     " blocks of this part after WRITE FILEMARKS"
                               : std::string{"cannot read the position after the part's filemark"};
  }
}

void WriteStream::drop_carried_blocks() {
  if (!_handing_over) {
    return;
  }
  _handing_over = false;
  if (_filling) {
    _free.push_back(_filling->buffer);
    _filling.reset();
  }
  while (!_full.empty()) {
    _free.push_back(_full.front().buffer);
    _full.pop_front();
  }
}

std::optional<WriteStream::Carryover> WriteStream::take_carryover() {
  if (!_outcome.continues || _carryover_taken || _phase != Phase::done) {
    return std::nullopt;
  }
  _carryover_taken = true;
  Carryover carryover;
  carryover.buffers = _buffers;
  carryover.queued = std::move(_full);
  _full.clear();
  carryover.filling = _filling;
  _filling.reset();
  carryover.bytes_received = _bytes_received;
  carryover.bytes_before = _bytes_before + _outcome.bytes;
  carryover.parts_before = _parts_before + 1;
  carryover.producer_done = _producer_done;
  carryover.protected_blocks = _protected;
  carryover.sha256 = std::move(_sha256);
  return carryover;
}

// A next part whose drive protects its blocks: the carried ones get their CRC (again: sealing
// is idempotent). Fixed blocks that were packed several to a buffer cannot become one block per
// WRITE without copying; that stream ends before this part writes anything. False when it does.
bool WriteStream::seal_carried_blocks() {
  if (!_carried_protection) {
    return true;
  }
  if (_options.fixed && *_carried_protection != _protected) {
    fail_to_start(Ending::drive_error,
                  "the next volume's drive turned Logical Block Protection " +
                      std::string{_protected ? "on" : "off"} +
                      ", and the fixed blocks already buffered were made for the other setting");
    return false;
  }
  if (_protected) {
    for (const auto& block : _full) {
      seal(block);
    }
  }
  return true;
}

}  // namespace tapestream::drive
