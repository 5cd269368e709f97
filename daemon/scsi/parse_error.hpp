// Why a drive's response could not be parsed. Responses are untrusted input: every parser
// returns one of these instead of reading past what the drive sent.
#pragma once

#include <system_error>
#include <type_traits>

#include "common/result.hpp"

namespace tapestream::scsi {

enum class ParseError {
  truncated = 1,       // shorter than the fixed part of the structure
  wrong_page,          // a page or form other than the one asked for
  bad_length,          // a length field that contradicts the structure
  unsupported_format,  // a format this parser does not know (e.g. vendor-specific sense)
};

const std::error_category& parse_error_category();

inline std::error_code make_error_code(ParseError e) {
  return {static_cast<int>(e), parse_error_category()};
}

}  // namespace tapestream::scsi

template <>
struct std::is_error_code_enum<tapestream::scsi::ParseError> : std::true_type {};
