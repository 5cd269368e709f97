#include "scsi/mode_pages.hpp"

#include <algorithm>

#include "scsi/parse_error.hpp"

namespace tapestream::scsi {
namespace {

struct Layout {
  std::size_t header_size;
  std::size_t data_length;        // bytes of mode data actually present
  std::size_t descriptors_length;
};

ModeHeader header_fields(std::uint8_t medium_type, std::uint8_t device_specific) {
  ModeHeader h;
  h.medium_type = medium_type;
  h.write_protected = (device_specific & 0x80) != 0;
  h.buffered_mode = static_cast<std::uint8_t>((device_specific >> 4) & 0x07);
  h.speed = device_specific & 0x0F;
  return h;
}

Result<std::vector<BlockDescriptor>> parse_descriptors(ByteView d, bool long_lba) {
  const std::size_t size = long_lba ? 16 : 8;
  if (d.size() % size != 0) {
    return ParseError::bad_length;
  }
  std::vector<BlockDescriptor> out;
  for (std::size_t at = 0; at < d.size(); at += size) {
    BlockDescriptor b;
    if (long_lba) {
      b.number_of_blocks = load_be64(d, at);
      b.density_code = d[at + 8];
      b.block_length = load_be32(d, at + 12);
    } else {
      b.density_code = d[at];
      b.number_of_blocks = load_be24(d, at + 1);
      b.block_length = load_be24(d, at + 5);
    }
    out.push_back(b);
  }
  return out;
}

Result<std::vector<ModePage>> parse_pages(ByteView d) {
  std::vector<ModePage> pages;
  std::size_t at = 0;
  while (at + 2 <= d.size()) {
    ModePage p;
    p.savable = (d[at] & 0x80) != 0;
    p.code = d[at] & 0x3F;
    std::size_t size;
    if ((d[at] & 0x40) != 0) {  // SPF: sub-page format, 4-byte header
      if (at + 4 > d.size()) {
        return ParseError::truncated;
      }
      p.subpage = d[at + 1];
      size = 4U + load_be16(d, at + 2);
    } else {
      size = 2U + d[at + 1];
    }
    if (at + size > d.size()) {
      return ParseError::truncated;
    }
    p.bytes.assign(d.begin() + static_cast<std::ptrdiff_t>(at),
                   d.begin() + static_cast<std::ptrdiff_t>(at + size));
    pages.push_back(std::move(p));
    at += size;
  }
  return pages;
}

Result<ModeParameters> parse_body(ByteView data, const Layout& layout, ModeHeader header) {
  const auto present = data.first(std::min(layout.data_length, data.size()));
  if (layout.header_size + layout.descriptors_length > present.size()) {
    return ParseError::truncated;
  }
  ModeParameters m;
  m.header = header;
  BOOST_OUTCOME_TRY(descriptors,
                    parse_descriptors(present.subspan(layout.header_size, layout.descriptors_length),
                                      header.long_lba));
  m.block_descriptors = std::move(descriptors);
  BOOST_OUTCOME_TRY(pages,
                    parse_pages(present.subspan(layout.header_size + layout.descriptors_length)));
  m.pages = std::move(pages);
  return m;
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> copy_page(const ModePage& page, std::uint8_t code,
                                              std::size_t minimum) {
  if (page.code != code) {
    return ParseError::wrong_page;
  }
  if (page.bytes.size() < minimum) {
    return ParseError::truncated;
  }
  std::array<std::uint8_t, N> out{};
  std::copy_n(page.bytes.begin(), std::min(N, page.bytes.size()), out.begin());
  out[0] &= 0x7F;  // PS is reserved in MODE SELECT
  return out;
}

void set_bit(std::uint8_t& byte, std::uint8_t mask, bool value) {
  byte = static_cast<std::uint8_t>(value ? (byte | mask) : (byte & ~mask));
}

Result<std::vector<std::uint8_t>> select_parameters(
    std::size_t header_size, std::size_t limit, std::optional<BlockDescriptor> descriptor,
    std::span<const std::span<const std::uint8_t>> pages, std::uint8_t buffered_mode) {
  std::vector<std::uint8_t> out(header_size, 0);
  const std::uint8_t device_specific = static_cast<std::uint8_t>((buffered_mode & 0x07) << 4);
  out[header_size == 4 ? 2 : 3] = device_specific;
  if (descriptor) {
    out[header_size - 1] = 8;  // block descriptor length
    std::array<std::uint8_t, 8> d{};
    d[0] = descriptor->density_code;
    if (descriptor->block_length > 0xFF'FFFF || descriptor->number_of_blocks > 0xFF'FFFF) {
      return ParseError::bad_length;
    }
    store_be(d, 1, descriptor->number_of_blocks, 3);
    store_be(d, 5, descriptor->block_length, 3);
    out.insert(out.end(), d.begin(), d.end());
  }
  for (auto page : pages) {
    out.insert(out.end(), page.begin(), page.end());
  }
  if (out.size() > limit) {
    return ParseError::bad_length;
  }
  return out;
}

}  // namespace

const ModePage* ModeParameters::find_page(std::uint8_t code,
                                          std::optional<std::uint8_t> subpage) const {
  for (const auto& p : pages) {
    if (p.code == code && p.subpage == subpage) {
      return &p;
    }
  }
  return nullptr;
}

Result<ModeParameters> parse_mode_sense6(ByteView data) {
  if (data.size() < 4) {
    return ParseError::truncated;
  }
  const Layout layout{4, 1U + data[0], data[3]};
  return parse_body(data, layout, header_fields(data[1], data[2]));
}

Result<ModeParameters> parse_mode_sense10(ByteView data) {
  if (data.size() < 8) {
    return ParseError::truncated;
  }
  const Layout layout{8, 2U + load_be16(data, 0), load_be16(data, 6)};
  auto header = header_fields(data[2], data[3]);
  header.long_lba = (data[4] & 0x01) != 0;
  return parse_body(data, layout, header);
}

Result<DataCompressionPage> DataCompressionPage::from(const ModePage& page) {
  DataCompressionPage p;
  BOOST_OUTCOME_TRY(bytes, copy_page<16>(page, code, 16));
  p._bytes = bytes;
  return p;
}

DataCompressionPage DataCompressionPage::make(bool compression_enabled) {
  DataCompressionPage p;
  p._bytes[0] = code;
  p._bytes[1] = 0x0E;
  p._bytes[3] = 0x80;  // DDE: always decompress what we read
  p.set_compression_enabled(compression_enabled);
  return p;
}

void DataCompressionPage::set_compression_enabled(bool enabled) {
  set_bit(_bytes[2], 0x80, enabled);
}

Result<DeviceConfigurationPage> DeviceConfigurationPage::from(const ModePage& page) {
  DeviceConfigurationPage p;
  BOOST_OUTCOME_TRY(bytes, copy_page<16>(page, code, 16));
  p._bytes = bytes;
  return p;
}

void DeviceConfigurationPage::set_synchronize_at_early_warning(bool enabled) {
  set_bit(_bytes[10], 0x08, enabled);
}

void DeviceConfigurationPage::set_select_data_compression_algorithm(std::uint8_t algorithm) {
  _bytes[14] = algorithm;
}

Result<DataProtectionPage> DataProtectionPage::from(const ModePage& page) {
  if (page.subpage != subpage) {
    return ParseError::wrong_page;
  }
  DataProtectionPage p;
  BOOST_OUTCOME_TRY(bytes, copy_page<32>(page, code, 8));
  p._bytes = bytes;
  p._size = std::min(page.bytes.size(), p._bytes.size());
  return p;
}

DataProtectionPage DataProtectionPage::make(Method method, bool on_write, bool on_read) {
  DataProtectionPage p;
  p._bytes[0] = 0x40 | code;  // SPF
  p._bytes[1] = subpage;
  p._bytes[3] = 0x1C;
  p._bytes[4] = static_cast<std::uint8_t>(method);
  p._bytes[5] = method == Method::none ? 0 : 4;  // both methods append a 4-byte CRC
  p._bytes[6] = static_cast<std::uint8_t>((on_write ? 0x80 : 0) | (on_read ? 0x40 : 0));
  return p;
}

Result<std::vector<std::uint8_t>> mode_select6_parameters(
    std::optional<BlockDescriptor> descriptor, std::span<const std::span<const std::uint8_t>> pages,
    std::uint8_t buffered_mode) {
  return select_parameters(4, 0xFF, descriptor, pages, buffered_mode);
}

Result<std::vector<std::uint8_t>> mode_select10_parameters(
    std::optional<BlockDescriptor> descriptor, std::span<const std::span<const std::uint8_t>> pages,
    std::uint8_t buffered_mode) {
  return select_parameters(8, 0xFFFF, descriptor, pages, buffered_mode);
}

}  // namespace tapestream::scsi
