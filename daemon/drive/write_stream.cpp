#include "drive/write_stream.hpp"

#include <algorithm>

#include "scsi/cdb.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/position.hpp"

namespace tapestream::drive {
namespace {

using scsi::TapeCondition;

}  // namespace

WriteStream::WriteStream(transport::ScsiTransport& drive, uring::BufferPool& pool,
                         const scsi::TimeoutTable& timeouts, std::vector<std::uint16_t> buffers,
                         Options options, Done done)
    : _channel{drive, timeouts},
      _start{_channel, options.positioning},
      _pool{pool},
      _options{options},
      _done{std::move(done)},
      _alerts{options.tape_alert_interval, options.tape_alerts_seen},
      _buffers{buffers},
      _scratch{options.command_buffer.value_or(buffers.at(0))},
      _buffer_count{static_cast<std::uint32_t>(buffers.size())},
      _free(buffers.begin(), buffers.end()) {
  _options.block_size =
      std::clamp<std::uint32_t>(_options.block_size, 1, static_cast<std::uint32_t>(pool.buffer_size()));
  const auto block = _options.block_size;
  _unprotected_fill_size = _options.fixed
                   ? static_cast<std::uint32_t>(std::min<std::size_t>(pool.buffer_size() / block * block,
                                                                      scsi::Count24::max * std::uint64_t{block}))
                   : block;
  _fill_size = _unprotected_fill_size;
  _shared_count = static_cast<std::uint32_t>(_options.shared_buffers.size());
  if (shared()) {  // one slot, one block, one WRITE
    _unprotected_fill_size = block;
    _fill_size = block;
    _buffer_count = _shared_count;
  }
  // The marks count the blocks that can wait for the drive: the client's slots when it shares
  // them (the pool's own buffers then serve only commands), else the stream's buffers.
  const std::size_t capacity = _buffer_count;
  // 1 % is "no mark" (the operator's way to write whatever arrives, as mbuffer's 0): one block,
  // not 1 % of a pool of hundreds.
  const auto of_pool = [&](unsigned percent) -> std::size_t {
    return percent <= 1 ? 1 : (capacity * std::min(percent, 100U) + 99) / 100;
  };
  if (_options.start_watermark == 0) {
    _options.start_watermark = _options.start_percent != 0 ? of_pool(_options.start_percent)
                                                           : capacity / 2;
  }
  _options.start_watermark = std::clamp<std::size_t>(_options.start_watermark, 1, capacity);
  if (_options.restart_watermark == 0) {
    _options.restart_watermark = _options.restart_percent != 0 ? of_pool(_options.restart_percent)
                                                               : _options.start_watermark;
  }
  _options.restart_watermark =
      std::clamp<std::size_t>(_options.restart_watermark, 1, capacity);
  start_pacing();
}

std::span<std::uint8_t> WriteStream::writable() {
  if (_phase != Phase::streaming || _producer_done || shared()) {
    return {};
  }
  if (!_filling) {
    if (_free.empty()) {
      return {};
    }
    _filling = Block{_free.front(), 0};
    _free.pop_front();
  }
  return _pool.buffer(_filling->buffer).subspan(_filling->length, _fill_size - _filling->length);
}

// The SHA-256 is taken here, from the bytes the producer's receive just put in the buffer: they
// are still in the cache, and commits come in stream order. This runs on the producer's
// completions (a socket or descriptor read), never on a WRITE's: the drive's next WRITE is sent
// from written() before anything of the producer runs again. And a buffer that fills is handed
// to pump() before it is hashed, so that a drive waiting for data gets it without waiting for
// the hash; the buffer is not reused until that WRITE's completion, which a later turn of the
// ring delivers, so the bytes are still there to hash.
void WriteStream::commit(std::size_t bytes) {
  if (!_filling || bytes == 0) {
    return;
  }
  const auto committed = _pool.buffer(_filling->buffer).subspan(_filling->length, bytes);
  _filling->length += static_cast<std::uint32_t>(bytes);
  _bytes_received += bytes;
  feed_produced();
  if (_options.expected_length != 0 && _bytes_received > _options.expected_length) {
    cut(Ending::incomplete,
        "the stream ran longer than its expected length of " +
            std::to_string(_options.expected_length) + " bytes; it was not committed");
    return;
  }
  if (_filling->length == _fill_size) {
    seal(*_filling);
    _full.push_back(*_filling);
    _filling.reset();
    pump();
  }
  if (_options.digest) {
    _sha256.update(committed);
  }
}

void WriteStream::finish() {
  if (_producer_done || _phase != Phase::streaming) {
    return;
  }
  if (_options.expected_length != 0 && _bytes_received != _options.expected_length) {
    cut(Ending::incomplete,
        "the stream ended after " + std::to_string(_bytes_received) + " of its expected " +
            std::to_string(_options.expected_length) + " bytes; it was not committed");
    return;
  }
  _producer_done = true;
  _writing = true;  // whatever is buffered goes now, however little
  if (_filling && _filling->length > 0) {
    if (_options.fixed) {  // the last block is padded with zeros to the block size
      const auto block = _options.block_size;
      const auto pad = (block - _filling->length % block) % block;
      std::fill_n(_pool.buffer(_filling->buffer).begin() + _filling->length, pad, std::uint8_t{0});
      _filling->length += pad;
    }
    seal(*_filling);
    _full.push_back(*_filling);
  } else if (_filling) {
    _free.push_back(_filling->buffer);
  }
  _filling.reset();
  _phase = Phase::draining;
  pump();
}

void WriteStream::abandon() {
  cut(Ending::client_gone, "the client went away before the end of its stream");
}

void WriteStream::cut(Ending ending, std::string message) {
  if (_phase == Phase::done || _phase == Phase::counting || _phase == Phase::closing) {
    return;
  }
  if (_phase == Phase::positioning) {
    _producer_done = true;  // settles when the position arrives and nothing was sent
    if (_outcome.ending == Ending::complete) {
      _outcome.ending = ending;
      _outcome.message = std::move(message);
    }
    return;
  }
  if (_phase == Phase::draining && _outcome.ending == Ending::complete) {
    // finish() came first: the data is complete and on its way; the stream is committed
    // unless the drive fails it, but a cut that arrives now still wins over success.
    _outcome.ending = ending;
    _outcome.message = std::move(message);
  }
  stop(ending, std::move(message), {});
}

void WriteStream::release(std::uint16_t buffer) {
  if (shared() && buffer >= _pool.count()) {
    --_shared_held;
    if (_on_written) {
      _on_written(buffer);
    }
    return;
  }
  _free.push_back(buffer);
  if (_on_space && _phase == Phase::streaming) {
    _on_space();
  }
}

// The drive's state is noted before the turn, never after it: a turn may end the stream, and
// its owner may destroy it in the done callback.
void WriteStream::pump() {
  note_drive();
  pump_now();
}

// Sends the next full block when none is in flight.
void WriteStream::pump_now() {
  if (_in_flight || _polling || (_phase != Phase::streaming && _phase != Phase::draining)) {
    return;
  }
  if (_writing && _full.empty() && _phase == Phase::streaming && !_producer_done &&
      _blocks_sent > 0) {
    ++_pool_ran_dry;  // the restart watermark holds the drive back until the pool refilled
    _writing = false;
  }
  const auto mark = _blocks_sent == 0 ? _options.start_watermark : _options.restart_watermark;
  if (!_writing && _full.size() >= mark) {
    _writing = true;
  }
  if (!_writing || _full.empty()) {
    if (_phase == Phase::draining && _full.empty() && !watch_tape_alerts(true) &&
        !watch_drive_model(true)) {
      close();
    }
    return;
  }
  if (watch_tape_alerts(false) || watch_drive_model(false)) {
    return;
  }
  // After the polls: a poll that takes the turn must not spend the credit of the block.
  if (held_for_pace()) {
    return;  // the next tick() or commit sends it
  }
  const auto block = _full.front();
  _full.pop_front();
  _in_flight = block;
  _blocks_sent += blocks_in(block);
  if (block.length == _options.block_size) {
    ++_full_blocks_sent;
  } else if (!_options.fixed) {
    _short_block = block.length;
  }
  drive_busy();
  _channel.send(write_command(block),
                {block.buffer, _pool.buffer(block.buffer).first(transfer_length(block))},
                [this, block](const auto& r) { written(block, r); });
}

// The CRC is taken once the producer has filled the block, before it joins the queue: in the
// cache, and never between a WRITE's completion and the next WRITE (pump() sends a block that
// is ready). The buffer has room: a protected stream's blocks are at most a buffer less 4.
void WriteStream::seal(const Block& block) {
  if (_protected) {
    append_block_crc(_pool.buffer(block.buffer), block.length);
  }
}

std::uint32_t WriteStream::transfer_length(const Block& block) const {
  return block.length + (_protected ? protection_bytes : 0);
}

scsi::Command WriteStream::write_command(const Block& block) const {
  if (_options.fixed) {
    return scsi::cdb::write6_fixed(scsi::Count24::from(blocks_in(block)).value(),
                                   _options.block_size);
  }
  return scsi::cdb::write6_variable(scsi::Count24::from(transfer_length(block)).value());
}

std::uint64_t WriteStream::blocks_in(const Block& block) const {
  return _options.fixed ? block.length / _options.block_size : 1;
}

void WriteStream::written(const Block& block, const transport::ScsiResult& result) {
  _in_flight.reset();
  const auto c = scsi::classify(write_command(block), result.status());
  if (c.condition == TapeCondition::good) {
    _blocks_accepted += blocks_in(block);
    release(block.buffer);  // may let the producer fill and commit, which sends the next block
    pump();
    return;
  }
  // Stop before the buffer is free again, so that nothing more is sent after a failure.
  keep(block.buffer);
  if (c.condition == TapeCondition::early_warning) {
    _blocks_accepted += blocks_in(block);
    _outcome.early_warning = true;
    if (_options.span) {
      if (!end_part_at_early_warning()) {
        pump();  // the stream's last block met early warning: it closes on this volume
      }
      return;
    }
    stop(Ending::volume_full,
         "the tape reached early warning; the stream ends here, its data and a filemark are on "
         "the medium",
         {});
    return;
  }
  // After a reset or a timeout the tape may stand anywhere (a power-on reset rewinds): the
  // count is taken at end of data, never at an assumed position.
  const bool moved = is_unit_attention(c.condition) || result.timed_out;
  const bool writable = c.condition != TapeCondition::no_medium &&
                        c.condition != TapeCondition::write_protected &&
                        c.condition != TapeCondition::data_protect;
  // LOGICAL BLOCK GUARD CHECK FAILED (SSC-5; some drives say HARDWARE ERROR, 10/xx): the
  // block changed between the CRC and the drive, and the drive kept none of the WRITE.
  const bool guard = _protected && c.sense && c.sense->asc == 0x10;
  stop(ending_for(c, result.timed_out),
       result.timed_out ? std::string{"WRITE timed out: the drive did not answer"}
       : guard ? "block " + std::to_string(_blocks_sent - blocks_in(block)) +
                     " of the stream failed its CRC32C check at the drive (" +
                     describe_condition(c) + "); it was not written"
               : "WRITE failed: " + describe_condition(c),
       {writable && !result.timed_out, moved});
}

void WriteStream::stop(Ending ending, std::string message, StopHow how) {
  if (_outcome.ending == Ending::complete) {
    _outcome.ending = ending;
    _outcome.message = std::move(message);
  }
  _stop_how.filemark = _stop_how.filemark && how.filemark;
  _stop_how.relocate = _stop_how.relocate || how.relocate;
  _producer_done = true;
  // Data still buffered here never reaches the tape; the count below says what did.
  if (_filling) {
    keep(_filling->buffer);
    _filling.reset();
  }
  while (!_full.empty()) {
    keep(_full.front().buffer);
    _full.pop_front();
  }
  _phase = Phase::draining;
  // A producer parked on writable() must hear that the stream took its last byte: it may be
  // blocked on a full pool and would otherwise never read on (regression: a client stuck in
  // splice() after early warning, and a daemon that then ignored SIGTERM).
  if (_on_space) {
    _on_space();
  }
  if (!_in_flight && !_polling) {
    close();
  }
}

void WriteStream::close() {
  if (_outcome.ending != Ending::complete) {
    recount();
    return;
  }
  _phase = Phase::closing;
  // Immed=0: returns when buffered data and the filemark are on the medium.
  const auto command = scsi::cdb::write_filemarks6(scsi::Count24::from(1).value(), false);
  _channel.send(command, {}, [this, command](const auto& r) {
    const auto c = scsi::classify(command, r.status());
    if (c.condition == TapeCondition::good || c.condition == TapeCondition::early_warning) {
      _outcome.filemark_written = true;
      _outcome.early_warning = _outcome.early_warning || c.condition == TapeCondition::early_warning;
      count();
      return;
    }
    // A part whose filemark failed is not committed: its queued blocks go nowhere, and the
    // stream ends with this part's count.
    drop_carried_blocks();
    _outcome.ending = ending_for(c, r.timed_out);
    _outcome.message = r.timed_out ? std::string{"WRITE FILEMARKS timed out: the drive did not answer"}
                                   : "WRITE FILEMARKS failed: " + describe_condition(c);
    _stop_how.relocate = is_unit_attention(c.condition) || r.timed_out;
    _stop_how.filemark = !r.timed_out && c.condition != TapeCondition::no_medium &&
                         c.condition != TapeCondition::write_protected;
    recount();
  });
}

// A stream that did not commit: how many of its blocks are on the medium, then a filemark
// after them if there are any and the drive may take one.
void WriteStream::recount() {
  _phase = Phase::counting;
  auto counted = [this](std::optional<std::uint64_t> object) {
    if (!object) {
      settle(std::nullopt);
      return;
    }
    close_counted(*object);
  };
  if (!_stop_how.relocate) {
    read_position(counted);
    return;
  }
  const auto to_end = *_options.positioning.space(scsi::cdb::SpaceCode::end_of_data, 0);
  _channel.send(to_end, {}, [this, to_end, counted](const auto& r) {
    if (scsi::classify(to_end, r.status()).condition != TapeCondition::good) {
      settle(std::nullopt);
      return;
    }
    read_position(counted);
  }, CommandChannel::Resend::after_unit_attention);
}

void WriteStream::close_counted(std::uint64_t objects) {
  if (objects <= _start_object || !_stop_how.filemark) {
    settle(objects);  // nothing of the stream on the tape: no filemark, no empty file
    return;
  }
  _counted_before_filemark = objects;
  _phase = Phase::closing;
  const auto command = scsi::cdb::write_filemarks6(scsi::Count24::from(1).value(), false);
  _channel.send(command, {}, [this, command, objects](const auto& r) {
    const auto c = scsi::classify(command, r.status());
    if (c.condition == TapeCondition::good || c.condition == TapeCondition::early_warning) {
      _outcome.filemark_written = true;
      count();
      return;
    }
    settle(objects);  // unclosed: the next append closes it (StreamStart)
  });
}

// READ POSITION after the filemark: the drive has flushed, so the logical object number says
// exactly how many of this stream's blocks are on the medium.
void WriteStream::count() {
  _phase = Phase::counting;
  _attentions_at_count = _channel.attentions();
  read_position([this](std::optional<std::uint64_t> object) { settle(object); });
}

void WriteStream::settle(std::optional<std::uint64_t> objects_on_medium) {
  const bool reset_since_filemark =
      _attentions_at_count && _channel.attentions() > *_attentions_at_count;
  if (_outcome.filemark_written && _counted_before_filemark &&
      (!objects_on_medium || reset_since_filemark)) {
    // A failed stream counted its blocks on the medium before the filemark that closed them,
    // and that filemark's GOOD (Immed=0) kept them: the count stands when the position after
    // it is not to be had, or a reset (met by the READ POSITION, which was sent again) moved
    // the tape since. Counting the blocks the drive accepted instead would count a buffered
    // block a reset lost.
    objects_on_medium = *_counted_before_filemark + 1;
  } else if (objects_on_medium && _outcome.filemark_written && reset_since_filemark &&
             *objects_on_medium <= _start_object) {
    // A committed stream whose tape a reset rewound after its filemark: the position says
    // nothing of it; the filemark's GOOD put every block the drive accepted on the medium.
    objects_on_medium = _start_object + _blocks_accepted + 1;
  }
  std::uint64_t blocks = _blocks_accepted;
  if (objects_on_medium) {
    // A position before the stream's own filemark with no reset met is the drive's error: no
    // block of the stream is counted there (never a count wrapped below 0).
    const auto filemarks = std::uint64_t{_outcome.filemark_written ? 1U : 0U};
    const auto end = *objects_on_medium >= filemarks ? *objects_on_medium - filemarks : 0;
    blocks = end >= _start_object ? end - _start_object : 0;
    blocks = std::min(blocks, _blocks_sent);
    if (_counted_before_filemark && *_counted_before_filemark >= _start_object) {
      // No more than the failed stream counted before its closing filemark: a drive that
      // answers a larger position afterwards does not make the refused block count.
      blocks = std::min(blocks, *_counted_before_filemark - _start_object);
    }
  } else if (_outcome.ending == Ending::complete) {
    _outcome.ending = Ending::drive_error;
    _outcome.message = "cannot read the position after the stream; counted the blocks the drive "
                       "accepted";
  }
  _outcome.blocks = blocks;
  _outcome.bytes = bytes_in_blocks(blocks);
  if (_handing_over) {
    settle_part(objects_on_medium.has_value());
  } else if (_outcome.ending == Ending::complete && _outcome.bytes != _bytes_received - _bytes_before) {
    _outcome.ending = Ending::drive_error;
    _outcome.message = "the drive holds " + std::to_string(_outcome.bytes) + " of " +
                       std::to_string(_bytes_received - _bytes_before) +
                       " bytes after WRITE FILEMARKS";
  }
  if (_outcome.ending == Ending::complete && _options.digest) {  // padding of a fixed block is not in it
    _outcome.sha256 = _sha256.finish();
  }
  if (_options.fixed && _outcome.ending != Ending::complete) {
    // What reading the file back returns: whole blocks, the padding of the last one included.
    _outcome.bytes = blocks * _options.block_size;
  }
  if (!_options.fixed) {
    _phase = Phase::done;
    _done(_outcome);
    return;
  }
  // Back to variable blocks, which the next stream sets again anyway; a failure is said.
  set_block_length(0, [this](bool set) {
    if (!set) {
      _outcome.mode_not_restored = true;
    }
    _phase = Phase::done;
    _done(_outcome);
  });
}


std::uint64_t WriteStream::bytes_in_blocks(std::uint64_t blocks) const {
  if (_options.fixed) {  // every block is whole; the last one's padding is not the stream's
    return std::min(blocks * _options.block_size, _bytes_received - _bytes_before);
  }
  const auto full = std::min(blocks, _full_blocks_sent);
  return full * _options.block_size + (blocks > _full_blocks_sent ? _short_block.value_or(0) : 0);
}

}  // namespace tapestream::drive
