// One file read from a drive for a client: positioned with LOCATE to the file, READ(6) with
// SILI into the stream's registered buffers ahead of the consumer, blocks handed over in order,
// ended by the filemark. BLANK CHECK is end of data; a failure ends the stream with the count
// of bytes the consumer was given, which is all it will ever get of this attempt.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "base/sha256.hpp"
#include "drive/block_protection.hpp"
#include "drive/positioning.hpp"
#include "drive/stream_outcome.hpp"
#include "drive/write_stream.hpp"

namespace tapestream::drive {

// As the file to read: the file where the tape stands, from there.
inline constexpr std::uint64_t file_where_the_tape_stands = ~std::uint64_t{0};

class ReadStream {
 public:
  using Ready = std::function<void()>;
  using Done = std::function<void(const StreamOutcome&)>;

  // Each READ asks for a whole buffer: a block longer than the pool's buffer size cannot be
  // read whole, and ends the stream as a drive error rather than cut data. With protection on
  // (confirmed at start), the drive returns each block with its CRC32C, which is checked and
  // taken off before next() shows the block: a mismatch ends the stream as a medium error,
  // the consumer having had exactly the blocks before it.
  ReadStream(transport::ScsiTransport& drive, uring::BufferPool& pool,
             const scsi::TimeoutTable& timeouts, std::vector<std::uint16_t> buffers,
             PositioningCommands positioning, Done done,
             Protection protection = Protection::automatic, std::uint32_t largest_block = 0);
  ReadStream(const ReadStream&) = delete;
  ReadStream& operator=(const ReadStream&) = delete;

  // Positions at the start of `file` (file_where_the_tape_stands: read from where the tape is).
  void start(std::uint64_t file, Ready ready);

  // The oldest block read and not yet consumed.
  std::optional<std::span<const std::uint8_t>> next() const;
  // The buffer next()'s block lies in.
  std::optional<std::uint16_t> next_buffer() const {
    return _ready.empty() ? std::nullopt : std::optional<std::uint16_t>{_ready.front().buffer};
  }
  // The consumer is done with the block next() gave.
  void consumed();
  // Shared buffers: the block next() gave is handed to the consumer in its buffer (a slot of its
  // memfd), hashed and counted now, as given; the buffer comes back by give_back().
  void hand_over();
  void give_back(std::uint16_t buffer);
  void on_data(std::function<void()> callback) { _on_data = std::move(callback); }
  // The consumer is gone: stop reading.
  void abandon();
  // Ends the stream for the reason given (a consumer that went away or stalled, the daemon
  // stopping); the outcome counts what the consumer was given.
  void cut(Ending ending, std::string message);
  // For the client's progress display.
  StreamProgress progress() const;
  // Every block arrives with its CRC32C, which is checked (known once the stream is ready).
  bool protected_blocks() const { return _protected; }

 private:
  struct Block {
    std::uint16_t buffer;
    std::uint32_t length;
  };

  void send(const scsi::Command& command, transport::DataBuffer data, CommandChannel::Then then,
            CommandChannel::Resend resend = CommandChannel::Resend::never);
  void confirm(std::function<void()> then);
  void begin(const Ready& ready);
  void set_variable_blocks(std::uint64_t file, Ready ready);
  void position(std::uint64_t file, const Ready& ready);
  void located(const transport::ScsiResult& result, const scsi::Command& command,
               const Ready& ready);
  void pump();
  void arrived(std::uint16_t buffer, const transport::ScsiResult& result);
  // The block's length once its CRC is checked and taken off (as it came when unprotected);
  // nothing when the check fails, which has ended the stream.
  std::optional<std::uint32_t> unwrap(std::uint16_t buffer, std::uint32_t length);
  void end(Ending ending, std::string message);
  void maybe_done();

  CommandChannel _channel;
  uring::BufferPool& _pool;
  PositioningCommands _positioning;
  Protection _protection;
  bool _protected = false;  // blocks arrive with their CRC32C (confirmed at start)
  // What each READ asks for: a buffer (at most the configured block limit, and its CRC).
  std::uint32_t _data_read_length;
  std::uint32_t _read_length;
  static constexpr int max_reconfirmations = 2;
  int _reconfirmations = 0;  // resets met while the stream was setting the drive up
  Done _done;
  std::function<void()> _on_data;

  std::deque<std::uint16_t> _free;
  std::deque<Block> _ready;
  bool _commanding = false;  // a command (positioning or READ) is in flight
  bool _ended = false;       // filemark, end of data or a failure: no more READs
  bool _reported = false;
  std::uint64_t _blocks_read = 0;
  std::uint64_t _bytes_read = 0;
  std::uint32_t _buffer_count;
  base::Sha256 _sha256;    // of what the consumer was given, in order (consumed())
  StreamOutcome _outcome;  // bytes and blocks: what the consumer was given
};

}  // namespace tapestream::drive
