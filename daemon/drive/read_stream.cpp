#include "drive/read_stream.hpp"

#include <algorithm>

#include "scsi/cdb.hpp"
#include "scsi/mode_pages.hpp"

namespace tapestream::drive {
namespace {

using scsi::TapeCondition;

}  // namespace

ReadStream::ReadStream(transport::ScsiTransport& drive, uring::BufferPool& pool,
                       const scsi::TimeoutTable& timeouts, std::vector<std::uint16_t> buffers,
                       PositioningCommands positioning, Done done, Protection protection,
                       std::uint32_t largest_block)
    : _channel{drive, timeouts},
      _pool{pool},
      _positioning{positioning},
      _protection{protection},
      _data_read_length{static_cast<std::uint32_t>(std::min<std::size_t>(
          {pool.buffer_size(), scsi::Count24::max,
           largest_block == 0 ? pool.buffer_size() : std::size_t{largest_block}}))},
      _read_length{_data_read_length},
      _done{std::move(done)},
      _free(buffers.begin(), buffers.end()),
      _buffer_count{static_cast<std::uint32_t>(buffers.size())} {}

// Protection is confirmed first (a reset since the last stream returned the drive to its
// defaults): whether the blocks that arrive carry a CRC must be known before the first READ.
void ReadStream::start(std::uint64_t file, Ready ready) {
  _outcome.file_number = file;
  confirm([this, file, ready = std::move(ready)] { set_variable_blocks(file, ready); });
}

void ReadStream::confirm(std::function<void()> then) {
  _commanding = true;
  const auto scratch = _free.front();
  confirm_protection(_channel, {scratch, _pool.buffer(scratch)}, _protection,
                     [this, then = std::move(then)](const ProtectionOutcome& o) {
    _commanding = false;
    // A reset that the confirmation's own commands met came before the answers it acted on.
    (void)_channel.take_unit_attention();
    _outcome.protection_offered = o.offered;
    if (_ended) {
      maybe_done();
      return;
    }
    if (o.refusal) {
      end(o.condition.condition == TapeCondition::good ? Ending::drive_error
                                                       : ending_for(o.condition, false),
          *o.refusal);
      return;
    }
    _protected = o.on;
    _outcome.protected_blocks = o.on;
    _read_length = static_cast<std::uint32_t>(std::min<std::size_t>(
        {_pool.buffer_size(), scsi::Count24::max,
         std::size_t{_data_read_length} + (_protected ? protection_bytes : 0)}));
    then();
  });
}

// A reset that positioning met (and absorbed by sending a command again) returned the drive to
// its defaults, protection off: confirmed again before the first READ, or every block would
// fail its check.
void ReadStream::begin(const Ready& ready) {
  if (_channel.take_unit_attention()) {
    if (++_reconfirmations > max_reconfirmations) {
      end(Ending::medium_changed, "the drive was reset again and again while the read was starting");
      return;
    }
    confirm([this, ready] { begin(ready); });
    return;
  }
  ready();
  pump();
}

// Reads are in variable-block mode (READ with SILI returns each block whole, however it was
// written): whatever mode an earlier stream or a client's setblk left is set back first.
void ReadStream::set_variable_blocks(std::uint64_t file, Ready ready) {
  auto parameters = scsi::mode_select6_parameters(scsi::BlockDescriptor{0, 0, 0}, {});
  const auto scratch = _free.front();
  const auto& list = parameters.value();
  std::copy(list.begin(), list.end(), _pool.buffer(scratch).begin());
  const auto command = scsi::cdb::mode_select6(static_cast<std::uint8_t>(list.size()));
  send(command, {scratch, _pool.buffer(scratch).first(list.size())},
       [this, command, file, ready = std::move(ready)](const auto& r) {
    const auto c = scsi::classify(command, r.status());
    if (c.condition != TapeCondition::good) {
      end(ending_for(c, r.timed_out),
          "the drive did not take variable blocks (MODE SELECT): " +
              std::string{scsi::condition_name(c.condition)});
      return;
    }
    position(file, ready);
  }, CommandChannel::Resend::after_unit_attention);
}

void ReadStream::position(std::uint64_t file, const Ready& ready) {
  if (file == file_where_the_tape_stands) {
    begin(ready);
    return;
  }
  if (_positioning.sixteen_byte) {
    const auto command =
        scsi::cdb::locate16(scsi::cdb::LocateDestination::logical_file, file, {}, false);
    send(command, {}, [this, command, ready](const auto& r) {
      located(r, command, ready);
    }, CommandChannel::Resend::after_unit_attention);
    return;
  }
  // Without LOCATE(16): from the beginning, over `file` filemarks.
  const auto rewind = scsi::cdb::rewind(false);
  send(rewind, {}, [this, rewind, file, ready](const auto& r) {
    const auto space = _positioning.space(scsi::cdb::SpaceCode::filemarks,
                                          static_cast<std::int64_t>(std::min<std::uint64_t>(
                                              file, scsi::SignedCount24::max)));
    if (file == 0 || scsi::classify(rewind, r.status()).condition != TapeCondition::good) {
      located(r, rewind, ready);
      return;
    }
    send(*space, {}, [this, command = *space, ready](const auto& spaced) {
      located(spaced, command, ready);
    });
  }, CommandChannel::Resend::after_unit_attention);
}

void ReadStream::located(const transport::ScsiResult& r, const scsi::Command& command,
                         const Ready& ready) {
  {
    const auto c = scsi::classify(command, r.status());
    if (c.condition == TapeCondition::end_of_data) {
      end(Ending::end_of_data,
          "there is no file " + std::to_string(_outcome.file_number) + ": the tape ends first");
      return;
    }
    if (c.condition != TapeCondition::good) {
      end(ending_for(c, r.timed_out),
          "positioning to file " + std::to_string(_outcome.file_number) + " failed (" +
              std::string{scsi::command_name(command)} + "): " +
              std::string{scsi::condition_name(c.condition)});
      return;
    }
  }
  begin(ready);
}

// Every command goes through here, so that the stream knows one is in flight: a stream cut
// while it positions reports its end only once that command is back (its channel must outlive
// it), and then goes no further.
void ReadStream::send(const scsi::Command& command, transport::DataBuffer data,
                      CommandChannel::Then then, CommandChannel::Resend resend) {
  _commanding = true;
  _channel.send(command, data, [this, then = std::move(then)](const transport::ScsiResult& r) {
    _commanding = false;
    if (_ended) {
      maybe_done();
      return;
    }
    then(r);
  }, resend);
}

void ReadStream::pump() {
  if (_commanding || _ended || _free.empty()) {
    return;
  }
  const auto buffer = _free.front();
  _free.pop_front();
  const auto length = _read_length;
  const auto command = scsi::cdb::read6_variable(scsi::Count24::from(length).value(), true);
  _commanding = true;
  _channel.send(command, {buffer, _pool.buffer(buffer).first(length)},
       [this, buffer](const auto& r) { arrived(buffer, r); });
}

void ReadStream::arrived(std::uint16_t buffer, const transport::ScsiResult& result) {
  _commanding = false;
  const auto length = _read_length;
  const auto command = scsi::cdb::read6_variable(scsi::Count24::from(length).value(), true);
  const auto c = scsi::classify(command, result.status());
  if (_ended) {  // abandoned while this READ was in flight
    _free.push_back(buffer);
    maybe_done();
    return;
  }
  switch (c.condition) {
    case TapeCondition::good:
    case TapeCondition::short_block: {
      const auto arrived_length = static_cast<std::uint32_t>(
          c.block_length.value_or(length - std::min(result.residue, length)));
      const auto got = unwrap(buffer, arrived_length);
      if (!got) {
        return;
      }
      _ready.push_back({buffer, *got});
      ++_blocks_read;
      _bytes_read += *got;
      if (_on_data) {
        _on_data();
      }
      pump();
      return;
    }
    case TapeCondition::filemark:
      _free.push_back(buffer);
      end(Ending::complete, {});
      return;
    case TapeCondition::end_of_data:
      _free.push_back(buffer);
      // A file that a crash left without its filemark ends at end of data; nothing is missing.
      end(_blocks_read == 0 && _outcome.file_number != file_where_the_tape_stands
              ? Ending::end_of_data
              : Ending::complete,
          _blocks_read == 0 ? "the file is empty and ends at end of data" : "");
      return;
    case TapeCondition::long_block:
      _free.push_back(buffer);
      end(Ending::drive_error,
          "a block of " + std::to_string(c.block_length.value_or(0)) +
              " bytes is longer than the read buffers (" + std::to_string(length) +
              " bytes); configure larger buffers to read this tape");
      return;
    default:
      _free.push_back(buffer);
      end(ending_for(c, result.timed_out),
          "READ failed: " + std::string{scsi::condition_name(c.condition)});
      return;
  }
}

// The check runs on the READ's completion, before the next READ goes out: a block is shown to
// nobody before its CRC matched, and the stream stops at the first that does not.
std::optional<std::uint32_t> ReadStream::unwrap(std::uint16_t buffer, std::uint32_t length) {
  if (!_protected) {
    return length;
  }
  const auto block = _pool.buffer(buffer).first(std::min<std::size_t>(length, _pool.buffer_size()));
  if (auto data = checked_block_length(block)) {
    return data;
  }
  _free.push_back(buffer);
  const auto where = _outcome.file_number == file_where_the_tape_stands
                         ? std::string{"the file"}
                         : "file " + std::to_string(_outcome.file_number);
  end(Ending::medium_error,
      "block " + std::to_string(_blocks_read) + " of " + where +
          (length < protection_bytes ? " is shorter than its CRC32C"
                                     : " failed its CRC32C check") +
          "; the data before it was delivered, nothing after it");
  return std::nullopt;
}

std::optional<std::span<const std::uint8_t>> ReadStream::next() const {
  if (_ready.empty()) {
    return std::nullopt;
  }
  const auto& b = _ready.front();
  return std::span<const std::uint8_t>{_pool.buffer(b.buffer).first(b.length)};
}

// The SHA-256 is taken of each block as the consumer is done with it: what it was given, in
// order, whole blocks (a fixed-mode file's padding is what the client gets). The send or write
// that gave it has just read the block, so it is still in the cache. The hash runs before the
// buffer may take the next READ; that READ waits for it only when the consumer is the slower
// side (otherwise a READ is already in flight into another buffer, and pump() sends nothing).
void ReadStream::consumed() {
  if (_ready.empty()) {
    return;
  }
  _sha256.update(_pool.buffer(_ready.front().buffer).first(_ready.front().length));
  _outcome.bytes += _ready.front().length;
  ++_outcome.blocks;
  _free.push_back(_ready.front().buffer);
  _ready.pop_front();
  pump();
  maybe_done();
}

void ReadStream::hand_over() {
  if (_ready.empty()) {
    return;
  }
  _sha256.update(_pool.buffer(_ready.front().buffer).first(_ready.front().length));
  _outcome.bytes += _ready.front().length;
  ++_outcome.blocks;
  _ready.pop_front();
  maybe_done();
}

void ReadStream::give_back(std::uint16_t buffer) {
  _free.push_back(buffer);
  pump();
  maybe_done();
}

StreamProgress ReadStream::progress() const {
  return {_outcome.bytes, _bytes_read, static_cast<std::uint32_t>(_ready.size()), _buffer_count, {}, {}, {}, {}};
}

void ReadStream::abandon() {
  cut(Ending::client_gone, "the client went away before the end of the file");
}

void ReadStream::cut(Ending ending, std::string message) {
  if (_reported) {
    return;
  }
  while (!_ready.empty()) {
    _free.push_back(_ready.front().buffer);
    _ready.pop_front();
  }
  if (!_ended || _outcome.ending == Ending::complete) {
    end(ending, std::move(message));
  } else {
    maybe_done();
  }
}

void ReadStream::end(Ending ending, std::string message) {
  _ended = true;
  _outcome.ending = ending;
  _outcome.message = std::move(message);
  maybe_done();
}

// Reported once no READ is in flight and the consumer has taken every block read before the end.
void ReadStream::maybe_done() {
  if (!_ended || _reported || _commanding || !_ready.empty()) {
    return;
  }
  _reported = true;
  if (_outcome.ending == Ending::complete) {
    _outcome.sha256 = _sha256.finish();
  }
  _done(_outcome);
}

}  // namespace tapestream::drive
