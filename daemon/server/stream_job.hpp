// A stream a connection runs on a drive: a write (WriteJob) or a read (ReadJob). A job waits in
// the drive's line, starts the stream once its lease holds the drive, moves the data (by the
// socket or by a passed descriptor), tells the client how the stream ended, and gives the
// drive to the next in line exactly once, through the lease. Its phase says where it is;
// idle() says whether anything of it is still in flight on the ring (until then it is kept).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "codec.hpp"
#include "common/unique_fd.hpp"
#include "drive/stream_outcome.hpp"
#include "server/drive_slot.hpp"
#include "server/rate_meter.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

class SendQueue;
class ReadJob;
class WriteJob;

// What a job needs of the connection it runs for.
class JobHost {
 public:
  // A reply to the request the job serves.
  virtual void reply(const proto::Message& message) = 0;
  // A reply that passes a descriptor along (SCM_RIGHTS): READY with shared buffers' memfd.
  virtual void reply_with_fd(const proto::Message& message, UniqueFd fd) = 0;
  // An ERROR that ends the request (a job refused before its stream began).
  virtual void refuse(proto::Status status, std::string message) = 0;
  virtual SendQueue& send_queue() = 0;
  virtual uring::Ring& ring() = 0;
  // The job wants the client's frames again (READY went out, or buffers have room).
  virtual void read_more() = 0;
  // A receive from the socket into the stream's registered buffers is in flight.
  virtual bool receiving_payload() const = 0;
  // Nothing more is read from the client: it left, or was sent away.
  virtual bool client_gone() const = 0;
  // Shuts the socket down: only that ends a send that waits on a client's full socket.
  virtual void hang_up() = 0;
  // The job told the client how the stream ended (or the client is gone): the connection takes
  // its next request, or with `send_away` closes once the reply is out (its socket may hold
  // half a frame).
  virtual void request_over(bool send_away) = 0;
  virtual std::uint64_t id() const = 0;
  virtual std::uint32_t uid() const = 0;
  // HELLO_OK granted `digest`: COMMITTED and END carry the stream's SHA-256.
  virtual bool digest_granted() const = 0;
  // HELLO_OK granted `telemetry`: PROGRESS carries it, WRITE may carry its marks.
  virtual bool telemetry_granted() const { return false; }

 protected:
  ~JobHost() = default;
};

class StreamJob {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Phase {
    waiting,    // in the drive's line
    starting,   // the drive is the job's; the stream positions the tape (READY not sent yet)
    streaming,  // READY went out: data moves
    ending,     // the client sends nothing more for the stream (END, ABORT, or a cut)
    reported,   // a write by the socket failed and said so; its client's END or ABORT is due
    done        // the client heard how the stream ended, or is gone
  };

  StreamJob(JobHost& host, DriveSlot& slot, bool progress_wanted);
  virtual ~StreamJob();
  StreamJob(const StreamJob&) = delete;
  StreamJob& operator=(const StreamJob&) = delete;

  // Takes a place in the drive's line; the stream starts once the drive is the job's.
  void begin();
  Phase phase() const { return _phase; }
  bool done() const { return _phase == Phase::done; }
  // The client's frames are read while the job runs (DATA, END, ABORT of a write); a read
  // takes none (a request pipelined behind it waits in the socket).
  virtual bool reads_frames() const { return false; }
  virtual WriteJob* as_write() { return nullptr; }
  virtual ReadJob* as_read() { return nullptr; }
  // The client left: the stream is abandoned; nobody hears its outcome.
  virtual void client_gone() = 0;
  // The daemon's stop deadline passed: the stream is cut (and accounted for), a job still in
  // the drive's line is refused.
  virtual void cut_for_stop() = 0;
  // A stream whose client neither sends (write) nor takes (read) data for `timeout` is ended,
  // so that a silent client cannot hold a drive forever. Waiting for the drive is not the
  // client's stall: only time in which the stream could have moved counts.
  void check_stall(Clock::time_point now, std::chrono::seconds timeout);
  // From the connection's tick: a client granted `telemetry` that asked for PROGRESS hears it
  // also while nothing moves (a stall is what the telemetry is there to show), and while it
  // waits in the drive's line, whose the drive is (state waiting).
  void progress_tick();
  // From the connection's tick (every turn of the ring, at most 100 ms apart): the stream's
  // clock (a write paced to its producer sends what the pace held back).
  virtual void tick() {}
  // Nothing moves (a spanning stream between volumes, for as long as the next cartridge takes):
  // no PROGRESS piles up for a client that may not read it meanwhile.
  virtual bool progress_paused() const { return false; }
  // Nothing of the job is in flight: it may be destroyed.
  virtual bool idle() const = 0;
  // An outcome that waited for the stream's buffers is reported once they are back.
  void settle();
  // The send queue dropped what it held (the client is gone).
  virtual void sends_dropped() {}

 protected:
  // The lease holds the drive: the stream starts.
  virtual void start() = 0;
  // A read into the stream's buffers, or a write or send out of them, is in flight.
  virtual bool moving_buffers() const = 0;
  // Stops the passed descriptor's mover, if any; settle() follows once it is idle.
  virtual void stop_mover() = 0;
  virtual void report(const drive::StreamOutcome& outcome) = 0;
  virtual drive::StreamProgress progress() const = 0;
  // How far the data got, and whether the stream waits for its client right now.
  struct Sample {
    std::uint64_t bytes;
    bool waiting_for_client;
  };
  virtual Sample stall_sample() const = 0;
  virtual void stalled(const std::string& why) = 0;

  // The stream's done handler: the outcome is reported once no I/O uses its buffers (after the
  // drive is released, they belong to the next stream).
  void outcome(const drive::StreamOutcome& outcome);
  // READY went out for `file` (none: a read of the file where the tape stands). From here the
  // drive's worker shows the stream (its file, its bytes on tape) to the daemon's status line.
  void streaming(std::optional<std::uint64_t> file);
  // Before the drive goes to the next in line, whose stream begins.
  void release_drive(drive::Ending ending);
  // Leaves the drive's line, or gives the drive up, without a stream having run.
  void leave_line();
  // About twice a second while the stream moves, if its request asked for it.
  void report_progress();
  // A stream not begun (still in line) ends: nobody is told, or the client hears `why`.
  bool ended_in_line(std::optional<std::string> why);
  std::string who() const;
  // "N bytes in M blocks": what of the stream is on the tape (write) or was delivered (read).
  static std::string amount_text(const drive::StreamOutcome& outcome);
  // The stream's summary line, at info, with its journal fields (drive, file, bytes, rate,
  // result, client uid, label): `what` begins it after the drive ("file 3 committed", "read of
  // file 3 ended (complete)"), `detail` ends it.
  // With `telemetry` (a write's last progress) the line and its fields say how well the drive
  // was fed: the time it waited for data, its backhitches, the lowest pool fill.
  void log_summary(const drive::StreamOutcome& outcome, const std::string& what,
                   std::string_view result, const std::string& label,
                   const std::string& detail = {},
                   const drive::StreamProgress* telemetry = nullptr) const;
  // The last PROGRESS, just before the final reply, to a client granted `telemetry` that asked
  // for PROGRESS: the drive's counts read at the stream's end (its backhitches) reach it.
  void final_progress(const drive::StreamProgress& progress);
  // PROGRESS of `progress`, with the telemetry when the client was granted it.
  proto::Progress progress_message(const drive::StreamProgress& progress);

  JobHost& _host;
  DriveSlot& _slot;
  Phase _phase = Phase::waiting;

 private:
  DriveLease _lease;
  const bool _progress_wanted;
  Clock::time_point _progress_sent{};
  std::uint64_t _stall_mark = 0;  // the stream's byte count when it last moved
  Clock::time_point _stall_since = Clock::now();
  std::optional<drive::StreamOutcome> _pending;
  void hide();

  std::optional<std::uint64_t> _file;
  bool _shown = false;
  std::optional<Clock::time_point> _streaming_since;
  RateMeter _rate;  // of the bytes on tape (write) or read from it (read)
};

}  // namespace tapestream::server
