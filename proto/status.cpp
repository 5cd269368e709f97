// The protocol's status codes as a std::error_category, and their names (PROTOCOL.md, "Status
// codes").
#include <array>
#include <string>

#include "codec.hpp"

namespace tapestream::proto {
namespace {

class StatusCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tapestream-protocol"; }
  std::string message(int value) const override {
    return std::string{status_name(static_cast<Status>(value))};
  }
};

}  // namespace

const std::error_category& status_category() {
  static const StatusCategory category;
  return category;
}

std::string_view status_name(Status s) {
  static constexpr std::array<std::string_view, 24> names{
      "ok",           "bad_magic",      "bad_version",     "bad_length",     "bad_type",
      "bad_request",  "out_of_sequence", "unknown_drive",  "busy",           "not_permitted",
      "no_medium",    "write_protected", "volume_full",    "medium_error",   "drive_error",
      "timeout",      "medium_changed", "end_of_data",     "client_gone",    "shutting_down",
      "internal",     "unreachable",    "incomplete",      "stalled"};
  const auto i = static_cast<std::size_t>(s);
  return i < names.size() ? names[i] : std::string_view{"unknown status"};
}

}  // namespace tapestream::proto
