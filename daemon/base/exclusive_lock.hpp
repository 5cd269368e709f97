// One owner per drive, image, state directory and socket: an exclusive flock(2) held for the
// daemon's life. flock locks belong to an open file description, so a second daemon — or a
// second drive of the same daemon naming the same file by another path — is refused too, and a
// daemon that dies releases them with its descriptors.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace tapestream {

// Locks the file `fd` is open on; fails with EWOULDBLOCK when another holder has it.
Result<void> lock_exclusively(int fd);

// Opens (creating it when absent) and locks `path`. Throws StartupError naming `what` holds it
// when another process (or another part of this one) does.
UniqueFd take_lock_file(const std::filesystem::path& path, const std::string& what);

// One owner per device: a lock on each of its nodes (bsg and sg), whichever transport each
// daemon chose, so that two daemons (or two names of one device in one daemon) never command it
// at once. Empty names and nodes that do not open are passed over (the transport's own open
// says what is wrong with them). Throws StartupError naming `what` when a node is held.
std::vector<UniqueFd> lock_device_nodes(const std::vector<std::string>& nodes,
                                        const std::string& what);

}  // namespace tapestream
