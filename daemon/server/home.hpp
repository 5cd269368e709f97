// Where a connection lives at a given moment: one thread's ring and the connections it serves.
// The control thread's home accepts connections and keeps them between requests. A drive
// worker's home takes a connection for the length of one request on its drive, so that the
// stream's data moves on that worker's ring, into its registered buffers, and sends it back.
//
// A connection moves only when nothing of it is in flight on the ring it leaves, as the
// user_data of an IORING_OP_MSG_RING: the pointer is the connection's ownership, so whoever
// holds it is the only thread that touches it, and no lock is taken.
#pragma once

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <string>

#include "server/mailbox.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

class Connection;
class Server;

class Home {
 public:
  using Clock = std::chrono::steady_clock;

  Home(Server& server, uring::Ring& ring, std::string name);
  ~Home();
  Home(const Home&) = delete;
  Home& operator=(const Home&) = delete;

  uring::Ring& ring() { return _ring; }
  Server& server() { return _server; }
  const std::string& name() const { return _name; }
  bool is_control() const;

  // A connection accepted (or adopted) here.
  void host(std::unique_ptr<Connection> connection);
  // Counts a connection on its way here, before it leaves the other home, so that a home is
  // never taken for drained while a connection (and maybe its request) is on its way to it.
  void expect_arrival() { _incoming.fetch_add(1); }
  void arrival_withdrawn() { _incoming.fetch_sub(1); }
  int incoming() const { return _incoming.load(); }
  // From the connection's MsgRing delivery, on this home's thread.
  void arrived(Connection* connection);

  // One turn of the ring, then the moves and ends of connections, then their deadlines.
  // False if the ring failed.
  bool turn(std::chrono::milliseconds wait);
  // Stopping, nothing served here is busy and nothing is on its way: published after each
  // turn for the control thread, which waits for every home before the daemon exits. Read
  // incoming() first: an arrival clears the flag before it stops counting as on its way.
  bool drained() const { return _drained.load(); }
  // Shuts the home down: closes every connection and turns until their I/O is back. False when
  // a drive hung in a command kept some: they are left to the process's end rather than freed
  // under the kernel, and so must be the drive's buffers.
  bool close_all();
  std::size_t hosted() const { return _hosted.size(); }
  // The connection with this id served here now, or nullptr.
  Connection* find(std::uint64_t id) const;
  // Where another thread (the catalog's) hands work to this home's thread: made on first use,
  // which must be on this thread; shared with the answers still on their way. Null when no
  // eventfd could be made (logged): the caller goes without the answer.
  std::shared_ptr<Mailbox> mailbox();

 private:
  // Learns on the sending ring whether a move was posted; a move that was not stays here.
  struct Departure final : uring::Completion {
    Home* from = nullptr;
    Connection* connection = nullptr;
    void on_complete(const io_uring_cqe& cqe) override;
  };
  void reap();
  void depart(std::unique_ptr<Connection> connection);
  void tick(Clock::time_point now);

  Server& _server;
  uring::Ring& _ring;
  std::string _name;
  std::list<std::unique_ptr<Connection>> _hosted;
  std::atomic<int> _incoming{0};
  int _departing = 0;  // moves whose MsgRing has not come back to this ring yet
  std::atomic<bool> _drained{false};
  bool _streams_cut = false;
  bool _closing = false;
  std::shared_ptr<Mailbox> _mailbox;
};

}  // namespace tapestream::server
