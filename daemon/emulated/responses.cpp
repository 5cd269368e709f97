#include "emulated/responses.hpp"

#include <algorithm>

#include "scsi/bytes.hpp"

namespace tapestream::emulated {
namespace {

constexpr std::uint8_t density_code = 0x80;  // vendor-unique range: no real format

void put(Bytes& b, std::uint64_t value, std::size_t width) {
  const auto at = b.size();
  b.resize(at + width);
  scsi::store_be(b, at, value, width);
}

void put_text(Bytes& b, std::string_view text, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) {
    b.push_back(static_cast<std::uint8_t>(i < text.size() ? text[i] : ' '));
  }
}

void set_be(Bytes& b, std::size_t at, std::uint64_t value, std::size_t width) {
  scsi::store_be(b, at, value, width);
}

Bytes compression_page(const ModeState& s, bool changeable) {
  Bytes p{0x0F, 0x0E, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  if (changeable) {
    p[2] = 0x80;  // DCE
    return p;
  }
  p[0] |= 0x80;  // PS
  p[2] = static_cast<std::uint8_t>((s.compression ? 0x80 : 0) | 0x40);  // DCE, DCC
  p[3] = 0x80;                                                          // DDE
  set_be(p, 4, 1, 4);  // algorithm 1: the default one
  set_be(p, 8, 1, 4);
  return p;
}

Bytes device_configuration_page(bool changeable) {
  Bytes p(16, 0);
  p[0] = changeable ? 0x10 : 0x90;
  p[1] = 0x0E;
  if (!changeable) {
    p[8] = 0x40;   // LOIS: logical object identifiers supported
    p[10] = 0x18;  // EEG, SEW
    p[14] = 0x01;  // default compression algorithm
  }
  return p;
}

Bytes protection_page(const ModeState& s, bool changeable) {
  Bytes p(32, 0);
  p[0] = 0x4A;
  p[1] = 0xF0;
  p[3] = 0x1C;
  if (changeable) {
    p[4] = 0xFF;
    p[5] = 0x3F;
    p[6] = 0xE0;
    return p;
  }
  p[0] |= 0x80;
  p[4] = s.protection_method;
  p[5] = s.protection_method == 0 ? 0 : 4;
  p[6] = static_cast<std::uint8_t>((s.protect_write ? 0x80 : 0) | (s.protect_read ? 0x40 : 0));
  return p;
}

void add_log_parameter(Bytes& b, std::uint16_t code, std::uint8_t control, const Bytes& value) {
  put(b, code, 2);
  b.push_back(control);
  b.push_back(static_cast<std::uint8_t>(value.size()));
  b.insert(b.end(), value.begin(), value.end());
}

Bytes be_value(std::uint64_t value, std::size_t width) {
  Bytes v(width);
  scsi::store_be(v, 0, value, width);
  return v;
}

Bytes with_log_header(std::uint8_t page, const Bytes& parameters) {
  Bytes b{page, 0};
  put(b, parameters.size(), 2);
  b.insert(b.end(), parameters.begin(), parameters.end());
  return b;
}

}  // namespace

std::array<std::uint8_t, 18> fixed_sense(scsi::SenseKey key, std::uint16_t asc_ascq,
                                         SenseFlags flags, std::optional<std::int32_t> information) {
  std::array<std::uint8_t, 18> s{};
  s[0] = static_cast<std::uint8_t>(0x70 | (information ? 0x80 : 0));
  s[2] = static_cast<std::uint8_t>((flags.filemark ? 0x80 : 0) | (flags.end_of_medium ? 0x40 : 0) |
                                   (flags.incorrect_length ? 0x20 : 0) |
                                   static_cast<std::uint8_t>(key));
  if (information) {
    scsi::store_be(s, 3, static_cast<std::uint32_t>(*information), 4);
  }
  s[7] = 10;
  s[12] = static_cast<std::uint8_t>(asc_ascq >> 8);
  s[13] = static_cast<std::uint8_t>(asc_ascq);
  return s;
}

Bytes standard_inquiry(const Identity& id) {
  Bytes b{id.device_type, 0x80, 0x06, 0x12, 0, 0x00, 0x00, 0x02};  // removable, SPC-4, HiSup
  put_text(b, id.vendor, 8);
  put_text(b, id.product, 16);
  put_text(b, id.revision, 4);
  put_text(b, id.serial, 20);
  b.resize(96, 0);
  b[4] = static_cast<std::uint8_t>(b.size() - 5);
  return b;
}

std::optional<Bytes> vpd_page(std::uint8_t page, const Identity& id) {
  Bytes body;
  switch (page) {
    case 0x00:
      body = {0x00, 0x80, 0x83};
      break;
    case 0x80:
      put_text(body, id.serial, id.serial.size());
      break;
    case 0x83: {
      // T10 vendor identification: vendor, product, serial.
      Bytes designator;
      put_text(designator, id.vendor, 8);
      put_text(designator, id.product, 16);
      put_text(designator, id.serial, id.serial.size());
      body = {0x02, 0x01, 0x00, static_cast<std::uint8_t>(designator.size())};
      body.insert(body.end(), designator.begin(), designator.end());
      break;
    }
    default:
      return std::nullopt;
  }
  Bytes b{id.device_type, page};
  put(b, body.size(), 2);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

Bytes block_limits(std::uint32_t maximum, std::uint16_t minimum) {
  Bytes b{0};
  put(b, maximum, 3);
  put(b, minimum, 2);
  return b;
}

Bytes read_position(scsi::cdb::ReadPositionForm form, const PositionState& p) {
  using Form = scsi::cdb::ReadPositionForm;
  const std::uint8_t flags = static_cast<std::uint8_t>((p.beginning ? 0x80 : 0) |
                                                       (p.beyond_early_warning ? 0x41 : 0));
  Bytes b;
  switch (form) {
    case Form::short_block_id:
    case Form::short_vendor:
      b = Bytes(20, 0);
      b[0] = p.object > 0xFFFF'FFFF ? static_cast<std::uint8_t>(flags | 0x04 | 0x02) : flags;
      set_be(b, 4, p.object & 0xFFFF'FFFF, 4);
      set_be(b, 8, (p.object - p.buffered_objects) & 0xFFFF'FFFF, 4);
      set_be(b, 13, std::min<std::uint64_t>(p.buffered_objects, 0xFF'FFFF), 3);
      set_be(b, 16, std::min<std::uint64_t>(p.buffered_bytes, 0xFFFF'FFFF), 4);
      break;
    case Form::long_form:
      b = Bytes(32, 0);
      b[0] = static_cast<std::uint8_t>(flags & 0xC1);
      set_be(b, 8, p.object, 8);
      set_be(b, 16, p.file, 8);
      break;
    case Form::extended:
      b = Bytes(32, 0);
      b[0] = flags;
      b[3] = 0x1C;
      set_be(b, 5, std::min<std::uint64_t>(p.buffered_objects, 0xFF'FFFF), 3);
      set_be(b, 8, p.object, 8);
      set_be(b, 16, p.object - p.buffered_objects, 8);
      set_be(b, 24, p.buffered_bytes, 8);
      break;
  }
  return b;
}

std::optional<Bytes> mode_sense(bool ten_byte, std::uint8_t page, std::uint8_t subpage,
                                bool changeable, bool disable_block_descriptors,
                                const ModeState& state) {
  Bytes pages;
  auto add = [&pages](const Bytes& p) { pages.insert(pages.end(), p.begin(), p.end()); };
  if (page == 0x0F && subpage == 0) {
    add(compression_page(state, changeable));
  } else if (page == 0x10 && subpage == 0) {
    add(device_configuration_page(changeable));
  } else if (page == 0x0A && subpage == 0xF0 && state.protection_page) {
    add(protection_page(state, changeable));
  } else if (page == 0x3F && (subpage == 0 || subpage == 0xFF)) {
    add(compression_page(state, changeable));
    add(device_configuration_page(changeable));
    if (subpage == 0xFF && state.protection_page) {
      add(protection_page(state, changeable));
    }
  } else {
    return std::nullopt;
  }
  Bytes descriptor;
  if (!disable_block_descriptors) {
    descriptor = Bytes(8, 0);
    if (!changeable) {
      descriptor[0] = state.density_code != 0 ? state.density_code : density_code;
      set_be(descriptor, 5, state.block_length, 3);
    } else {
      set_be(descriptor, 5, 0xFF'FFFF, 3);  // the block length may change
    }
  }
  const std::uint8_t device_specific =
      changeable ? 0
                 : static_cast<std::uint8_t>((state.write_protected ? 0x80 : 0) |
                                             ((state.buffered_mode & 0x07) << 4));
  return mode_parameter_list(ten_byte, device_specific, descriptor, pages);
}

Bytes mode_parameter_list(bool ten_byte, std::uint8_t device_specific, const Bytes& descriptor,
                          const Bytes& pages) {
  Bytes b;
  if (ten_byte) {
    b = {0, 0, 0, device_specific, 0, 0};
    put(b, descriptor.size(), 2);
  } else {
    b = {0, 0, device_specific, static_cast<std::uint8_t>(descriptor.size())};
  }
  b.insert(b.end(), descriptor.begin(), descriptor.end());
  b.insert(b.end(), pages.begin(), pages.end());
  if (ten_byte) {
    set_be(b, 0, b.size() - 2, 2);
  } else {
    b[0] = static_cast<std::uint8_t>(b.size() - 1);
  }
  return b;
}

std::optional<Bytes> log_page(std::uint8_t page, const LogCounters& counters,
                              std::uint64_t tape_alerts, std::string_view medium_serial) {
  Bytes parameters;
  switch (page) {
    case 0x00:
      parameters = {0x00, 0x0C, 0x17, 0x2E};
      if (counters.model) {
        parameters.push_back(0x3C);
      }
      break;
    case 0x3C:  // vendor-specific: the drive model's counters since the drive was opened
      if (!counters.model) {
        return std::nullopt;
      }
      add_log_parameter(parameters, 0x0001, 0x03, be_value(counters.model->backhitches, 8));
      add_log_parameter(parameters, 0x0002, 0x03, be_value(counters.model->waited_ms, 8));
      add_log_parameter(parameters, 0x0003, 0x03, be_value(counters.model->bytes_on_tape, 8));
      break;
    case 0x0C:
      add_log_parameter(parameters, 0x0000, 0x60, be_value(counters.bytes_written, 8));
      add_log_parameter(parameters, 0x0001, 0x60, be_value(counters.bytes_written, 8));
      add_log_parameter(parameters, 0x0002, 0x60, be_value(counters.bytes_read, 8));
      add_log_parameter(parameters, 0x0003, 0x60, be_value(counters.bytes_read, 8));
      add_log_parameter(parameters, 0x0004, 0x60, be_value(counters.used_mb, 4));
      add_log_parameter(parameters, 0x0100, 0x03, be_value(0, 2));
      break;
    case 0x17: {
      add_log_parameter(parameters, 0x0001, 0x03, be_value(counters.loads, 4));
      add_log_parameter(parameters, 0x000E, 0x03, be_value(counters.mb_written_load, 4));
      add_log_parameter(parameters, 0x000F, 0x03, be_value(counters.mb_read_load, 4));
      add_log_parameter(parameters, 0x0016, 0x03, be_value(counters.capacity_mb, 4));
      add_log_parameter(parameters, 0x0017, 0x03, be_value(counters.used_mb, 4));
      Bytes serial;
      put_text(serial, medium_serial, 32);
      add_log_parameter(parameters, 0x0040, 0x01, serial);
      break;
    }
    case 0x2E:
      for (std::uint16_t flag = 1; flag <= 64; ++flag) {
        const bool on = ((tape_alerts >> (flag - 1)) & 1U) != 0;
        add_log_parameter(parameters, flag, 0x03, Bytes{static_cast<std::uint8_t>(on ? 1 : 0)});
      }
      break;
    default:
      return std::nullopt;
  }
  return with_log_header(page, parameters);
}

Bytes attribute_values(std::uint16_t first, std::uint64_t remaining_mib, std::uint64_t maximum_mib,
                       std::string_view medium_serial) {
  Bytes body;
  auto add = [&](std::uint16_t id, std::uint8_t format, const Bytes& value) {
    if (id < first) {
      return;
    }
    put(body, id, 2);
    body.push_back(static_cast<std::uint8_t>(0x80 | format));  // read only
    put(body, value.size(), 2);
    body.insert(body.end(), value.begin(), value.end());
  };
  add(0x0000, 0x00, be_value(remaining_mib, 8));
  add(0x0001, 0x00, be_value(maximum_mib, 8));
  Bytes serial;
  put_text(serial, medium_serial, 32);
  add(0x0401, 0x01, serial);
  Bytes b;
  put(b, body.size(), 4);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

Bytes density_support(std::uint64_t capacity_mb) {
  Bytes d(52, 0);
  d[0] = density_code;
  d[1] = density_code;
  d[2] = 0x80 | 0x20 | 0x01;  // WRTOK, DEFLT, DLV
  set_be(d, 3, 0x31, 2);
  set_be(d, 12, std::min<std::uint64_t>(capacity_mb, 0xFFFF'FFFF), 4);
  const std::string_view org = "TAPESTRM";
  const std::string_view name = "SIMH";
  const std::string_view description = "emulated SIMH image";
  std::copy(org.begin(), org.end(), d.begin() + 16);
  std::fill(d.begin() + 24, d.begin() + 52, ' ');
  std::copy(name.begin(), name.end(), d.begin() + 24);
  std::copy(description.begin(), description.end(), d.begin() + 32);
  Bytes b;
  put(b, d.size() + 2, 2);
  b.push_back(0);
  b.push_back(0);
  b.insert(b.end(), d.begin(), d.end());
  return b;
}

Bytes supported_operation_codes(const std::vector<SupportedOpcode>& ops, bool with_timeouts) {
  Bytes body;
  for (const auto& op : ops) {
    body.push_back(op.opcode);
    body.push_back(0);
    put(body, op.service_action.value_or(0), 2);
    body.push_back(0);
    body.push_back(static_cast<std::uint8_t>((op.service_action ? 0x01 : 0) |
                                             (with_timeouts ? 0x02 : 0)));
    put(body, op.cdb_length, 2);
    if (with_timeouts) {
      put(body, 0x0A, 2);
      body.push_back(0);
      body.push_back(0);
      put(body, op.timeout_seconds / 2, 4);
      put(body, op.timeout_seconds, 4);
    }
  }
  Bytes b;
  put(b, body.size(), 4);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

}  // namespace tapestream::emulated
