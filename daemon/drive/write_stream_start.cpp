// How a write stream starts: Logical Block Protection confirmed with the drive, the block mode
// set, the tape positioned (StreamStart), and the position the stream's blocks are counted from.
#include <algorithm>

#include "drive/write_stream.hpp"
#include "scsi/cdb.hpp"
#include "scsi/density.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/position.hpp"

namespace tapestream::drive {

using scsi::TapeCondition;

// Protection first: the block length a fixed-block stream sets counts the CRC when it is on,
// and the page is confirmed before StreamStart, whose check for a unit attention then covers
// everything up to the first WRITE (a reset returns the drive to its defaults: a block sent
// with a CRC the drive no longer expects would be stored with 4 bytes too many).
void WriteStream::start(Ready ready) {
  _ready = std::move(ready);
  confirm();
}

void WriteStream::confirm() {
  (void)_channel.take_unit_attention();
  confirm_protection(_channel, {_scratch, _pool.buffer(_scratch)}, _options.protection,
                     [this](const ProtectionOutcome& o) { protection_confirmed(o); });
}

void WriteStream::protection_confirmed(const ProtectionOutcome& o) {
  // A reset that the confirmation's own commands met came before the answers it acted on.
  (void)_channel.take_unit_attention();
  _attentions_at_confirmation = _channel.attentions();
  _outcome.protection_offered = o.offered;
  if (o.refusal) {
    fail_to_start(o.condition.condition == TapeCondition::good ? Ending::drive_error
                                                               : ending_for(o.condition, false),
                  *o.refusal);
    return;
  }
  _protected = o.on;
  _outcome.protected_blocks = o.on;
  if (_protected) {
    const auto transfer = std::uint64_t{_options.block_size} + protection_bytes;
    if (transfer > _pool.buffer_size() || transfer > scsi::Count24::max) {
      fail_to_start(Ending::drive_error,
                    "a block of " + std::to_string(_options.block_size) +
                        " bytes and its 4-byte CRC32C do not fit the daemon's buffers (" +
                        std::to_string(_pool.buffer_size()) + " bytes) or a WRITE(6)");
      return;
    }
  }
  // One block and its CRC per WRITE in fixed mode (block_protection.hpp says why).
  _fill_size = _protected && _options.fixed ? _options.block_size : _unprotected_fill_size;
  if (!seal_carried_blocks()) {
    return;
  }
  set_block_mode();
}

// Every stream sets the block mode it writes in: whatever an earlier stream or a client's
// setblk left must not decide how this one is written (or make it fail).
void WriteStream::set_block_mode() {
  const auto length = _options.fixed ? _options.block_size + (_protected ? protection_bytes : 0) : 0;
  set_block_length(length, [this](bool set) {
    if (!set) {
      fail_to_start(Ending::drive_error,
                    _options.fixed ? "the drive did not take fixed blocks of " +
                                         std::to_string(_options.block_size) + " bytes (MODE SELECT)"
                                   : std::string{"the drive did not take variable blocks (MODE SELECT)"});
      return;
    }
    learn_min_rate([this] { position_for_writing(); });
  });
}

void WriteStream::position_for_writing() {
  if (reconfirm_after_reset()) {
    return;
  }
  auto started = [this](const StartOutcome& o) {
    if (o.ending != Ending::complete) {
      fail_to_start(o.ending, o.message);
      return;
    }
    _outcome.closed_unfinished_file = o.closed_unfinished_file;
    _counted_file = o.file_number;
    position_to_start();
  };
  if (_options.append) {
    _start.append(started);
  } else {
    // A reset this stream met (absorbed by a command sent again, or taken with the
    // protection's confirmation) rewound the tape: the place the drive vouched for when the
    // stream was made is no longer where it stands, and a write there would begin at the
    // beginning of the tape.
    _start.here(_options.position_trusted && _channel.attentions() == 0, started);
  }
}

// The drive reports the loaded medium's density in the block descriptor once a MODE SELECT
// has set the block mode (density code 0: "the medium's"). Whatever it answers, short of not
// answering at all, the stream goes on: the pace only delays WRITEs, so not knowing the speed
// costs pacing, nothing else. Only the bytes the drive sent are parsed (the residue says how
// many did not come), never what an earlier command left in the buffer.
void WriteStream::learn_min_rate(std::function<void()> then) {
  if (!_options.min_rate_of_medium || _options.min_rate > 0) {
    then();
    return;
  }
  const auto room = static_cast<std::uint8_t>(std::min<std::size_t>(64, _pool.buffer(_scratch).size()));
  const auto command = scsi::cdb::mode_sense6(scsi::DataCompressionPage::code, 0,
                                              scsi::cdb::PageControl::current, false, room);
  _channel.send(command, {_scratch, _pool.buffer(_scratch).first(room)},
                [this, command, room, then = std::move(then)](const auto& r) {
    if (r.timed_out) {  // the drive is not answering: as a MODE SELECT that fails, no stream
      fail_to_start(Ending::timeout, "MODE SENSE timed out while the stream was starting; "
                                     "nothing was written");
      return;
    }
    std::optional<std::uint64_t> speed;
    const auto status = r.status();
    if (scsi::classify(command, status).condition == TapeCondition::good && status.residue < room) {
      const auto parsed =
          scsi::parse_mode_sense6(_pool.buffer(_scratch).first(room - status.residue));
      if (parsed && !parsed.value().block_descriptors.empty()) {
        speed = scsi::lowest_streaming_speed(parsed.value().block_descriptors.front().density_code);
      }
    }
    _options.min_rate = speed.value_or(0);
    _pacer.reset();
    start_pacing();
    then();
  }, CommandChannel::Resend::after_unit_attention);
}

// A reset since the page was confirmed (met and absorbed by a command sent again, here or in
// StreamStart, which restarts its positioning after one) returned the drive to its defaults,
// Logical Block Protection off: the start is run again from the confirmation, or blocks would
// go out with a CRC the drive stores as 4 bytes of data. True when it was.
bool WriteStream::reconfirm_after_reset() {
  if (_channel.attentions() == _attentions_at_confirmation) {
    return false;
  }
  if (++_reconfirmations > max_reconfirmations) {
    fail_to_start(Ending::medium_changed,
                  "the drive was reset again and again while the stream was starting; nothing "
                  "was written");
    return true;
  }
  confirm();
  return true;
}

void WriteStream::fail_to_start(Ending ending, std::string message) {
  _phase = Phase::done;
  _outcome.ending = ending;
  _outcome.message = std::move(message);
  _done(_outcome);
}

void WriteStream::set_block_length(std::uint32_t length, std::function<void(bool)> then) {
  auto parameters = scsi::mode_select6_parameters(scsi::BlockDescriptor{0, 0, length}, {});
  if (!parameters) {
    then(false);
    return;
  }
  const auto& list = parameters.value();
  auto scratch = _pool.buffer(_scratch).first(list.size());
  std::copy(list.begin(), list.end(), scratch.begin());
  const auto command = scsi::cdb::mode_select6(static_cast<std::uint8_t>(list.size()));
  _channel.send(command, {_scratch, scratch}, [command, then = std::move(then)](const auto& r) {
    then(scsi::classify(command, r.status()).condition == TapeCondition::good);
  }, CommandChannel::Resend::after_unit_attention);
}

void WriteStream::read_position(std::function<void(std::optional<std::uint64_t>)> then) {
  const auto form = _options.positioning.position_form();
  const auto command = scsi::cdb::read_position(form);
  _channel.send(command, {_scratch, _pool.buffer(_scratch).first(32)},
                [this, command, form, then = std::move(then)](const auto& r) {
    const auto c = scsi::classify(command, r.status());
    auto p = scsi::parse_read_position(form, _pool.buffer(_scratch).first(32));
    if (c.condition != TapeCondition::good || !p || !p.value().first_logical_object) {
      then(std::nullopt);
      return;
    }
    if (!_counted_file) {
      _position_file = p.value().logical_file;
    }
    then(*p.value().first_logical_object);
  }, CommandChannel::Resend::after_unit_attention);
}

void WriteStream::position_to_start() {
  read_position([this](std::optional<std::uint64_t> object) {
    if (!object) {
      fail_to_start(Ending::drive_error, "cannot read the position to start at");
      return;
    }
    if (_channel.take_unit_attention()) {  // the tape may no longer stand where it was put
      fail_to_start(Ending::medium_changed,
                    "the drive was reset while the stream was starting; nothing was written");
      return;
    }
    if (reconfirm_after_reset()) {
      return;
    }
    _start_object = *object;
    _outcome.file_number = _counted_file.value_or(_position_file.value_or(0));
    _phase = Phase::streaming;
    if (_producer_done) {  // abandoned while positioning: nothing was written
      stop(Ending::client_gone, "the client went away before its stream started", {});
      return;
    }
    // A next part: the blocks the last volume did not take go first, without a watermark.
    const bool carried = !_full.empty();
    if (_finished_before_start) {
      _producer_done = true;
      _phase = Phase::draining;
    }
    _writing = _writing || carried || _finished_before_start;
    _ready(_outcome.file_number);
    if (carried || _finished_before_start) {
      pump();
    }
  });
}

}  // namespace tapestream::drive
