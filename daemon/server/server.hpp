// The daemon's server: the listening Unix socket, the client connections, and the drives they
// share, all driven by one ring on one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "common/unique_fd.hpp"
#include "scsi/timeouts.hpp"
#include "server/commands.hpp"
#include "server/drive_slot.hpp"
#include "uring/buffer_pool.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

class Connection;

struct ServerOptions {
  std::filesystem::path socket_path;
  std::uint32_t max_data = 1 << 20;  // largest DATA body, announced in HELLO_OK
  std::uint32_t default_block_size = 256 * 1024;
};

class Server {
 public:
  // Takes the ring, the pool and the drives (with their buffers) the daemon set up; binds the
  // socket (mode 0660). Throws StartupError.
  Server(uring::Ring& ring, uring::BufferPool& pool, scsi::TimeoutTable timeouts,
         std::map<std::string, std::unique_ptr<DriveSlot>> drives, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves until stop() is called; then refuses new streams and returns once every stream has
  // ended (a stream in progress finishes, so acknowledged data is never dropped).
  void run(const std::function<bool()>& stop_requested);
  void stop();

  uring::Ring& ring() { return _ring; }
  uring::BufferPool& pool() { return _pool; }
  const scsi::TimeoutTable& timeouts() const { return _timeouts; }
  CommandRunner& commands() { return _commands; }
  const ServerOptions& options() const { return _options; }
  DriveSlot* drive(const std::string& name);
  const std::map<std::string, std::unique_ptr<DriveSlot>>& drives() const { return _drives; }
  bool stopping() const { return _stopping; }

 private:
  struct Acceptor final : uring::Completion {
    Server* server = nullptr;
    void on_complete(const io_uring_cqe& cqe) override { server->accepted(cqe.res); }
  };
  void accept_next();
  void accepted(int fd);
  void reap();

  uring::Ring& _ring;
  uring::BufferPool& _pool;
  scsi::TimeoutTable _timeouts;
  CommandRunner _commands;
  std::map<std::string, std::unique_ptr<DriveSlot>> _drives;
  ServerOptions _options;
  UniqueFd _listener;
  Acceptor _acceptor;
  bool _accepting = false;
  bool _stopping = false;
  std::uint64_t _next_connection = 0;
  std::list<std::unique_ptr<Connection>> _connections;
};

}  // namespace tapestream::server
