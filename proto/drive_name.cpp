// What a drive name may be ([A-Za-z0-9._-]{1,32}): checked when decoding and when encoding.
#include <algorithm>

#include "codec.hpp"

namespace tapestream::proto {

bool valid_drive_name(std::string_view name) {
  return !name.empty() && name.size() <= TS_MAX_DRIVE_NAME &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
}

}  // namespace tapestream::proto
