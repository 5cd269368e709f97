// The daemon's STATUS= for the service manager, in plain words ("2 drives; lto1 writing file 12
// at 312 MB/s; lto2 idle"), from what each drive's worker publishes (DriveWorker::Glance): the
// words are chosen here, the figures sampled by the caller.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/drive_worker.hpp"

namespace tapestream::service {

struct DriveLine {
  std::string name;
  server::DriveWorker::Glance glance;
  std::optional<double> rate;          // bytes per second of its stream, once measured
  std::optional<double> stalled_for;   // seconds since its worker last turned, when too long
};

std::string status_line(const std::vector<DriveLine>& drives, bool stopping);

}  // namespace tapestream::service
