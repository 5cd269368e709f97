// Work handed to one ring's thread from another thread that turns no ring (the catalog's): a
// queue behind a mutex and an eventfd polled on the ring, in the way Seastar's reactor keeps
// its mailbox. The poster never waits for the ring's thread; the work runs there, in order.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "common/unique_fd.hpp"
#include "uring/ring.hpp"

namespace tapestream::server {

class Mailbox final : private uring::Completion {
 public:
  // Throws StartupError when no eventfd can be made.
  explicit Mailbox(uring::Ring& ring);
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // From any thread. Work posted after the ring's thread stopped turning it is never run.
  void post(std::function<void()> work);
  // Arms the poll on the ring; on the ring's thread.
  void open();

 private:
  void on_complete(const io_uring_cqe& cqe) override;
  void arm();

  uring::Ring& _ring;
  UniqueFd _event;
  std::mutex _mutex;
  std::deque<std::function<void()>> _queue;
};

}  // namespace tapestream::server
