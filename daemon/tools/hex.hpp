// Hex byte strings as admins paste them from kernel logs and sg3_utils output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "scsi/bytes.hpp"

namespace tapestream::tools {

// Accepts "70 00 08 00", "70000800", "0x70,0x00" and "70:00:08"; at most max_bytes bytes.
// Errors: std::errc::invalid_argument (not hex, or an odd digit count),
// std::errc::value_too_large (more than max_bytes).
Result<std::vector<std::uint8_t>> parse_hex(std::string_view text, std::size_t max_bytes);

std::string to_hex(scsi::ByteView bytes);

}  // namespace tapestream::tools
