#include "server/drive_slot.hpp"

#include <algorithm>

#include "codec.hpp"
#include "scsi/cdb.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/position.hpp"

namespace tapestream::server {

std::uint32_t position_state(const scsi::Position& p) {
  return TS_STATE_LOADED | (p.beginning_of_partition ? TS_STATE_BOP : 0U) |
         (p.end_of_partition ? TS_STATE_EARLY_WARNING : 0U) |
         (p.logical_file ? 0U : TS_STATE_FILE_UNKNOWN);
}

DriveSlot::DriveSlot(std::string name, std::unique_ptr<transport::ScsiTransport> transport,
                     uring::BufferPool& pool, std::vector<std::uint16_t> stream_buffers,
                     std::uint16_t control_buffer, scsi::TimeoutTable timeouts)
    : _name{std::move(name)},
      _transport{std::move(transport)},
      _stream_buffers{std::move(stream_buffers)},
      _control_buffer{control_buffer},
      _timeouts{std::move(timeouts)},
      _commands{_transport, pool, control_buffer, _timeouts} {}

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

std::uint64_t DriveSlot::refresh_state(std::function<void()> done) {
  const auto ticket = ++_tickets;
  _state_waiters.emplace(ticket, std::move(done));
  if (_refreshing) {
    return ticket;
  }
  _refreshing = true;
  const auto form = _identity.positioning.position_form();
  _commands.run(scsi::cdb::read_position(form), [this, form](const CommandResult& r) {
    KnownState state;
    if (r.classification.condition == scsi::TapeCondition::good) {
      if (auto p = scsi::parse_read_position(form, r.data)) {
        const auto& position = p.value();
        state.state = position_state(position);
        state.block_number = position.first_logical_object.value_or(0);
        state.file_number = position.logical_file.value_or(0);
      }
    }
    _commands.run(scsi::cdb::mode_sense6(0x0F), [this, state](const CommandResult& mode) mutable {
      if (mode.classification.condition == scsi::TapeCondition::good) {
        if (auto parsed = scsi::parse_mode_sense6(mode.data)) {
          const auto& p = parsed.value();
          if (p.header.write_protected) {
            state.state |= TS_STATE_WRITE_PROTECTED;
          }
          if (!p.block_descriptors.empty()) {
            state.block_size = p.block_descriptors.front().block_length;
            state.density_code = p.block_descriptors.front().density_code;
          }
          if (const auto* page = p.find_page(scsi::DataCompressionPage::code)) {
            if (auto c = scsi::DataCompressionPage::from(*page); c && c.value().compression_enabled()) {
              state.state |= TS_STATE_COMPRESSION;
            }
          }
        }
      }
      state_refreshed(state);
    });
  });
  return ticket;
}

void DriveSlot::state_refreshed(KnownState state) {
  state.when = Clock::now();
  _known = state;
  _refreshing = false;
  auto waiters = std::move(_state_waiters);
  _state_waiters.clear();
  for (auto& [ticket, done] : waiters) {
    done();
  }
}

}  // namespace tapestream::server
