// The C API's texts and parsing shared with the CLI (tapestream.h, 1.1): TapeAlert flag names
// and severities, and sizes as people write them. Static data, safe from any thread.
#include <cerrno>

#include "common/size.hpp"
#include "common/tape_alert.hpp"
#include "handle.hpp"

using namespace tapestream;

extern "C" {

// The table's names are string literals: their views end in a NUL.
const char* ts_tape_alert_name(unsigned flag) {
  return flag < 1 || flag > 64 ? "" : common::tape_alert_name(flag).data();
}

const char* ts_tape_alert_severity(unsigned flag) {
  return flag < 1 || flag > 64 ? ""
                               : common::severity_name(common::tape_alert_severity(flag)).data();
}

int ts_parse_size(const char* text, uint64_t* out) {
  if (text == nullptr || out == nullptr) {
    return -EINVAL;
  }
  // Longer than any size: refused before it is measured further.
  const auto argument = lib::text_argument(text, 64);
  if (!argument) {
    return -EINVAL;
  }
  const auto size = parse_size(*argument);
  if (!size) {
    return -EINVAL;
  }
  *out = *size;
  return 0;
}

}  // extern "C"
