// A connection's moves between homes (home.hpp): leaving once nothing of it is in flight on
// the ring it leaves, with the request it is to be served for, and arriving.
#include "server/connection.hpp"
#include "server/home.hpp"
#include "server/server.hpp"

namespace tapestream::server {

uring::Ring& Connection::ring() { return _home->ring(); }

bool Connection::quiescent() const {
  return !_reading && !_watching_hangup && _send.idle() && !_write && !_read &&
         _control_in_flight == 0 && !_lease.holds() && !_lease.waiting() && !_source &&
         !_sink && _ended_sources.empty() && _ended_sinks.empty() && _ended_writes.empty() &&
         _ended_reads.empty() && !_pending_outcome && !_status_wait;
}

void Connection::Arrival::on_complete(const io_uring_cqe&) {
  connection->_destination->arrived(connection);
}

void Connection::move_to(Home& to, std::optional<Parked> request) {
  if (_destination != nullptr) {
    return;  // already leaving; nothing it carries is dropped (dispatch() keeps one request)
  }
  to.expect_arrival();
  _destination = &to;
  _carried = std::move(request);
  if (_watching_hangup) {
    (void)ring().prepare(uring::Cancel{&_hangup}, nullptr);
  }
  if (_reading && (_in == In::header || _in == In::body)) {
    (void)ring().prepare(uring::Cancel{&_input}, nullptr);
  }
}

void Connection::arrived(Home& home) {
  _home = &home;
  _send.use_ring(home.ring());
  _destination = nullptr;
  auto carried = std::move(_carried);
  _carried.reset();
  if (_input_closed) {
    return;  // it ended on the way; its new home closes it
  }
  if (carried) {
    _header.request_id = carried->request_id;
    _passed_fd = std::move(carried->fd);
    dispatch(carried->message);
    return;
  }
  read_more();
}

}  // namespace tapestream::server
