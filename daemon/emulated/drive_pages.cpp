// The emulated drive's inquiry and parameter commands: INQUIRY, MODE SENSE and MODE SELECT,
// LOG SENSE, READ ATTRIBUTE and REPORT SUPPORTED OPERATION CODES.
#include <algorithm>

#include "emulated/emulated_drive.hpp"
#include "scsi/bytes.hpp"
#include "scsi/log_pages.hpp"
#include "scsi/mode_pages.hpp"

namespace tapestream::emulated {
namespace {

using scsi::Opcode;
using scsi::SenseKey;

Identity identity_of(const DriveSpec& spec) {
  return {"TAPESTRM", spec.null_medium ? "NULL DRIVE" : "EMULATED DRIVE", "0001", spec.serial};
}

}  // namespace

void EmulatedDrive::inquiry(const scsi::Command& c) {
  const bool vpd = (c.cdb[1] & 0x01) != 0;
  if (!vpd) {
    if (c.cdb[2] != 0) {
      check(SenseKey::illegal_request, 0x2400);
      return;
    }
    respond(standard_inquiry(identity_of(_spec)));
    return;
  }
  auto page = vpd_page(c.cdb[2], identity_of(_spec));
  if (!page) {
    check(SenseKey::illegal_request, 0x2400);
    return;
  }
  respond(*page);
}

void EmulatedDrive::mode_sense(const scsi::Command& c) {
  const bool ten = c.opcode() == Opcode::mode_sense10;
  const auto control = static_cast<std::uint8_t>(c.cdb[2] >> 6);
  auto response = emulated::mode_sense(ten, c.cdb[2] & 0x3F, c.cdb[3], control == 1,
                                       (c.cdb[1] & 0x08) != 0, mode_state());
  if (!response) {
    check(SenseKey::illegal_request, 0x2400);
    return;
  }
  respond(*response);
}

void EmulatedDrive::mode_select(const scsi::Command& c) {
  const bool ten = c.opcode() == Opcode::mode_select10;
  const std::size_t length = ten ? scsi::load_be16(c.cdb, 7) : c.cdb[4];
  if (length > data().size()) {
    transport_error();
    return;
  }
  if (length == 0) {
    good();
    return;
  }
  // The parameter list is laid out like MODE SENSE data, but its length field is reserved:
  // fill it in and let the SCSI layer's parser read it.
  Bytes list(data().begin(), data().begin() + static_cast<std::ptrdiff_t>(length));
  _transferred = length;
  if (ten && list.size() >= 2) {
    scsi::store_be(list, 0, list.size() - 2, 2);
  } else if (!ten) {
    list[0] = static_cast<std::uint8_t>(list.size() - 1);
  }
  auto parsed = ten ? scsi::parse_mode_sense10(list) : scsi::parse_mode_sense6(list);
  if (!parsed) {
    check(SenseKey::illegal_request, 0x1A00);  // PARAMETER LIST LENGTH ERROR
    return;
  }
  const auto& m = parsed.value();
  std::optional<std::uint32_t> block_length;
  if (!m.block_descriptors.empty()) {
    const auto requested = m.block_descriptors.front().block_length;
    if (requested != 0 && requested > _spec.max_block_length) {
      check(SenseKey::illegal_request, 0x2600);  // INVALID FIELD IN PARAMETER LIST
      return;
    }
    block_length = requested;
  }
  std::optional<bool> compression;
  std::optional<scsi::DataProtectionPage> protection;
  for (const auto& page : m.pages) {
    if (page.code == scsi::DataCompressionPage::code && !page.subpage) {
      auto p = scsi::DataCompressionPage::from(page);
      if (!p) {
        check(SenseKey::illegal_request, 0x2600);
        return;
      }
      compression = p.value().compression_enabled();
    } else if (page.code == scsi::DataProtectionPage::code &&
               page.subpage == scsi::DataProtectionPage::subpage &&
               _spec.logical_block_protection) {
      auto p = scsi::DataProtectionPage::from(page);
      using Method = scsi::DataProtectionPage::Method;
      if (!p || (p.value().method() != Method::none && p.value().method() != Method::crc32c) ||
          (p.value().method() == Method::crc32c && p.value().information_length() != 4)) {
        check(SenseKey::illegal_request, 0x2602);  // PARAMETER VALUE INVALID
        return;
      }
      protection = p.value();
    } else if (page.code != scsi::DeviceConfigurationPage::code || page.subpage) {
      check(SenseKey::illegal_request, 0x2600);
      return;
    }
  }
  // Nothing changes unless everything in the list was acceptable.
  _buffered_mode = m.header.buffered_mode;
  if (block_length) {
    _block_length = *block_length;
  }
  if (compression) {
    _compression = *compression;
  }
  if (protection) {
    _protection_method = static_cast<std::uint8_t>(protection->method());
    const bool on = protection->method() != scsi::DataProtectionPage::Method::none;
    _protect_write = on && protection->protect_write();
    _protect_read = on && protection->protect_read();
  }
  good();
}

void EmulatedDrive::log_sense(const scsi::Command& c) {
  const auto page = static_cast<std::uint8_t>(c.cdb[2] & 0x3F);
  LogCounters counters;
  counters.bytes_written = _bytes_written;
  counters.bytes_read = _bytes_read;
  counters.loads = _loads;
  counters.mb_written_load = _bytes_written_load / 1'000'000;
  counters.mb_read_load = _bytes_read_load / 1'000'000;
  counters.capacity_mb = _spec.capacity / 1'000'000;
  counters.used_mb = _index.end_offset() / 1'000'000;
  if (_model) {
    const auto m = model_counters();
    counters.model = LogCounters::Model{
        m.backhitches,
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(m.waited).count()),
        m.bytes_on_tape};
  }
  auto response = log_page(page, counters, _tape_alerts, _spec.medium_serial);
  if (!response || c.cdb[3] != 0) {
    check(SenseKey::illegal_request, 0x2400);
    return;
  }
  if (page == scsi::log_page::tape_alert) {
    _tape_alerts = 0;  // TapeAlert flags clear when read
  }
  respond(*response);
}

// After the CRCs were appended: a transfer error on the way back to the host.
void EmulatedDrive::corrupt_read_data(
    const std::vector<std::pair<std::uint64_t, std::uint32_t>>& pieces) {
  for (const auto& [at, length] : pieces) {
    if (_spec.corrupt_read && !_read_corrupted && *_spec.corrupt_read >= _data_read &&
        *_spec.corrupt_read - _data_read < length) {
      _read_corrupted = true;
      data()[at + (*_spec.corrupt_read - _data_read)] ^= 0xFF;
    }
    _data_read += length;
  }
}

void EmulatedDrive::count_written(std::uint64_t bytes) {
  _bytes_written += bytes;
  _bytes_written_load += bytes;
  const auto& fault = _spec.tape_alert;
  if (fault && !_tape_alert_raised && _bytes_written >= fault->after_bytes) {
    _tape_alerts |= std::uint64_t{1} << (fault->flag - 1);
    _tape_alert_raised = true;
  }
}

void EmulatedDrive::read_attribute(const scsi::Command& c) {
  if (!needs_medium()) {
    return;
  }
  if ((c.cdb[1] & 0x1F) != 0 || c.cdb[7] != 0) {
    check(SenseKey::illegal_request, 0x2400);  // attribute values of partition 0 only
    return;
  }
  const auto used = _index.end_offset();
  const auto remaining = _spec.capacity > used ? _spec.capacity - used : 0;
  respond(attribute_values(scsi::load_be16(c.cdb, 8), remaining >> 20, _spec.capacity >> 20,
                           _spec.medium_serial));
}

void EmulatedDrive::maintenance_in(const scsi::Command& c) {
  if ((c.cdb[1] & 0x1F) != 0x0C || (c.cdb[2] & 0x07) != 0) {
    check(SenseKey::illegal_request, 0x2400);  // only the all-commands form of RSOC
    return;
  }
  const bool with_timeouts = (c.cdb[2] & 0x80) != 0;
  static const std::vector<SupportedOpcode> supported{
      {0x00, {}, 6, 60},   {0x01, {}, 6, 600},  {0x03, {}, 6, 60},    {0x05, {}, 6, 60},
      {0x08, {}, 6, 900},  {0x0A, {}, 6, 900},  {0x10, {}, 6, 900},   {0x11, {}, 6, 1800},
      {0x12, {}, 6, 60},   {0x15, {}, 6, 60},   {0x19, {}, 6, 1800},  {0x1A, {}, 6, 60},
      {0x1B, {}, 6, 600},  {0x1E, {}, 6, 60},   {0x2B, {}, 10, 1800}, {0x34, 0x00, 10, 60},
      {0x34, 0x01, 10, 60}, {0x34, 0x06, 10, 60}, {0x34, 0x08, 10, 60}, {0x44, {}, 10, 60},
      {0x4D, {}, 10, 60},  {0x55, {}, 10, 60},  {0x5A, {}, 10, 60},   {0x8C, 0x00, 16, 60},
      {0x91, {}, 16, 1800}, {0x92, {}, 16, 1800}, {0xA3, 0x0C, 12, 60},
  };
  respond(supported_operation_codes(supported, with_timeouts));
}

ModeState EmulatedDrive::mode_state() const {
  ModeState s;
  s.write_protected = _spec.write_protected;
  s.buffered_mode = _buffered_mode;
  s.block_length = _block_length;
  s.compression = _compression;
  s.protection_method = _protection_method;
  s.protect_write = _protect_write;
  s.protect_read = _protect_read;
  s.protection_page = _spec.logical_block_protection;
  return s;
}

}  // namespace tapestream::emulated
