#include "base/exclusive_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstring>

#include "base/startup_error.hpp"

namespace tapestream {

Result<void> lock_exclusively(int fd) {
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EINTR) {
      return std::error_code{errno, std::system_category()};
    }
  }
  return outcome::success();
}

UniqueFd take_lock_file(const std::filesystem::path& path, const std::string& what) {
  UniqueFd fd{::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)};
  if (!fd) {
    throw StartupError{"cannot open the lock file " + path.string() + ": " + std::strerror(errno)};
  }
  if (auto locked = lock_exclusively(fd.get()); !locked) {
    if (locked.error() == std::errc::operation_would_block) {
      throw StartupError{what + " is in use by another tapestreamd (it holds " + path.string() +
                         ")"};
    }
    throw StartupError{"cannot lock " + path.string() + ": " + locked.error().message()};
  }
  return fd;
}

std::vector<UniqueFd> lock_device_nodes(const std::vector<std::string>& nodes,
                                        const std::string& what) {
  std::vector<UniqueFd> locks;
  for (const auto& node : nodes) {
    if (node.empty()) {
      continue;
    }
    UniqueFd fd{::open(node.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
    if (!fd) {
      continue;
    }
    if (auto locked = lock_exclusively(fd.get()); !locked) {
      throw StartupError{what + ": " + node + " is in use by another tapestreamd, or configured twice"};
    }
    locks.push_back(std::move(fd));
  }
  return locks;
}

}  // namespace tapestream
