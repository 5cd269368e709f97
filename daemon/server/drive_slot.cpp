#include "server/drive_slot.hpp"

#include <algorithm>

namespace tapestream::server {

std::optional<std::uint64_t> DriveSlot::acquire(Owner owner, std::function<void()> granted) {
  if (!_busy) {
    _busy = true;
    _owner = owner;
    granted();
    return std::nullopt;
  }
  const auto ticket = ++_tickets;
  _waiting.push_back({ticket, owner, std::move(granted)});
  return ticket;
}

bool DriveSlot::wanted_by_stream() const {
  return (_busy && _owner == Owner::stream) ||
         std::any_of(_waiting.begin(), _waiting.end(),
                     [](const Waiter& w) { return w.owner == Owner::stream; });
}

void DriveSlot::release() {
  if (_waiting.empty()) {
    _busy = false;
    return;
  }
  auto next = std::move(_waiting.front());
  _waiting.pop_front();
  _owner = next.owner;
  next.granted();
}

}  // namespace tapestream::server
