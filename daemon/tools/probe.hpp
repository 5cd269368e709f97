// `tapestreamd --probe`: what this machine offers the daemon and what it would do with each
// drive: the kernel, the io_uring features, every tape drive in sysfs with its nodes, and the
// transport each drive gets and why.
#pragma once

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace tapestream::tools {

// `configured` holds the configured drives as (name, spec). Returns false when a configured
// drive cannot be opened.
bool run_probe(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& configured);

}  // namespace tapestream::tools
