#include "server/drive_slot.hpp"

#include <algorithm>

namespace tapestream::server {

DriveLease& DriveLease::operator=(DriveLease&& other) noexcept {
  if (this != &other) {
    (void)end();
    _slot = std::exchange(other._slot, nullptr);
    _ticket = other._ticket;
  }
  return *this;
}

bool DriveLease::holds() const {
  return _slot != nullptr && _slot->_holder == _ticket;
}

void DriveLease::when_granted(std::function<void()> granted) {
  if (holds()) {
    granted();
    return;
  }
  if (_slot == nullptr) {
    return;
  }
  for (auto& waiter : _slot->_waiting) {
    if (waiter.ticket == _ticket) {
      waiter.granted = std::move(granted);
    }
  }
}

DriveSlot* DriveLease::end() {
  auto* slot = std::exchange(_slot, nullptr);
  if (slot != nullptr) {
    slot->leave(_ticket);
  }
  return slot;
}

DriveLease DriveSlot::join(Owner owner, std::uint32_t uid) {
  const auto ticket = ++_tickets;
  if (!_holder) {
    _holder = ticket;
    _owner = owner;
    _holding = {uid, std::chrono::system_clock::now()};
  } else {
    _waiting.push_back({ticket, owner, {}, uid});
  }
  return DriveLease{this, ticket};
}

bool DriveSlot::wanted_by_stream() const {
  return stream_owns() || std::any_of(_waiting.begin(), _waiting.end(), [](const Waiter& w) {
           return w.owner == Owner::stream;
         });
}

void DriveSlot::leave(std::uint64_t ticket) {
  if (_holder != ticket) {
    std::erase_if(_waiting, [ticket](const Waiter& w) { return w.ticket == ticket; });
    return;
  }
  _holder.reset();
  if (_waiting.empty()) {
    return;
  }
  auto next = std::move(_waiting.front());
  _waiting.pop_front();
  _holder = next.ticket;
  _owner = next.owner;
  _holding = {next.uid, std::chrono::system_clock::now()};
  if (next.granted) {
    next.granted();
  }
}

}  // namespace tapestream::server
