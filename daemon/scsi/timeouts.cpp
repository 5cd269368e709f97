#include "scsi/timeouts.hpp"

#include <algorithm>

#include "scsi/parse_error.hpp"

namespace tapestream::scsi {
namespace {

constexpr std::size_t descriptor_size = 8;
constexpr std::size_t timeouts_descriptor_size = 12;

std::size_t class_index(TimeoutClass c) { return static_cast<std::size_t>(c); }

}  // namespace

Result<std::vector<SupportedCommand>> parse_supported_operation_codes(ByteView data) {
  if (data.size() < 4) {
    return ParseError::truncated;
  }
  // The data length may exceed what fits the allocation length: parse what arrived.
  const std::size_t end = std::min<std::size_t>(data.size(), 4 + std::size_t{load_be32(data, 0)});
  std::vector<SupportedCommand> commands;
  std::size_t at = 4;
  while (at + descriptor_size <= end) {
    SupportedCommand c;
    c.opcode = data[at];
    const bool has_service_action = (data[at + 5] & 0x01) != 0;
    const bool has_timeouts = (data[at + 5] & 0x02) != 0;
    if (has_service_action) {
      c.service_action = load_be16(data, at + 2);
    }
    c.cdb_length = load_be16(data, at + 6);
    at += descriptor_size;
    if (has_timeouts) {
      if (at + timeouts_descriptor_size > end) {
        break;  // cut off by the allocation length; keep what is complete
      }
      if (load_be16(data, at) != 0x0A) {
        return ParseError::bad_length;
      }
      c.nominal_timeout = load_be32(data, at + 4);
      c.recommended_timeout = load_be32(data, at + 8);
      at += timeouts_descriptor_size;
    }
    commands.push_back(c);
  }
  return commands;
}

TimeoutTable TimeoutTable::lto_defaults() {
  using std::chrono::hours;
  using std::chrono::minutes;
  TimeoutTable t;
  t._by_class[class_index(TimeoutClass::quick)] = minutes{1};
  t._by_class[class_index(TimeoutClass::data)] = minutes{30};
  t._by_class[class_index(TimeoutClass::filemark)] = minutes{30};
  t._by_class[class_index(TimeoutClass::rewind)] = minutes{15};
  t._by_class[class_index(TimeoutClass::load)] = hours{3};  // LTO-9 media optimisation
  t._by_class[class_index(TimeoutClass::unload)] = minutes{15};
  t._by_class[class_index(TimeoutClass::position)] = minutes{50};
  t._by_class[class_index(TimeoutClass::erase_short)] = minutes{15};
  t._by_class[class_index(TimeoutClass::erase_long)] = hours{24};
  return t;
}

TimeoutTable::Seconds TimeoutTable::timeout_for(const Command& command) const {
  const auto op = command.cdb[0];
  const auto sa = command.service_action();
  for (const auto& o : _overrides) {
    if (o.opcode == op && (!o.service_action || o.service_action == sa)) {
      return o.timeout;
    }
  }
  return class_default(command.timeout_class);
}

TimeoutTable::Seconds TimeoutTable::class_default(TimeoutClass timeout_class) const {
  return _by_class[class_index(timeout_class)];
}

void TimeoutTable::set_class_default(TimeoutClass timeout_class, Seconds timeout) {
  _by_class[class_index(timeout_class)] = timeout;
}

std::size_t TimeoutTable::adopt_drive_timeouts(std::span<const SupportedCommand> commands) {
  std::size_t adopted = 0;
  for (const auto& c : commands) {
    if (!c.recommended_timeout || *c.recommended_timeout == 0) {
      continue;
    }
    const Seconds timeout{*c.recommended_timeout};
    auto same = [&](const Override& o) {
      return o.opcode == c.opcode && o.service_action == c.service_action;
    };
    if (auto it = std::find_if(_overrides.begin(), _overrides.end(), same);
        it != _overrides.end()) {
      it->timeout = timeout;
    } else {
      _overrides.push_back({c.opcode, c.service_action, timeout});
    }
    ++adopted;
  }
  return adopted;
}

}  // namespace tapestream::scsi
