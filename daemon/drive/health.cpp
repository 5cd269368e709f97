#include "drive/health.hpp"

namespace tapestream::drive {
namespace {

std::optional<std::uint64_t> counter(const scsi::LogPage& page, std::uint16_t code) {
  const auto* p = page.find(code);
  return p != nullptr ? p->as_integer() : std::nullopt;
}

}  // namespace

void take_volume_statistics(const scsi::LogPage& page, MediumHealth& health) {
  if (page.code != scsi::log_page::volume_statistics) {
    return;
  }
  auto& s = health.statistics;
  s.loads = counter(page, 0x0001);
  s.write_retries = counter(page, 0x0003);
  s.write_errors = counter(page, 0x0004);
  s.read_retries = counter(page, 0x0008);
  s.read_errors = counter(page, 0x0009);
  s.mb_written_load = counter(page, 0x000E);
  s.mb_read_load = counter(page, 0x000F);
  s.mb_written_life = counter(page, 0x0010);
  s.mb_read_life = counter(page, 0x0011);
}

void take_drive_model(const scsi::LogPage& page, MediumHealth& health) {
  if (page.code != scsi::log_page::drive_model) {
    return;
  }
  health.backhitches = counter(page, 0x0001);
  health.starved_ms = counter(page, 0x0002);
}

void take_sequential_access(const scsi::LogPage& page, MediumHealth& health) {
  if (page.code != scsi::log_page::sequential_access) {
    return;
  }
  if (auto v = counter(page, 0x0100)) {
    health.cleaning_action_required = *v != 0;
  }
}

void take_attributes(const std::vector<scsi::Attribute>& attributes, MediumHealth& health) {
  if (const auto* a = scsi::find_attribute(attributes, scsi::attribute_id::remaining_capacity)) {
    health.remaining_mib = a->as_integer();
  }
  if (const auto* a = scsi::find_attribute(attributes, scsi::attribute_id::maximum_capacity)) {
    health.capacity_mib = a->as_integer();
  }
  if (const auto* a = scsi::find_attribute(attributes, scsi::attribute_id::medium_serial_number)) {
    if (auto text = a->as_text(); !text.empty()) {
      health.medium_serial = std::move(text);
    }
  }
}

void KeptTapeAlerts::add(scsi::TapeAlerts read, std::uint64_t medium_generation) {
  if (_generation != medium_generation) {
    _flags.reset();
    _generation = medium_generation;
  }
  _flags |= read;
}

std::optional<scsi::TapeAlerts> KeptTapeAlerts::current(std::uint64_t medium_generation) const {
  if (_generation != medium_generation) {
    return std::nullopt;
  }
  return _flags;
}

bool cleaning_requested(const scsi::TapeAlerts& alerts) {
  return alerts.test(19) || alerts.test(20) || alerts.test(21);
}

}  // namespace tapestream::drive
