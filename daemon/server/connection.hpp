// One client's session: HELLO first, then one request at a time, each routed to where it is
// served. A request that names a drive is served on that drive's home (its worker thread): the
// connection moves there before the request is looked at, and back to the control home once it
// has answered. The pieces with one job each: the FrameReader (frames in, checked by the codec,
// with their descriptors), the SendQueue (replies and read data out, in order), and a stream
// job (WriteJob, ReadJob) for WRITE and READ; STATUS and CONTROL are answered here.
//
// Requests may be pipelined: the next frame is read only once the request before has sent its
// final reply (except the DATA, END and ABORT frames of a write in progress), so replies come
// in request order. While a request runs without reading, a poll for hang-up notices a client
// that leaves. Deadlines (checked by tick()): a complete request within the idle timeout of the
// previous one (or of connecting), a stream's data moving within the stream timeout, a STATUS
// answer within a second. A malformed frame ends this connection only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "codec.hpp"
#include "common/unique_fd.hpp"
#include "drive/control.hpp"
#include "server/access.hpp"
#include "server/changer_ops.hpp"
#include "server/drive_slot.hpp"
#include "server/frame_reader.hpp"
#include "server/send_queue.hpp"
#include "server/stream_job.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

class ChangerWorker;
class Home;
class Server;
class WriteJob;

class Connection final : private JobHost {
 public:
  using Clock = std::chrono::steady_clock;

  Connection(Home& home, UniqueFd fd, std::uint64_t id, Peer peer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start() { _reader.read_more(); }
  // Destroys jobs that ended once nothing of them is in flight (never from inside their own
  // callbacks); the home calls it between ring turns.
  void collect();
  // The peer is gone (or was sent away) and nothing of this connection is in flight any more.
  bool finished() const;
  // A stream is running or replies are still going out: the server waits for this before it
  // stops, so that a stream running at SIGTERM ends committed and its client hears so.
  bool busy() const;
  // Ends the connection now (the server is going away): the pending read returns.
  void close_now() { peer_gone(); }
  // Enforces the deadlines; called by the home a few times a second.
  void tick(Clock::time_point now);
  // The daemon's stop deadline has passed: a running stream is cut (and accounted for), a
  // request waiting for a drive is refused.
  void cut_for_stop();
  std::uint32_t uid() const override { return _peer.uid; }
  std::uint64_t id() const override { return _id; }
  bool digest_granted() const override { return _digest; }
  bool telemetry_granted() const override { return _telemetry; }

  // Moving between homes (home.hpp). The home it wants to go to, or nullptr.
  Home* destination() const { return _destination; }
  // Nothing of it is in flight on its ring: it may leave.
  bool quiescent() const;
  // Where the MsgRing that carries it is delivered.
  uring::Completion* arrival() { return &_arrival; }
  // In its new home, on that home's thread: the request it carried is dispatched there.
  void arrived(Home& home);
  // A connection that ended goes to `control` to be closed there.
  void go_home(Home& control) { _destination = &control; }

 private:
  struct Arrival final : uring::Completion {
    Connection* connection = nullptr;
    void on_complete(const io_uring_cqe& cqe) override;
  };
  // A request read but not served yet: read during a write by fd passing (the frames are read
  // for ABORT) until the stream has answered, or carried to the home that serves it.
  struct Request {
    std::uint32_t id;
    proto::Message message;
    UniqueFd fd;
  };
  struct StatusWait {
    DriveSlot* slot = nullptr;
    std::uint64_t ticket = 0;
    Clock::time_point deadline;
  };
  enum class Phase {
    hello,   // nothing but HELLO may come
    idle,    // between requests
    serving  // a request runs; its final reply has not gone out
  };

  // Frames in, and routing (connection.cpp).
  FrameReader::Want wanted() const;
  bool header_in(const proto::Header& header);
  void frame_in(std::uint32_t request_id, const proto::Message& message, UniqueFd fd);
  void dispatch(Request request);
  void serve(const proto::Message& message);
  // The access rules allow this client the request; otherwise refused (not_permitted).
  bool permitted(const proto::Message& message);
  FrameReader::PayloadTarget* payload_target();
  void settle();
  // The descriptor a WRITE or READ brought: an empty one when it asked for none (`wanted`
  // false), nullopt when it was refused (the ERROR is on its way).
  std::optional<UniqueFd> claim_passed_fd(bool wanted, bool for_reading);
  void peer_gone();
  void stop_input();
  void refuse(proto::Status status, std::string message, bool close);
  void finish_request(bool send_away = false);
  WriteJob* writing() const;
  void start_job(std::unique_ptr<StreamJob> job);

  // Moves (connection_moves.cpp). The request is served in `to`: the connection goes there
  // with it (nullopt: with none, to read its next request there).
  void move_to(Home& to, std::optional<Request> request);

  // JobHost, for the stream jobs.
  JobHost& as_host() { return *this; }
  void reply(const proto::Message& message) override;
  void reply_with_fd(const proto::Message& message, UniqueFd fd) override;
  void refuse(proto::Status status, std::string message) override {
    refuse(status, std::move(message), false);
  }
  SendQueue& send_queue() override { return _send; }
  uring::Ring& ring() override;
  void read_more() override { _reader.read_more(); }
  bool receiving_payload() const override { return _reader.receiving_payload(); }
  bool client_gone() const override { return _reader.closed(); }
  void hang_up() override { peer_gone(); }
  void request_over(bool send_away) override { finish_request(send_away); }

  // Requests without a stream (connection_requests.cpp).
  void hello(const proto::Hello& m);
  void list_drives();
  void status(const proto::StatusRequest& m);
  void reply_status(DriveSlot& slot, bool stale);
  void status_deadline(Clock::time_point now);
  void control(const proto::ControlRequest& m);
  void control_done(const drive::ControlOutcome& outcome);
  void record_tape_end(drive::Drive& drive, const drive::ControlOutcome& outcome,
                       std::uint64_t filemarks);
  DriveSlot* drive_for(const std::string& name);
  // LIST_FILES, answered from the catalog (connection_catalog.cpp).
  void list_files(const proto::ListFiles& m);
  void files_listed(std::uint32_t request_id, const Result<catalog::VolumeFiles, Failure>& answer);
  friend struct CatalogAnswer;
  // The configured drive a request names, or nullptr (none named, or an unknown one: the
  // request's handler refuses it).
  DriveSlot* drive_named_in(const proto::Message& message) const;

  // CHANGER_STATUS and CHANGER_MOVE (connection_changer.cpp): checked here, run on the
  // changer's thread, answered through this home's mailbox.
  void changer_status(const proto::ChangerStatus& m);
  void changer_move(const proto::ChangerMove& m);
  ChangerWorker* changer_for(const std::string& library);
  void post_changer(ChangerWorker& changer, const proto::ChangerMove* move);
  void unload_for_changer(ChangerWorker& changer, const proto::ChangerMove& m,
                          bool after_unit_attention);
  void changer_answered(std::uint32_t request_id, const ChangerAnswer& answer);
  friend struct ChangerReply;

  // Requests that run a stream (connection_streams.cpp): checked here, run by a job.
  void write(const proto::WriteRequest& m);
  // TS_WRITE_SPAN: the job gets the changer of the drive's library, or the client hears why
  // not (false).
  bool let_span(WriteJob& job, DriveSlot& slot, bool by_descriptor);
  void read(const proto::ReadRequest& m);
  void label(const proto::LabelRequest& m);
  void verify(const proto::VerifyRequest& m);
  void catalog_rebuild(const proto::CatalogRebuild& m);

  Server& _server;
  Home* _home;
  Home* _destination = nullptr;
  std::optional<Request> _carried;  // the request it moves with
  Arrival _arrival;
  UniqueFd _fd;
  std::uint64_t _id;
  Peer _peer;  // as the kernel reported it at connect()
  FrameReader _reader;
  SendQueue _send;

  Phase _phase = Phase::hello;
  bool _fd_passing = false;  // granted in HELLO_OK
  bool _digest = false;      // granted in HELLO_OK
  bool _span_list = false;  // granted in HELLO_OK: FILE_LIST entries carry their span fields
  bool _telemetry = false;   // granted in HELLO_OK
  bool _health = false;      // granted in HELLO_OK: DRIVE_STATUS's known mask and extension
  bool _shared_buffers = false;  // granted in HELLO_OK: WRITE with TS_WRITE_SHARED
  bool _no_digest = false;       // granted in HELLO_OK: WRITE with TS_WRITE_NO_DIGEST
  std::uint32_t _request_id = 0;
  UniqueFd _passed_fd;  // came with the request being served; claimed by WRITE or READ
  Clock::time_point _idle_since = Clock::now();
  std::optional<Request> _parked;

  // CONTROL holds its drive through a lease for its few commands; STATUS asks the drive.
  DriveSlot* _control_slot = nullptr;
  DriveLease _control_lease;
  unsigned _control_in_flight = 0;
  // An erase, or a WEOF of this many filemarks, ends the tape where it began: when it went
  // well the catalog hears of it.
  std::optional<std::uint64_t> _control_ends_tape;
  std::optional<StatusWait> _status_wait;
  bool _list_wait = false;
  bool _changer_wait = false;  // a changer job runs for this request; its answer comes by mailbox  // LIST_FILES asked the catalog; its answer comes by the mailbox

  std::unique_ptr<StreamJob> _job;  // the WRITE or READ being served
  std::vector<std::unique_ptr<StreamJob>> _ended_jobs;  // until nothing of them is in flight
};

}  // namespace tapestream::server
