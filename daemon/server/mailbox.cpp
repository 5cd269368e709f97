#include "server/mailbox.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/startup_error.hpp"

namespace tapestream::server {

Mailbox::Mailbox(uring::Ring& ring)
    : _ring{ring}, _event{::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)} {
  if (!_event) {
    throw StartupError{std::string{"cannot make an eventfd for the catalog's answers: "} +
                       std::strerror(errno)};
  }
}

void Mailbox::open() { arm(); }

void Mailbox::arm() {
  if (!_ring.prepare(uring::Poll{_event.get(), POLLIN}, this)) {
    spdlog::error("the catalog's answers cannot be polled for on the control ring; a list "
                  "request will wait for the idle timeout");
  }
}

void Mailbox::post(std::function<void()> work) {
  {
    const std::lock_guard lock{_mutex};
    _queue.push_back(std::move(work));
  }
  const std::uint64_t one = 1;
  // EAGAIN only when the counter is full, and then the poll is already ready.
  (void)!::write(_event.get(), &one, sizeof one);
}

void Mailbox::on_complete(const io_uring_cqe& cqe) {
  if (cqe.res == -ECANCELED) {
    return;
  }
  std::uint64_t count = 0;
  (void)!::read(_event.get(), &count, sizeof count);
  std::deque<std::function<void()>> ready;
  {
    const std::lock_guard lock{_mutex};
    ready.swap(_queue);
  }
  for (auto& work : ready) {
    work();
  }
  arm();
}

}  // namespace tapestream::server
