// A connection's moves between homes (home.hpp): leaving once nothing of it is in flight on
// the ring it leaves, with the request it is to be served for, and arriving.
#include "server/connection.hpp"
#include "server/home.hpp"
#include "server/server.hpp"

namespace tapestream::server {

uring::Ring& Connection::ring() { return _home->ring(); }

bool Connection::quiescent() const {
  return _reader.idle() && _send.idle() && !_job && _ended_jobs.empty() &&
         _control_in_flight == 0 && !_control_lease.holds() && !_control_lease.waiting() &&
         !_status_wait && !_changer_wait;
}

void Connection::Arrival::on_complete(const io_uring_cqe&) {
  connection->_destination->arrived(connection);
}

void Connection::move_to(Home& to, std::optional<Request> request) {
  if (_destination != nullptr) {
    return;  // already leaving; nothing it carries is dropped (frame_in() keeps one request)
  }
  to.expect_arrival();
  _destination = &to;
  _carried = std::move(request);
  _reader.withdraw();
}

void Connection::arrived(Home& home) {
  _home = &home;
  _reader.use_ring(home.ring());
  _send.use_ring(home.ring());
  _destination = nullptr;
  auto carried = std::move(_carried);
  _carried.reset();
  if (_reader.closed()) {
    return;  // it ended on the way; its new home closes it
  }
  if (carried) {
    dispatch(std::move(*carried));
  }
  // Also after a carried frame that needs no answer (a RETURN that crossed its read's END):
  // nothing else asks for input then, and the client's next request would wait unread.
  // Harmless when the request did ask (a receive or poll is under way, or it moves on).
  _reader.read_more();
}

}  // namespace tapestream::server
