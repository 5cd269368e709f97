#include "drive/stream_outcome.hpp"

#include <cstdio>

namespace tapestream::drive {

using scsi::TapeCondition;

std::string_view ending_name(Ending ending) {
  switch (ending) {
    case Ending::complete: return "complete";
    case Ending::end_of_data: return "end_of_data";
    case Ending::volume_full: return "volume_full";
    case Ending::medium_error: return "medium_error";
    case Ending::write_protected: return "write_protected";
    case Ending::no_medium: return "no_medium";
    case Ending::medium_changed: return "medium_changed";
    case Ending::timeout: return "timeout";
    case Ending::drive_error: return "drive_error";
    case Ending::not_at_boundary: return "not_at_boundary";
    case Ending::client_gone: return "client_gone";
    case Ending::incomplete: return "incomplete";
    case Ending::bad_end: return "bad_end";
    case Ending::stalled: return "stalled";
    case Ending::shutting_down: return "shutting_down";
    case Ending::internal: return "internal";
  }
  return "unknown";
}

Ending ending_for(const scsi::Classification& c, bool timed_out) {
  switch (c.condition) {
    case TapeCondition::early_warning:
    case TapeCondition::volume_overflow:
    case TapeCondition::end_of_medium:
      return Ending::volume_full;
    case TapeCondition::medium_error:
      return Ending::medium_error;
    case TapeCondition::write_protected:
    case TapeCondition::data_protect:
      return Ending::write_protected;
    case TapeCondition::no_medium:
      return Ending::no_medium;
    case TapeCondition::medium_changed:
    case TapeCondition::reset:
    case TapeCondition::parameters_changed:
    case TapeCondition::unit_attention:
      return Ending::medium_changed;
    case TapeCondition::transport_failure:
      return timed_out ? Ending::timeout : Ending::drive_error;
    default:
      return Ending::drive_error;
  }
}

std::string describe_condition(const scsi::Classification& c) {
  std::string text{scsi::condition_name(c.condition)};
  if (c.sense) {
    char codes[16];
    std::snprintf(codes, sizeof codes, " (%02X/%02X)", c.sense->asc, c.sense->ascq);
    text += codes;
  }
  return text;
}

}  // namespace tapestream::drive
