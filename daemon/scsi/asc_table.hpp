// Text for additional sense codes (ASC/ASCQ), for logs and for the client's error messages.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tapestream::scsi {

struct AscText {
  std::uint8_t asc;
  std::uint8_t ascq;
  const char* text;
};

// The whole table, sorted by ASC then ASCQ.
std::span<const AscText> asc_table();

// The standard's text for an exact assignment, if the table has it.
std::optional<std::string_view> find_asc_text(std::uint8_t asc, std::uint8_t ascq);

// Always some text: the standard's, a parameterised one (40h/NNh, 4Dh/NNh, 70h/NNh), or one
// that names the codes as vendor specific or unknown.
std::string describe_asc(std::uint8_t asc, std::uint8_t ascq);

}  // namespace tapestream::scsi
