// One client stream written to a drive: the producer fills registered buffers, full buffers
// go to the drive as WRITE(6) blocks one at a time (after a start watermark, so that the drive
// gets long runs), and the stream ends committed only when WRITE FILEMARKS with Immed=0 has
// put everything on the medium. Every other ending (early warning, end of medium, a medium or
// drive error, a timeout, a reset, a client that is gone or cut off) stops the stream, counts
// exactly how many blocks of it are on the medium from READ POSITION (at end of data, where a
// reset may have moved the tape from), closes them with a filemark where the drive still allows
// it — and only if there are any: a stream that put nothing on the tape makes no file — and
// reports that count, which is what reading the file back returns.
//
// A spanning stream (Options::span) is written in parts, one per volume: at early warning the
// part ends with its filemark (Immed=0) and its exact count, and the blocks not on the medium
// yet stay in their buffers, in order, for the next part's stream (take_carryover()), which
// writes them first on the next volume and goes on taking the producer's data.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.hpp"
#include "drive/block_protection.hpp"
#include "drive/command_channel.hpp"
#include "drive/feed_pacer.hpp"
#include "drive/positioning.hpp"
#include "drive/stream_outcome.hpp"
#include "drive/stream_start.hpp"
#include "drive/tape_alert_watch.hpp"
#include "scsi/cdb.hpp"
#include "scsi/condition.hpp"
#include "scsi/timeouts.hpp"
#include "transport/transport.hpp"
#include "uring/buffer_pool.hpp"

namespace tapestream::drive {

class WriteStream {
 public:
  struct Options {
    std::uint32_t block_size = 256 * 1024;  // at most the pool's buffer size
    std::size_t start_watermark = 0;        // full buffers before the first WRITE; 0: half
    // When the pool runs dry mid-stream (a WRITE completes and no full buffer waits), the next
    // WRITE waits until this many buffers are full again, or the producer ended, so that the
    // drive gets a long run rather than a trickle that empties its own buffer again at once
    // (mbuffer's -P). 0: the start watermark; 1: write whatever arrives (no restart mark).
    std::size_t restart_watermark = 0;
    // The same marks as percentages of the stream's buffers, used when the counts above are 0
    // (1 to 100; 0: not set).
    unsigned start_percent = 0;
    unsigned restart_percent = 0;
    // The commands the drive takes; without READ POSITION's long form files are counted.
    PositioningCommands positioning;
    // At end of data after the last file (otherwise where the tape stands, which must be a
    // file boundary, and which is refused when the drive was reset since it was positioned).
    bool append = true;
    bool position_trusted = true;
    // The stream's length when the client knows it (0: unknown): a stream that ends shorter or
    // runs longer is not committed.
    std::uint64_t expected_length = 0;
    // Fixed-block mode: the drive is set to block_size for the stream (and back to variable
    // blocks after it), each WRITE carries as many blocks as a buffer holds, and the last block
    // is padded with zeros. With protection on, each WRITE carries one block and its CRC, and
    // the drive's block length counts the CRC (block_protection.hpp).
    bool fixed = false;
    // Logical Block Protection: confirmed with the drive before the first WRITE; when on,
    // every block goes out with the CRC32C of its data after it (block_size + 4 bytes, which
    // must fit a buffer and a WRITE(6)).
    Protection protection = Protection::automatic;
    // TapeAlert polls between WRITEs (tape_alert_watch.hpp), and who hears the flags read.
    std::chrono::seconds tape_alert_interval{30};
    TapeAlertWatch::Seen tape_alerts_seen = [](const scsi::TapeAlerts&) {};
    // Shared buffers: the data comes in these registered buffers (a client's slots, filled in
    // place) by submit(), never by writable(); the stream's own `buffers` then serve only its
    // commands (READ POSITION, TapeAlert), so that nothing the daemon reads back from the
    // drive lies where the client can change it. Each WRITE carries one slot.
    std::vector<std::uint16_t> shared_buffers;
    // Early warning with data still to write ends a committed part (outcome.continues) instead
    // of the stream; the rest goes on with take_carryover().
    bool span = false;
    // The buffer of the stream's own commands (READ POSITION, MODE SELECT, MODE SENSE): one the
    // drive keeps for them, which no producer receives into and no control command uses.
    // Without it (test rigs, a pool of one stream buffer) the first of the stream's buffers
    // serves, and a receive still under way into it when the stream is cut could overwrite the
    // position read there.
    std::optional<std::uint16_t> command_buffer;
    // The client's choice (WRITE flag 128): no SHA-256 of the stream, whose outcome then has
    // none, for a producer that hashes its data itself or needs no digest.
    bool digest = true;
    // The drive may count its backhitches in log page 3Ch (the emulated drive's model): the
    // stream reads the count before its first WRITE, after every `model_poll_bytes` of blocks
    // sent, and at its end. A drive that refuses the page (ILLEGAL REQUEST) is not asked again
    // by this stream, and `model_page_answered` tells the owner whether it had the page.
    bool model_page = false;
    std::uint64_t model_poll_bytes = std::uint64_t{64} << 20;
    std::function<void(bool has_page)> model_page_answered = [](bool) {};
    // The drive's lowest streaming speed, bytes/s (0: not known): while the producer sends,
    // the drive is fed at the producer's mean rate and at least this (feed_pacer.hpp), not as
    // fast as it takes data. Its owner calls tick() at least every 100 ms.
    std::uint64_t min_rate = 0;
    // No min_rate was configured (a real drive): the stream takes the lowest speed at which the
    // drive streams the medium it holds, from the medium's density code (MODE SENSE after the
    // block mode is set; scsi::lowest_streaming_speed), and is not paced when that is not known.
    bool min_rate_of_medium = false;
  };
  // A block of the stream in a pool buffer: its data's length (the CRC, when the stream is
  // protected, follows it in the buffer).
  struct Block {
    std::uint16_t buffer;
    std::uint32_t length;
  };
  // What a part that ended at early warning hands to the next part: every buffer of the
  // stream, the blocks that are not on its medium (in order, never copied), and the stream's
  // state so far.
  struct Carryover {
    std::vector<std::uint16_t> buffers;  // all of the stream's buffers, the queued ones among them
    std::deque<Block> queued;            // full blocks for the next medium, in stream order
    std::optional<Block> filling;        // the block the producer was filling
    std::uint64_t bytes_received = 0;    // from the producer, over all parts
    std::uint64_t bytes_before = 0;      // on the media of the parts before (this one included)
    std::uint32_t parts_before = 0;      // parts committed (this one included)
    bool producer_done = false;          // finish() came: the queued blocks are the last
    bool protected_blocks = false;       // the queued blocks carry their CRC32C
    base::Sha256 sha256;                 // of every byte received, in stream order
  };
  using Ready = std::function<void(std::uint64_t file_number)>;
  using Done = std::function<void(const StreamOutcome&)>;

  // `buffers` are the pool buffers this stream may use (at least one). Nothing is sent to the
  // drive until start().
  WriteStream(transport::ScsiTransport& drive, uring::BufferPool& pool,
              const scsi::TimeoutTable& timeouts, std::vector<std::uint16_t> buffers,
              Options options, Done done);
  // The next part of a spanning stream, on the medium now in the drive: the carried blocks go
  // first, then the producer's data. The options must be those of the first part.
  WriteStream(transport::ScsiTransport& drive, uring::BufferPool& pool,
              const scsi::TimeoutTable& timeouts, Carryover carryover, Options options, Done done);
  WriteStream(const WriteStream&) = delete;
  WriteStream& operator=(const WriteStream&) = delete;

  // Reads the position the stream starts at; `ready` is called once data may flow.
  void start(Ready ready);

  // The space the producer fills next; empty while every buffer is full or on its way to the
  // drive (call again after on_space's callback), and once the stream has stopped.
  std::span<std::uint8_t> writable();
  // The pool buffer writable() points into (for reads into it with IORING_OP_READ_FIXED).
  std::uint16_t writable_buffer() const { return _filling ? _filling->buffer : 0; }
  void commit(std::size_t bytes);
  // The producer's data ended: write the rest and commit.
  void finish();
  // The producer is gone: stop, and account for what reached the medium.
  void abandon();
  // Ends the stream without committing it, for the reason given (an aborted producer, a stalled
  // client, the daemon stopping); what reached the medium is accounted for as in abandon().
  void cut(Ending ending, std::string message);
  // True once the stream takes no more data (stopped by a failure, or finished).
  bool closed() const { return _phase != Phase::streaming; }
  // A spanning stream's part is ending at early warning, or ended so (outcome.continues) and
  // its carryover not taken yet: the producer's data waits for the next part instead of being
  // refused.
  bool parting() const { return _handing_over && !_carryover_taken; }
  // Called when writable() may have room again, and when the stream stops taking data
  // (closed() then says so): a producer waiting for space must look again either way.
  void on_space(std::function<void()> callback) { _on_space = std::move(callback); }

  // Shared buffers: `buffer` (one of Options::shared_buffers, the caller's check) holds `length`
  // bytes (1 to the block size), the next of the stream; it is hashed now, from the daemon's
  // mapping, and written. Every block but the last is whole: after a short one, or past the
  // block size, the stream is cut (bad_end) and false returned. A stream that no longer takes
  // data ignores it (true): its end is on its way to the client.
  bool submit(std::uint16_t buffer, std::uint32_t length);
  // A submitted buffer's WRITE completed: the buffer is the producer's again. Not called for
  // buffers a stopped stream drops.
  void on_written(std::function<void(std::uint16_t buffer)> callback) {
    _on_written = std::move(callback);
  }

  std::uint64_t bytes_received() const { return _bytes_received; }
  // The stream waits for its producer: it has room for data and takes it.
  bool wants_data() const {
    if (shared()) {
      return _phase == Phase::streaming && !_producer_done && _shared_held < _shared_count;
    }
    return _phase == Phase::streaming && !_producer_done && (_filling || !_free.empty());
  }
  // The clock's turn: the producer's mean moves on also while it sends nothing, and a WRITE
  // that the feed's pace held back may go now.
  void tick() {
    feed_produced();
    pump();
  }
  // For the client's progress display.
  StreamProgress progress() const;
  // Times the pool ran dry mid-stream and the restart watermark held the next WRITE back.
  std::uint64_t pool_ran_dry() const { return _pool_ran_dry; }
  std::size_t start_watermark() const { return _options.start_watermark; }
  std::size_t restart_watermark() const { return _options.restart_watermark; }
  // Every block carries its CRC32C (known once the stream is ready).
  bool protected_blocks() const { return _protected; }
  // After a part ended with outcome.continues: what the next part takes over (once).
  std::optional<Carryover> take_carryover();
  // Bytes of the stream on the media of the parts before this one, and their number.
  std::uint64_t bytes_before() const { return _bytes_before; }
  std::uint32_t parts_before() const { return _parts_before; }

 private:
  using Clock = std::chrono::steady_clock;
  enum class Phase { positioning, streaming, draining, closing, counting, done };

  void pump();
  void pump_now();
  // Telemetry (write_stream_telemetry.cpp): whether the drive has a WRITE to work on; the
  // log page 3Ch poll when due, true while it runs (pump() goes on after), as watch_tape_alerts.
  void note_drive();
  void drive_busy();
  // The producer's count, for the feed's pace; and whether the pace holds the next WRITE back.
  void start_pacing();
  void feed_produced();
  bool held_for_pace();
  bool watch_drive_model(bool ending);
  // The LOG SENSE polls between WRITEs (write_stream_polls.cpp): where their data goes, and
  // whether an answer ended the stream (as it would have ended it on a WRITE).
  std::optional<std::uint16_t> take_poll_buffer();
  void give_back_poll_buffer(std::uint16_t buffer);
  bool poll_ended_stream(std::string_view what, const scsi::Classification& c, bool timed_out);
  // The block is complete: its CRC goes after its data when the stream is protected.
  void seal(const Block& block);
  std::uint32_t transfer_length(const Block& block) const;
  void confirm();
  bool reconfirm_after_reset();
  void protection_confirmed(const ProtectionOutcome& protection);
  void set_block_mode();
  bool watch_tape_alerts(bool ending);
  void fail_to_start(Ending ending, std::string message);
  void position_to_start();
  // MODE SELECT of the drive's block length (0: variable), then `then` with whether it took.
  void set_block_length(std::uint32_t length, std::function<void(bool)> then);
  void learn_min_rate(std::function<void()> then);
  void position_for_writing();
  scsi::Command write_command(const Block& block) const;
  std::uint64_t blocks_in(const Block& block) const;
  void written(const Block& block, const transport::ScsiResult& result);
  // How a stop treats the drive: whether a filemark may close the data, and whether the tape
  // may have moved (a reset, a timeout), so that the count is taken at end of data.
  struct StopHow {
    bool filemark = true;
    bool relocate = false;
  };
  void stop(Ending ending, std::string message, StopHow how);
  void close();
  void recount();
  void close_counted(std::uint64_t objects);
  void count();
  void settle(std::optional<std::uint64_t> objects_on_medium);
  void read_position(std::function<void(std::optional<std::uint64_t>)> then);
  std::uint64_t bytes_in_blocks(std::uint64_t blocks) const;
  void release(std::uint16_t buffer);
  bool shared() const { return _shared_count != 0; }
  // A pool buffer of the stream's own (not a producer's shared one): only those go to _free.
  void keep(std::uint16_t buffer);
  // Spanning (write_stream_span.cpp).
  bool end_part_at_early_warning();
  void settle_part(bool counted);
  void drop_carried_blocks();
  bool seal_carried_blocks();

  CommandChannel _channel;
  StreamStart _start;
  uring::BufferPool& _pool;
  Options _options;
  Done _done;
  Ready _ready;
  TapeAlertWatch _alerts;
  bool _polling = false;  // a LOG SENSE poll (TapeAlert, drive model) is with the drive
  std::function<void()> _on_space;
  std::function<void(std::uint16_t)> _on_written;
  std::uint32_t _shared_count = 0;
  std::uint32_t _shared_held = 0;  // submitted, not yet written
  bool _shared_short = false;      // the short (last) block was submitted
  std::vector<std::uint16_t> _buffers;  // every buffer of the stream
  std::uint16_t _scratch;  // READ POSITION, MODE SELECT, MODE SENSE data (command_buffer)
  std::uint32_t _buffer_count;
  std::uint32_t _fill_size;  // bytes a buffer takes before it goes to the drive
  std::uint32_t _unprotected_fill_size;
  bool _protected = false;   // every block carries its CRC32C (confirmed at start)
  static constexpr int max_reconfirmations = 2;
  int _reconfirmations = 0;  // resets met while the stream was setting the drive up
  std::uint64_t _attentions_at_confirmation = 0;

  Phase _phase = Phase::positioning;
  std::deque<std::uint16_t> _free;
  std::optional<Block> _filling;
  std::deque<Block> _full;
  std::optional<Block> _in_flight;
  bool _writing = false;         // the start (or restart) watermark was reached
  std::uint64_t _pool_ran_dry = 0;  // times the drive found no full buffer mid-stream
  bool _producer_done = false;   // finish() or abandon()
  StopHow _stop_how;

  std::optional<std::uint64_t> _counted_file;   // from StreamStart, on short-form drives
  std::optional<std::uint64_t> _position_file;  // from READ POSITION's long form
  std::uint64_t _start_object = 0;
  std::uint64_t _bytes_received = 0;
  std::uint64_t _blocks_accepted = 0;  // WRITEs the drive completed as written
  std::uint64_t _full_blocks_sent = 0;
  std::uint64_t _blocks_sent = 0;
  // A stream that failed: the position it read before the filemark that closes its blocks.
  std::optional<std::uint64_t> _counted_before_filemark;
  // The resets the stream had met when it read its position after its filemark (count()).
  std::optional<std::uint64_t> _attentions_at_count;
  std::optional<std::uint32_t> _short_block;  // the final block, when shorter than the rest
  base::Sha256 _sha256;  // of the client's bytes, in stream order (commit())
  StreamOutcome _outcome;
  // Spanning: this part ends at early warning and hands its queued blocks on.
  bool _handing_over = false;
  bool _carryover_taken = false;
  bool _finished_before_start = false;  // a next part whose producer had finished already
  std::optional<bool> _carried_protection;  // a next part: whether its carried blocks have CRCs
  std::uint64_t _bytes_before = 0;
  std::uint32_t _parts_before = 0;
  // Telemetry: time the drive stood without a WRITE mid-stream, the lowest pool fill, and the
  // drive's backhitch count at the stream's start and last read.
  std::optional<Clock::time_point> _drive_idle_since;
  std::optional<FeedPacer> _pacer;  // with a min_rate
  std::chrono::nanoseconds _drive_waited{0};
  std::optional<std::uint32_t> _full_min;
  std::optional<std::uint64_t> _backhitches_at_start;
  std::optional<std::uint64_t> _backhitches_now;
  std::uint64_t _model_polled_at = 0;  // _blocks_sent at the last poll of page 3Ch
  bool _model_baseline_done = false;
  bool _model_final_done = false;
};

}  // namespace tapestream::drive
