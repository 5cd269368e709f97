// MODE SENSE responses and MODE SELECT parameter lists: the header, the block descriptor
// (density and block length) and the three pages tapestream changes. Pages keep the drive's
// own bytes, so that sending one back changes only the fields we set.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "scsi/bytes.hpp"

namespace tapestream::scsi {

struct ModeHeader {
  std::uint8_t medium_type = 0;
  bool write_protected = false;    // WP
  std::uint8_t buffered_mode = 0;  // 0: unbuffered, 1: buffered (what a streaming drive needs)
  std::uint8_t speed = 0;
  bool long_lba = false;           // MODE SENSE(10) with 16-byte descriptors
};

struct BlockDescriptor {
  std::uint8_t density_code = 0;
  std::uint64_t number_of_blocks = 0;
  std::uint32_t block_length = 0;  // 0: variable-block mode
};

struct ModePage {
  std::uint8_t code = 0;
  std::optional<std::uint8_t> subpage;  // SPF pages only
  bool savable = false;                 // PS
  std::vector<std::uint8_t> bytes;      // the whole page, header included
};

struct ModeParameters {
  ModeHeader header;
  std::vector<BlockDescriptor> block_descriptors;
  std::vector<ModePage> pages;

  const ModePage* find_page(std::uint8_t code, std::optional<std::uint8_t> subpage = {}) const;
};

Result<ModeParameters> parse_mode_sense6(ByteView data);
Result<ModeParameters> parse_mode_sense10(ByteView data);

// Data Compression mode page (0Fh).
class DataCompressionPage {
 public:
  static constexpr std::uint8_t code = 0x0F;
  static Result<DataCompressionPage> from(const ModePage& page);
  static DataCompressionPage make(bool compression_enabled);

  bool compression_enabled() const { return (_bytes[2] & 0x80) != 0; }    // DCE
  bool compression_capable() const { return (_bytes[2] & 0x40) != 0; }    // DCC
  bool decompression_enabled() const { return (_bytes[3] & 0x80) != 0; }  // DDE
  std::uint32_t compression_algorithm() const { return load_be32(_bytes, 4); }
  std::uint32_t decompression_algorithm() const { return load_be32(_bytes, 8); }
  void set_compression_enabled(bool enabled);
  // What MODE SELECT sends: the page with PS cleared.
  std::span<const std::uint8_t> bytes() const { return _bytes; }

 private:
  std::array<std::uint8_t, 16> _bytes{};
};

// Device Configuration mode page (10h).
class DeviceConfigurationPage {
 public:
  static constexpr std::uint8_t code = 0x10;
  static Result<DeviceConfigurationPage> from(const ModePage& page);

  std::uint8_t active_partition() const { return _bytes[3]; }
  std::uint8_t write_buffer_full_ratio() const { return _bytes[4]; }
  std::uint8_t read_buffer_empty_ratio() const { return _bytes[5]; }
  std::uint16_t write_delay_time() const { return load_be16(_bytes, 6); }  // 100 ms units
  bool logical_object_identifiers_supported() const { return (_bytes[8] & 0x40) != 0; }  // LOIS
  bool report_early_warning() const { return (_bytes[8] & 0x01) != 0; }  // REW
  std::uint8_t eod_defined() const { return static_cast<std::uint8_t>(_bytes[10] >> 5); }
  bool synchronize_at_early_warning() const { return (_bytes[10] & 0x08) != 0; }  // SEW
  bool software_write_protect() const { return (_bytes[10] & 0x04) != 0; }        // SWP
  std::uint32_t buffer_size_at_early_warning() const { return load_be24(_bytes, 11); }
  std::uint8_t select_data_compression_algorithm() const { return _bytes[14]; }
  void set_synchronize_at_early_warning(bool enabled);
  void set_select_data_compression_algorithm(std::uint8_t algorithm);
  std::span<const std::uint8_t> bytes() const { return _bytes; }

 private:
  std::array<std::uint8_t, 16> _bytes{};
};

// Control Data Protection mode page (0Ah, subpage F0h): Logical Block Protection.
class DataProtectionPage {
 public:
  static constexpr std::uint8_t code = 0x0A;
  static constexpr std::uint8_t subpage = 0xF0;
  enum class Method : std::uint8_t { none = 0, reed_solomon_crc = 1, crc32c = 2 };

  static Result<DataProtectionPage> from(const ModePage& page);
  static DataProtectionPage make(Method method, bool on_write, bool on_read);

  Method method() const { return static_cast<Method>(_bytes[4]); }
  std::uint8_t information_length() const { return _bytes[5] & 0x3F; }
  bool protect_write() const { return (_bytes[6] & 0x80) != 0; }       // LBP_W
  bool protect_read() const { return (_bytes[6] & 0x40) != 0; }        // LBP_R
  bool recover_buffered_data() const { return (_bytes[6] & 0x20) != 0; }  // RBDP
  std::span<const std::uint8_t> bytes() const { return {_bytes.data(), _size}; }

 private:
  std::array<std::uint8_t, 32> _bytes{};
  std::size_t _size = 32;  // drives may return the page shorter than SSC-4's 32 bytes
};

// The parameter list of MODE SELECT: header, an optional block descriptor, the pages.
// buffered_mode is sent explicitly because a header of zeros would switch the drive to
// unbuffered mode, which stops it from streaming.
Result<std::vector<std::uint8_t>> mode_select6_parameters(
    std::optional<BlockDescriptor> descriptor, std::span<const std::span<const std::uint8_t>> pages,
    std::uint8_t buffered_mode = 1);
Result<std::vector<std::uint8_t>> mode_select10_parameters(
    std::optional<BlockDescriptor> descriptor, std::span<const std::span<const std::uint8_t>> pages,
    std::uint8_t buffered_mode = 1);

}  // namespace tapestream::scsi
