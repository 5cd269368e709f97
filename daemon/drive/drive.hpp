// One tape drive and what the daemon does with it: its transport (watched for resets), its
// identity, the pool buffers it owns, its timeout table, the command runner of its control
// path, what it last said of its medium, the control operations, and the streams it makes
// (write_stream.hpp, read_stream.hpp), which run on the same transport and buffers while they
// own the drive; who owns it is decided above (server/drive_slot.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "drive/command_runner.hpp"
#include "drive/control.hpp"
#include "drive/identity.hpp"
#include "drive/read_stream.hpp"
#include "drive/stream_outcome.hpp"
#include "drive/tape_state.hpp"
#include "drive/watched_transport.hpp"
#include "drive/write_stream.hpp"
#include "scsi/timeouts.hpp"
#include "uring/buffer_pool.hpp"

namespace tapestream::drive {

class Drive {
 public:
  Drive(std::string name, std::unique_ptr<transport::ScsiTransport> transport,
        uring::BufferPool& pool, std::vector<std::uint16_t> stream_buffers,
        std::uint16_t control_buffer, scsi::TimeoutTable timeouts);
  Drive(const Drive&) = delete;
  Drive& operator=(const Drive&) = delete;

  const std::string& name() const { return _name; }
  transport::ScsiTransport& transport() { return _transport; }
  const WatchedTransport& watch() const { return _transport; }
  uring::BufferPool& pool() { return _pool; }
  const std::vector<std::uint16_t>& stream_buffers() const { return _stream_buffers; }
  std::uint16_t control_buffer() const { return _control_buffer; }
  const scsi::TimeoutTable& timeouts() const { return _timeouts; }
  // The control path's commands, also while a stream owns the drive.
  CommandRunner& commands() { return _commands; }
  const DriveIdentity& identity() const { return _identity; }
  void set_identity(DriveIdentity identity) { _identity = std::move(identity); }
  // Logical Block Protection as configured for this drive (block_protection.hpp).
  // `largest_block` is the configured buffer size: the pool's buffers are larger by the room a
  // block's CRC needs, so that protection does not shrink the blocks a client may use.
  void set_protection(Protection protection, std::uint32_t largest_block) {
    _protection = protection;
    _largest_block = largest_block;
  }
  Protection protection() const { return _protection; }
  // The watermarks of this drive's write streams, in percent of their buffers, where a stream
  // does not choose its own (write_stream.hpp).
  struct StreamMarks {
    unsigned start_percent = 50;
    unsigned restart_percent = 50;
    // WriteStream::Options::min_rate; unset: the lowest speed of the medium in the drive
    // (Options::min_rate_of_medium).
    std::optional<std::uint64_t> min_rate;
  };
  void set_stream_marks(StreamMarks marks) { _marks = marks; }
  StreamMarks stream_marks() const { return _marks; }
  // The largest block of data a stream may write: the configured buffer size, and the drive's
  // limit (READ BLOCK LIMITS, WRITE(6)) less the 4 bytes of CRC32C where streams carry it.
  std::uint32_t max_data_block() const;
  // Locks that make this daemon the drive's one owner, held as long as the drive lives.
  void hold(std::vector<UniqueFd> locks) { _locks = std::move(locks); }

  // Contract: asks the drive for its position (READ POSITION) and medium (MODE SENSE) again,
  // unless that is under way already; `done` is called when the answer is in (known_state()
  // then holds it, the position empty if the drive would not give one). Returns the ticket
  // that withdraws `done`, for a client that stops waiting first.
  // The health of the drive and its cartridge follows the position (LOG SENSE 2Eh, 17h, 0Ch
  // and READ ATTRIBUTE: health.hpp); what the drive does not give stays empty.
  std::uint64_t refresh_state(std::function<void()> done);
  // TapeAlert flags read outside STATUS (a write stream's polls): kept with the ones STATUS
  // reads, until the cartridge changes.
  void keep_tape_alerts(scsi::TapeAlerts read);
  // Logs the drive's backhitch count (log page 3Ch) when it grew since the last report.
  void report_backhitches(const MediumHealth& health);
  void withdraw_state_waiter(std::uint64_t ticket) { _state_waiters.erase(ticket); }
  const KnownState& known_state() const { return _known; }
  // What the drive is doing: a stream's activity first, then a failure nothing has cleared
  // since, then what the last answer said (a position the last reset made untrusted counts as
  // unknown: loaded).
  DriveState state() const;
  // Contract: a stream on this drive's transport and stream buffers, with what the drive knows
  // filled in (its positioning commands; for a write, whether a reset since it was positioned
  // makes the position untrusted). Nothing is sent until the stream's start(). The drive is
  // writing or reading from here until stream_ended().
  std::unique_ptr<WriteStream> write_stream(WriteStream::Options options, WriteStream::Done done);
  // The next part of a spanning stream, on the medium now loaded, with what the last part
  // handed over (write_stream.hpp).
  std::unique_ptr<WriteStream> write_stream(WriteStream::Carryover carryover,
                                            WriteStream::Options options, WriteStream::Done done);
  std::unique_ptr<ReadStream> read_stream(ReadStream::Done done);
  // A read into `buffers` of the caller's (shared buffers) instead of the stream buffers.
  std::unique_ptr<ReadStream> read_stream(ReadStream::Done done, std::vector<std::uint16_t> buffers);
  // A stream took the drive (write_stream() and read_stream() say so), or gave it back with
  // `ending`: its owner says so once the stream's outcome is in.
  void stream_began(bool writing);
  void stream_ended(Ending ending);

  // Runs a prepared control operation (see control.hpp for its contract); `done` is called
  // once, from the ring's dispatch.
  void control(PreparedControl operation, std::function<void(const ControlOutcome&)> done);

 private:
  // What the drive knows, in a write stream's options.
  void fill_write_options(WriteStream::Options& options);
  void state_refreshed(KnownState state);
  void refresh_health(KnownState state);
  void health_step(std::shared_ptr<KnownState> state, std::size_t step, std::size_t steps,
                   const scsi::Command& (*command)(std::size_t),
                   void (*take)(Drive&, std::size_t, const CommandResult&, KnownState&));
  // Where files start, learned from operations that leave the tape at a file's first block,
  // for the block within the file (mt's "block number").
  void learn_file_start(const ControlRequest& request, const ControlOutcome& outcome);
  std::optional<std::uint64_t> block_in_file(const TapePosition& position) const;
  void position_after_failure(ControlOutcome failed,
                              std::function<void(const ControlOutcome&)> done);
  // READ POSITION for an operation: as the follow-up of its command that went well, or alone.
  void report_position(const ControlRequest& request,
                       std::function<void(const ControlOutcome&)> done, bool follow_up);

  std::string _name;
  std::vector<UniqueFd> _locks;
  WatchedTransport _transport;
  uring::BufferPool& _pool;
  std::vector<std::uint16_t> _stream_buffers;
  std::uint16_t _control_buffer;
  std::optional<std::uint16_t> _stream_command_buffer;  // none with a single stream buffer
  scsi::TimeoutTable _timeouts;
  CommandRunner _commands;
  DriveIdentity _identity;
  Protection _protection = Protection::automatic;
  StreamMarks _marks;
  std::uint64_t _backhitches_reported = 0;
  std::optional<bool> _model_page;  // the drive answered log page 3Ch to a stream (unknown: ask)
  std::uint32_t _largest_block = 0;  // 0: the pool's buffer size
  KnownState _known;
  KeptTapeAlerts _tape_alerts;
  std::map<std::uint64_t, std::uint64_t> _file_starts;  // file number -> its first block
  std::uint64_t _file_starts_generation = 0;
  enum class Activity { idle, writing, reading };
  Activity _activity = Activity::idle;
  bool _failed = false;
  void learned(Ending ending);
  bool _refreshing = false;
  std::uint64_t _tickets = 0;
  std::map<std::uint64_t, std::function<void()>> _state_waiters;
};

}  // namespace tapestream::drive
