// The daemon's server: the listening Unix socket and the control thread's home, where client
// connections are accepted and kept between requests, and the drives they share, each served by
// its own worker thread (or, for the protocol fuzzer, all on the control thread's ring).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "common/unique_fd.hpp"
#include "server/access.hpp"
#include "server/drive_slot.hpp"
#include "server/drive_worker.hpp"
#include "server/home.hpp"
#include "server/listener.hpp"
#include "server/mailbox.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

class ChangerWorker;
class Connection;

struct ServerOptions {
  std::filesystem::path socket_path;  // empty: no listener (connections come through adopt())
  SocketAccess socket_access;         // the group and mode of a socket the daemon binds
  std::uint32_t max_data = 1 << 20;  // largest DATA body, announced in HELLO_OK
  std::uint32_t default_block_size = 256 * 1024;
  // A connection must send a complete request within this long of connecting or of its last
  // request ending (0: no limit).
  std::chrono::seconds idle_timeout{300};
  // A stream whose client moves no data for this long is ended (0: no limit).
  std::chrono::seconds stream_timeout{600};
  // A stream that spans volumes on a drive no changer serves waits this long for the next
  // cartridge (an autoloader's or an operator's) before it ends (0: until its client leaves).
  std::chrono::seconds volume_wait{3600};
  // After SIGTERM, how long running streams may take before they are cut.
  std::chrono::seconds stop_timeout{60};
  // A writing stream reads the drive's TapeAlert flags at most this often (0: only once its
  // data is written); a critical flag ends it.
  std::chrono::seconds tape_alert_interval{30};
  std::size_t max_connections = 256;
  std::size_t max_connections_per_user = 32;
  // Who may do what (access.hpp); by default root and group tape everything.
  AccessPolicy access;
  // Where the streams written are recorded and LIST_FILES is answered from; none: nothing is
  // recorded, and LIST_FILES says so.
  std::shared_ptr<catalog::Catalog> catalog;
};

class Server {
 public:
  using Clock = std::chrono::steady_clock;

  // Serves the drives of `workers`, each on its own thread (drive_worker.hpp); `ring` is the
  // control thread's, the caller's. Binds the socket, or adopts `activated`, a listening socket
  // on the socket path that the service manager passed (see listener.hpp). Throws
  // StartupError.
  Server(uring::Ring& ring, std::vector<std::unique_ptr<DriveWorker>> workers,
         ServerOptions options, UniqueFd activated = {});
  // Serves `drives` on `ring`, the one thread that turns it: no worker threads, so a run is
  // deterministic (the protocol fuzzer's world).
  Server(uring::Ring& ring, std::map<std::string, std::unique_ptr<DriveSlot>> drives,
         ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves until stop() is called; then refuses new streams and returns once every stream has
  // ended (a stream in progress finishes, so acknowledged data is never dropped), or once the
  // stop timeout has passed and the streams still running were cut and accounted for. False
  // when a stream could not be accounted for (a drive hung in a command) or a ring failed.
  // `each_turn` runs on the control thread after every turn of its ring (at least ten times a
  // second): the service manager's notifications and watchdog live there.
  bool run(const std::function<bool()>& stop_requested,
           const std::function<void()>& each_turn = {});
  void stop();
  // Serves a connection that did not come through the listener (the protocol fuzzer's).
  void adopt(UniqueFd fd, Peer peer);
  // One turn of the control thread's ring, then the connections' deadlines; false if the ring
  // failed.
  bool turn(std::chrono::milliseconds wait);
  std::size_t connection_count() const { return _open_connections; }

  const ServerOptions& options() const { return _options; }
  // The configured drives; the map never changes once serving began, so any thread may look a
  // drive up (and only its home's thread touches it).
  DriveSlot* drive(const std::string& name) const;
  const std::map<std::string, DriveSlot*>& drives() const { return _drives; }
  // The drives' workers (none when the drives run on the control thread): their heartbeats and
  // what they publish of their drives may be read from any thread.
  const std::vector<std::unique_ptr<DriveWorker>>& workers() const { return _workers; }
  Home& control_home() { return _control; }
  bool stopping() const { return _stopping.load(std::memory_order_acquire); }
  // Valid once stopping() is true.
  Clock::time_point stop_deadline() const { return _stop_deadline; }
  // A connection ended (on the control thread).
  void connection_closed(std::uint32_t uid);
  // The libraries' changers, by name; set once before serving (the daemon owns them and ends
  // them before the server). Any thread may look one up and post to it.
  void set_changers(std::map<std::string, ChangerWorker*> changers) { _changers = std::move(changers); }
  const std::map<std::string, ChangerWorker*>& changers() const { return _changers; }
  // The catalog, or nullptr (catalog = none); any thread may queue changes in it.
  catalog::Catalog* catalog() const { return _options.catalog.get(); }
  // Where the catalog's answers reach the control thread.
  const std::shared_ptr<Mailbox>& catalog_answers() const { return _catalog_answers; }
  // The daemon's number for a stream, which its catalog records name; from any thread.
  std::uint64_t next_stream_number() { return _next_stream.fetch_add(1) + 1; }

 private:
  struct Acceptor final : uring::Completion {
    Server* server = nullptr;
    void on_complete(const io_uring_cqe& cqe) override { server->accepted(cqe.res); }
  };
  void accept_next();
  void accepted(int fd);
  bool admit(UniqueFd& fd, std::uint32_t uid);
  void serve(UniqueFd fd, Peer peer);
  bool all_drained() const;
  void open_catalog_answers();
  // Logs a condition that may repeat thousands of times a second once per interval, with
  // how often it happened.
  void log_limited(const std::string& what, Clock::time_point now);

  uring::Ring& _ring;
  ServerOptions _options;
  Home _control;
  std::map<std::string, std::unique_ptr<DriveSlot>> _inline_drives;
  std::vector<std::unique_ptr<DriveWorker>> _workers;
  std::map<std::string, DriveSlot*> _drives;
  std::map<std::string, ChangerWorker*> _changers;
  Listener _listener;
  Acceptor _acceptor;
  bool _accepting = false;
  std::optional<Clock::time_point> _accept_paused_until;
  std::atomic<bool> _stopping{false};
  Clock::time_point _stop_deadline{};
  std::uint64_t _next_connection = 0;
  std::size_t _open_connections = 0;
  std::map<std::uint32_t, std::size_t> _per_user;
  std::map<std::string, std::pair<Clock::time_point, std::uint64_t>> _log_limits;
  std::shared_ptr<Mailbox> _catalog_answers;  // shared with answers still in the catalog's queue
  std::atomic<std::uint64_t> _next_stream{0};
};

}  // namespace tapestream::server
