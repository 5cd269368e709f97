#include "service/status_line.hpp"

#include <fmt/format.h>

namespace tapestream::service {
namespace {

std::string drive_words(const DriveLine& d) {
  using drive::DriveState;
  if (d.stalled_for) {
    return fmt::format("{} stopped turning {:.0f} s ago", d.name, *d.stalled_for);
  }
  const auto& g = d.glance;
  std::string words = d.name + " ";
  switch (g.state) {
    case DriveState::writing:
    case DriveState::reading:
      words += g.state == DriveState::writing ? "writing" : "reading";
      if (g.streaming) {
        words += g.file ? " file " + std::to_string(*g.file) : " a file";
        if (d.rate) {
          words += fmt::format(" at {:.0f} MB/s", *d.rate / 1e6);
        }
      }
      return words;
    case DriveState::loaded:
    case DriveState::positioned:
      return words + "idle";
    case DriveState::at_early_warning:
      return words + "idle at early warning";
    case DriveState::no_medium:
      return words + "empty";
    case DriveState::failed:
      return words + "failed";
  }
  return words + "?";
}

}  // namespace

std::string status_line(const std::vector<DriveLine>& drives, bool stopping) {
  std::string line = stopping ? "stopping; " : "";
  line += drives.size() == 1 ? "1 drive" : std::to_string(drives.size()) + " drives";
  for (const auto& d : drives) {
    line += "; " + drive_words(d);
  }
  return line;
}

}  // namespace tapestream::service
