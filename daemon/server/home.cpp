#include "server/home.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "server/connection.hpp"
#include "server/server.hpp"

namespace tapestream::server {
namespace {

// How long a home that shuts down waits for its connections' I/O to come back.
constexpr std::chrono::seconds close_patience{2};

}  // namespace

// The mailbox is opened with the home, on the thread that turns its ring: a home's
// descriptors are then fixed from its start, not grown by its first catalog check.
Home::Home(Server& server, uring::Ring& ring, std::string name)
    : _server{server}, _ring{ring}, _name{std::move(name)} {
  (void)mailbox();
}

Home::~Home() = default;

bool Home::is_control() const { return &_server.control_home() == this; }

Connection* Home::find(std::uint64_t id) const {
  for (const auto& c : _hosted) {
    if (c->id() == id) {
      return c.get();
    }
  }
  return nullptr;
}

std::shared_ptr<Mailbox> Home::mailbox() {
  if (!_mailbox) {
    try {
      _mailbox = std::make_shared<Mailbox>(_ring);
      _mailbox->open();
    } catch (const std::exception& e) {
      spdlog::error("{}: {}; catalog checks of reads are skipped", _name, e.what());
      _mailbox.reset();
    }
  }
  return _mailbox;
}

void Home::host(std::unique_ptr<Connection> connection) {
  auto& c = *_hosted.emplace_back(std::move(connection));
  c.start();
}

void Home::arrived(Connection* connection) {
  _drained.store(false);  // until the next tick has looked at it; see drained()
  auto& c = *_hosted.emplace_back(connection);
  c.arrived(*this);
  if (_closing) {
    c.close_now();
  }
  _incoming.fetch_sub(1);
}

void Home::Departure::on_complete(const io_uring_cqe& cqe) {
  --from->_departing;
  if (cqe.res < 0) {
    // Not posted, so still ours: it tries again on the next turn.
    spdlog::error("connection {}: cannot hand it to another thread ({}); trying again",
                  connection->id(), std::strerror(-cqe.res));
    from->_hosted.emplace_back(connection);
  }
  delete this;
}

void Home::depart(std::unique_ptr<Connection> connection) {
  auto* departure = new Departure;
  departure->from = this;
  departure->connection = connection.get();
  auto* destination = connection->destination();
  if (!_ring.prepare(uring::MsgRing{destination->ring().fd(), connection->arrival(), 0},
                     departure)) {
    delete departure;
    _hosted.push_back(std::move(connection));  // the SQ is full: again on the next turn
    return;
  }
  ++_departing;
  (void)connection.release();  // the receiving home owns it from the delivery on
}

void Home::reap() {
  auto& control = _server.control_home();
  for (auto it = _hosted.begin(); it != _hosted.end();) {
    auto& c = **it;
    c.collect();
    if (c.finished()) {
      if (is_control() || _closing) {
        if (auto* destination = c.destination()) {
          destination->arrival_withdrawn();
        }
        if (is_control()) {
          _server.connection_closed(c.uid());
        }
        it = _hosted.erase(it);
        continue;
      }
      // Connections end on the control thread, which keeps the count of them.
      if (c.destination() != &control) {
        if (auto* destination = c.destination()) {
          destination->arrival_withdrawn();
        }
        control.expect_arrival();
        c.go_home(control);
      }
    }
    if (!_closing && c.destination() != nullptr && c.quiescent()) {
      auto moving = std::move(*it);
      it = _hosted.erase(it);
      depart(std::move(moving));
      continue;
    }
    ++it;
  }
}

void Home::tick(Clock::time_point now) {
  for (auto& c : _hosted) {
    c->tick(now);
  }
  const bool busy = std::any_of(_hosted.begin(), _hosted.end(), [](const auto& c) { return c->busy(); });
  if (_server.stopping() && !_streams_cut && now >= _server.stop_deadline() && busy) {
    _streams_cut = true;
    spdlog::warn("stop timeout ({} s) passed: cutting the streams still running{}",
                 _server.options().stop_timeout.count(),
                 is_control() ? std::string{} : " on drive " + _name);
    for (auto& c : _hosted) {
      c->cut_for_stop();
    }
  }
  _drained.store(_server.stopping() && !busy && _incoming.load() == 0);
}

bool Home::turn(std::chrono::milliseconds wait) {
  if (auto turned = _ring.run_once(wait); !turned) {
    spdlog::error("ring of {}: {}", _name, turned.error().message());
    return false;
  }
  reap();
  tick(Clock::now());
  return true;
}

bool Home::close_all() {
  _closing = true;
  for (auto& c : _hosted) {
    c->close_now();
  }
  const auto give_up = Clock::now() + close_patience;
  // Also until this ring's own moves have come back: their MsgRing may not even be submitted
  // yet, and each has a record to free.
  while ((!_hosted.empty() || _incoming.load() > 0 || _departing > 0) && Clock::now() < give_up) {
    if (!_ring.run_once(std::chrono::milliseconds{100})) {
      break;
    }
    reap();
  }
  if (_hosted.empty()) {
    return true;
  }
  spdlog::error("{}: exiting with {} connection(s) whose drive did not answer", _name,
                _hosted.size());
  for (auto& c : _hosted) {
    (void)c.release();
  }
  _hosted.clear();
  return false;
}

}  // namespace tapestream::server
