// The shared-buffer side of WriteStream: blocks the producer filled in place, in slots of a
// memfd it shares with the daemon (registered with the ring for the stream), handed over whole.
#include <algorithm>

#include "drive/write_stream.hpp"

namespace tapestream::drive {

bool WriteStream::submit(std::uint16_t buffer, std::uint32_t length) {
  if (_phase != Phase::streaming || _producer_done) {
    return true;
  }
  if (_shared_short || length == 0 || length > _fill_size) {
    cut(Ending::bad_end,
        _shared_short ? std::string{"SUBMIT after a short block, which must be the stream's last; "
                                    "the stream was not committed"}
                      : "SUBMIT of " + std::to_string(length) + " bytes, a block holds 1 to " +
                            std::to_string(_fill_size) + "; the stream was not committed");
    return false;
  }
  auto bytes = _pool.buffer(buffer).first(length);
  _bytes_received += length;
  feed_produced();
  ++_shared_held;
  if (_options.expected_length != 0 && _bytes_received > _options.expected_length) {
    --_shared_held;  // never written: the cut drops it
    cut(Ending::incomplete,
        "the stream ran longer than its expected length of " +
            std::to_string(_options.expected_length) + " bytes; it was not committed");
    return true;
  }
  // The digest is of the bytes as they are now, in the daemon's mapping: a producer that
  // changes the slot after SUBMIT harms only its own stream (PROTOCOL.md, shared buffers).
  if (_options.digest) {
    _sha256.update(bytes);
  }
  Block block{buffer, length};
  if (length < _fill_size) {
    // Only END may follow a short block: the data has ended, so it goes to the drive now
    // whatever the watermark, as finish() sends the rest of any stream.
    _shared_short = true;
    _writing = true;
    if (_options.fixed) {  // the last block is padded with zeros to the block size
      std::fill(_pool.buffer(buffer).begin() + length, _pool.buffer(buffer).begin() + _fill_size,
                std::uint8_t{0});
      block.length = _fill_size;
    }
  }
  seal(block);
  _full.push_back(block);
  pump();
  return true;
}

void WriteStream::keep(std::uint16_t buffer) {
  if (shared() && buffer >= _pool.count()) {
    return;  // a producer's slot: it is neither written nor the stream's to reuse
  }
  _free.push_back(buffer);
}

}  // namespace tapestream::drive
