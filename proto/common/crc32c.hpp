// CRC32C (Castagnoli), the checksum of SSC Logical Block Protection method 2: hardware
// instruction where the CPU has SSE4.2, a table otherwise.
#pragma once

#include <cstdint>
#include <span>

namespace tapestream {

std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc = 0);

}  // namespace tapestream
