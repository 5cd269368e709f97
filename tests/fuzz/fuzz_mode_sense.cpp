// MODE SENSE(6) and (10) responses, and the pages tapestream reads back and sends again.
#include <cstddef>
#include <cstdint>
#include <span>

#include "scsi/mode_pages.hpp"

using namespace tapestream::scsi;

namespace {

void exercise(const ModeParameters& m) {
  if (const auto* page = m.find_page(DataCompressionPage::code)) {
    if (auto p = DataCompressionPage::from(*page)) {
      auto copy = p.value();
      copy.set_compression_enabled(!copy.compression_enabled());
      const std::span<const std::uint8_t> pages[] = {copy.bytes()};
      (void)mode_select6_parameters(m.block_descriptors.empty()
                                        ? std::nullopt
                                        : std::optional{m.block_descriptors.front()},
                                    pages);
    }
  }
  if (const auto* page = m.find_page(DeviceConfigurationPage::code)) {
    if (auto p = DeviceConfigurationPage::from(*page)) {
      (void)p.value().buffer_size_at_early_warning();
    }
  }
  if (const auto* page = m.find_page(DataProtectionPage::code, DataProtectionPage::subpage)) {
    if (auto p = DataProtectionPage::from(*page)) {
      const std::span<const std::uint8_t> pages[] = {p.value().bytes()};
      (void)mode_select10_parameters(std::nullopt, pages);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView bytes{data, size};
  if (auto m = parse_mode_sense6(bytes)) {
    exercise(m.value());
  }
  if (auto m = parse_mode_sense10(bytes)) {
    exercise(m.value());
  }
  return 0;
}
