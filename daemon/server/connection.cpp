#include "server/connection.hpp"

#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/drive_slot.hpp"
#include "server/home.hpp"
#include "server/read_job.hpp"
#include "server/server.hpp"
#include "server/write_job.hpp"

namespace tapestream::server {

Connection::Connection(Home& home, UniqueFd fd, std::uint64_t id, Peer peer)
    : _server{home.server()},
      _home{&home},
      _fd{std::move(fd)},
      _id{id},
      _peer{std::move(peer)},
      _reader{_fd.get(), home.ring(), _server.options().max_data,
              {.want = [this] { return wanted(); },
               .header = [this](const proto::Header& h) { return header_in(h); },
               .frame = [this](std::uint32_t request_id, const proto::Message& message,
                               UniqueFd passed) { frame_in(request_id, message, std::move(passed)); },
               .payload_target = [this] { return payload_target(); },
               .malformed = [this](proto::Status status,
                                   std::string why) { refuse(status, std::move(why), true); },
               .gone = [this] { peer_gone(); },
               .received = [this] { settle(); }}},
      _send{_fd.get(), home.ring(),
            {.peer_gone =
                 [this] {
                   if (_job) {
                     _job->sends_dropped();
                   }
                   peer_gone();
                 },
             .sent = [this] { settle(); }}} {
  _arrival.connection = this;
}

Connection::~Connection() {
  if (_status_wait) {
    _status_wait->slot->drive().withdraw_state_waiter(_status_wait->ticket);
  }
}

void Connection::collect() {
  std::erase_if(_ended_jobs, [](const auto& job) { return job->idle(); });
}

bool Connection::busy() const {
  return _job != nullptr || !_ended_jobs.empty() || !_send.idle() || _control_in_flight > 0 ||
         _changer_wait ||
         _control_lease.waiting() || _carried.has_value();
}

bool Connection::finished() const {
  return _reader.closed() && _reader.idle() && !_send.sending() && !_job && _ended_jobs.empty() &&
         _control_in_flight == 0 && !_control_lease.waiting() && !_status_wait;
  // A LIST_FILES answer still on its way finds the connection gone, and is dropped.
}

WriteJob* Connection::writing() const { return _job ? _job->as_write() : nullptr; }

// Frames are read while no request runs, and during a write's data phase (DATA, END, ABORT);
// otherwise the next request stays in the socket until the running one has answered.
FrameReader::Want Connection::wanted() const {
  if (_destination != nullptr) {
    return FrameReader::Want::nothing;
  }
  if (_phase != Phase::serving || (_job && _job->reads_frames() && !_parked)) {
    return FrameReader::Want::frames;
  }
  return FrameReader::Want::hangup;
}

bool Connection::header_in(const proto::Header& header) {
  if (_phase == Phase::hello && header.type != proto::Type::hello) {
    refuse(proto::Status::out_of_sequence, "the first message must be HELLO", true);
    return false;
  }
  if (header.type == proto::Type::data) {
    if (auto* job = writing(); job == nullptr || !(job->takes_data() || job->dropping_data())) {
      refuse(proto::Status::out_of_sequence, "DATA outside a write stream", true);
      return false;
    }
  }
  return true;
}

FrameReader::PayloadTarget* Connection::payload_target() { return writing(); }

void Connection::settle() {
  if (_job) {
    _job->settle();
  }
}

std::optional<UniqueFd> Connection::claim_passed_fd(bool wanted, bool for_reading) {
  if (!wanted) {
    return UniqueFd{};
  }
  if (!_fd_passing) {
    refuse(proto::Status::bad_request, "fd passing was not agreed in HELLO", false);
    return std::nullopt;
  }
  if (!_passed_fd) {
    refuse(proto::Status::bad_request,
           "the request asks for fd passing but no descriptor came with it (SCM_RIGHTS)", false);
    return std::nullopt;
  }
  if (auto checked = check_passed_fd(_passed_fd.get(), for_reading); !checked) {
    refuse(proto::Status::bad_request, checked.error().what(), false);
    return std::nullopt;
  }
  return std::move(_passed_fd);
}

void Connection::frame_in(std::uint32_t request_id, const proto::Message& message, UniqueFd fd) {
  Request request{request_id, message, std::move(fd)};
  if (_destination != nullptr && !_carried) {
    // Read by a receive that was under way when the connection began to move (the frames of a
    // write by fd passing are read for ABORT, those of a shared read for RETURN): it is served
    // where the connection goes.
    spdlog::debug("connection {}: a frame (request {}) read while it moves goes with it", _id,
                  request.id);
    _carried = std::move(request);
    return;
  }
  dispatch(std::move(request));
}

void Connection::dispatch(Request request) {
  const auto& message = request.message;
  if (const auto* end = std::get_if<proto::End>(&message)) {
    if (auto* job = writing(); job == nullptr || !job->end_of_data(*end)) {
      refuse(proto::Status::out_of_sequence, "END outside a write stream", true);
    }
    return;
  }
  if (const auto* submit = std::get_if<proto::Submit>(&message)) {
    if (auto* job = writing(); job == nullptr || !job->submit(*submit)) {
      refuse(proto::Status::out_of_sequence, "SUBMIT outside a write stream with shared buffers",
             true);
    }
    return;
  }
  if (const auto* returned = std::get_if<proto::SlotReturn>(&message)) {
    // Harmless when late (a RETURN that crossed the read's END): ignored outside a read.
    if (_job && _job->as_read() != nullptr) {
      _job->as_read()->slot_returned(*returned);
    }
    return;
  }
  if (const auto* abort = std::get_if<proto::Abort>(&message)) {
    if (auto* job = writing(); job == nullptr || !job->abort(*abort)) {
      refuse(proto::Status::out_of_sequence, "ABORT outside a write stream", true);
    }
    return;
  }
  if (_phase == Phase::serving && writing() != nullptr && writing()->by_descriptor() && !_parked) {
    // The client of a write by fd passing sends nothing but maybe ABORT; the frames are read
    // only for that. A request it pipelined waits, with its descriptor, for the stream's end.
    _parked = std::move(request);
    return;
  }
  if (_phase == Phase::serving) {
    refuse(proto::Status::out_of_sequence,
           "only DATA, SUBMIT, END or ABORT may come while a write stream runs", true);
    return;
  }
  // Decided here, before the request goes anywhere: a refused one costs no move to a drive's
  // thread (maybe a busy one), and nothing of it reaches a handler.
  _request_id = request.id;  // a refusal answers this request
  if (!permitted(message)) {
    return;
  }
  if (auto* slot = drive_named_in(message); slot != nullptr && &slot->home() != _home) {
    move_to(slot->home(), std::move(request));
    return;
  }
  _request_id = request.id;
  _passed_fd = std::move(request.fd);
  serve(message);
  _passed_fd.reset();  // a descriptor no request claimed
}

bool Connection::permitted(const proto::Message& message) {
  const auto access = access_class_of(message);
  if (!access) {
    return true;
  }
  // The name as the client wrote it, known or not: a refusal reads the same for a drive that
  // does not exist, so it tells nothing of which drives do.
  const auto refusal =
      _server.options().access.refusal(_peer, *access, drive_named_by(message));
  if (!refusal) {
    return true;
  }
  refuse(proto::Status::not_permitted, *refusal, false);
  return false;
}

void Connection::serve(const proto::Message& message) {
  std::visit(
      [this](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, proto::Hello>) {
          hello(m);
        } else if constexpr (std::is_same_v<T, proto::ListDrives>) {
          list_drives();
        } else if constexpr (std::is_same_v<T, proto::StatusRequest>) {
          status(m);
        } else if constexpr (std::is_same_v<T, proto::WriteRequest>) {
          write(m);
        } else if constexpr (std::is_same_v<T, proto::ReadRequest>) {
          read(m);
        } else if constexpr (std::is_same_v<T, proto::VerifyRequest>) {
          verify(m);
        } else if constexpr (std::is_same_v<T, proto::CatalogRebuild>) {
          catalog_rebuild(m);
        } else if constexpr (std::is_same_v<T, proto::ControlRequest>) {
          control(m);
        } else if constexpr (std::is_same_v<T, proto::ListFiles>) {
          list_files(m);
        } else if constexpr (std::is_same_v<T, proto::LabelRequest>) {
          label(m);
        } else if constexpr (std::is_same_v<T, proto::ChangerStatus>) {
          changer_status(m);
        } else if constexpr (std::is_same_v<T, proto::ChangerMove>) {
          changer_move(m);
        } else {
          refuse(proto::Status::bad_type, "not a request", true);
        }
      },
      message);
}

void Connection::start_job(std::unique_ptr<StreamJob> job) {
  _phase = Phase::serving;
  _job = std::move(job);
  _job->begin();  // may end it at once
  _reader.read_more();  // nothing is read until READY; a client that leaves meanwhile is noticed
}

void Connection::peer_gone() {
  if (_reader.closed()) {
    return;
  }
  stop_input();
  // Also wakes a send or a hang-up poll that waits on the socket.
  ::shutdown(_fd.get(), SHUT_RDWR);
}

// Nothing more is read from this client: what it waits for or runs is withdrawn or abandoned
// (a stream settles through its job, which releases the drive).
void Connection::stop_input() {
  _reader.close();
  if (_control_lease.waiting()) {
    (void)_control_lease.end();
    _control_slot = nullptr;
    _phase = Phase::idle;
  }
  if (_job) {
    _job->client_gone();
  }
}

void Connection::tick(Clock::time_point now) {
  if (_reader.closed()) {
    return;
  }
  status_deadline(now);
  const auto& options = _server.options();
  // Each call may end the job (a command the transport refuses completes at once, and the
  // request ends with it): the next one looks again.
  if (_job) {
    _job->check_stall(now, options.stream_timeout);
  }
  if (_job) {
    _job->tick();
  }
  if (_job) {
    _job->progress_tick();
  }
  if (_phase != Phase::serving && options.idle_timeout.count() > 0 &&
      now - _idle_since > options.idle_timeout) {
    spdlog::info("connection {} (uid {}): no complete request for {} s; closing it", _id, _peer.uid,
                 options.idle_timeout.count());
    peer_gone();
  }
}

void Connection::cut_for_stop() {
  if (_control_lease.waiting()) {
    (void)_control_lease.end();
    _control_slot = nullptr;
    refuse(proto::Status::shutting_down,
           "the daemon is stopping and its stop timeout passed before the drive was free", false);
    return;
  }
  if (_job) {
    _job->cut_for_stop();
  }
}

void Connection::reply(const proto::Message& message) {
  auto frame = proto::encode(message, _request_id);
  if (!frame) {
    spdlog::error("connection {}: cannot encode a reply: {}", _id, frame.error().message());
    return;
  }
  _send.push(std::move(frame.value()));
}

void Connection::reply_with_fd(const proto::Message& message, UniqueFd fd) {
  auto frame = proto::encode(message, _request_id);
  if (!frame) {
    spdlog::error("connection {}: cannot encode a reply: {}", _id, frame.error().message());
    return;
  }
  _send.push_with_fd(std::move(frame.value()), std::move(fd));
}

void Connection::refuse(proto::Status status, std::string message, bool close) {
  spdlog::warn("connection {} (uid {}): {}: {}", _id, _peer.uid, proto::status_name(status), message);
  reply(proto::Error{status, message.substr(0, TS_MAX_MESSAGE)});
  if (close) {
    stop_input();  // read nothing more: the next frame cannot be found
    _send.close_when_sent();
  } else {
    finish_request();
  }
}

void Connection::finish_request(bool send_away) {
  _phase = Phase::idle;
  _idle_since = Clock::now();
  if (_job) {
    _ended_jobs.push_back(std::move(_job));
  }
  if (send_away) {
    _reader.close();
    _send.close_when_sent();
    return;
  }
  if (!_home->is_control() && !_reader.closed()) {
    // Sessions live on the control thread between requests; a pipelined request goes with it.
    auto parked = std::move(_parked);
    _parked.reset();
    move_to(_server.control_home(), std::move(parked));
    return;
  }
  if (_parked && !_reader.closed()) {
    auto parked = std::move(*_parked);
    _parked.reset();
    dispatch(std::move(parked));
    return;
  }
  _reader.read_more();  // the next pipelined request, if one waits
}

}  // namespace tapestream::server
