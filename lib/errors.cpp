// ts_strerror: a static text for every return code, errno or protocol status.
#include <cstring>

#include "handle.hpp"

namespace {

// Indexed by status (PROTOCOL.md, "Status codes"); static, so safe from any thread.
constexpr const char* status_texts[] = {
    "ok",
    "bad_magic: the frame does not start with the magic",
    "bad_version: no common protocol version",
    "bad_length: a length outside its type's bounds",
    "bad_type: a message type unknown in this direction",
    "bad_request: a request that does not decode, or arguments out of range",
    "out_of_sequence: a message not valid at this point of the conversation",
    "unknown_drive: no drive of that name",
    "busy: the drive belongs to another stream, or too many connections",
    "not_permitted: this client may not do that",
    "no_medium: no cartridge in the drive",
    "write_protected: the cartridge is write protected",
    "volume_full: end of medium, the stream did not fit",
    "medium_error: the drive could not read or write the medium",
    "drive_error: a hardware, transport or unexpected drive failure",
    "timeout: the drive did not answer in time",
    "medium_changed: the cartridge was changed or the drive reset",
    "end_of_data: no such file, the tape ends first",
    "client_gone: the stream's reader or writer went away",
    "shutting_down: the daemon is stopping",
    "internal: a fault in the daemon or the library",
    "unreachable: tapestreamd cannot be reached or the connection is lost",
    "incomplete: the stream was not committed",
    "stalled: the stream's client moved no data for the stream timeout",
};

}  // namespace

extern "C" const char* ts_strerror(int code) {
  if (code == 0) {
    return "success";
  }
  if (code > 0) {
    return "not an error code (a count)";
  }
  if (code <= -TS_ERROR_BASE) {
    const long status = -static_cast<long>(code) - TS_ERROR_BASE;
    if (status >= 0 && status < static_cast<long>(std::size(status_texts))) {
      return status_texts[status];
    }
    return "unknown tapestream status";
  }
  const char* text = ::strerrordesc_np(-code);
  return text != nullptr ? text : "unknown error";
}
