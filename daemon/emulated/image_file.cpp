#include "emulated/image_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "base/startup_error.hpp"
#include "emulated/image_scan.hpp"

namespace tapestream::emulated {
namespace {

[[noreturn]] void fail(const DriveSpec& spec, const std::string& why) {
  throw StartupError{"emulated drive: image " + spec.image.string() + " " + why};
}

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) {
    return "a directory";
  }
  if (S_ISFIFO(mode)) {
    return "a FIFO";
  }
  if (S_ISCHR(mode)) {
    return "a character device";
  }
  if (S_ISBLK(mode)) {
    return "a block device";
  }
  if (S_ISSOCK(mode)) {
    return "a socket";
  }
  return "a special file";
}

[[noreturn]] void fail_not_regular(const DriveSpec& spec, mode_t mode) {
  fail(spec, "is " + kind_of(mode) +
                 ", not a regular file: the drive keeps its tape in a file (a SIMH image, created "
                 "when absent)");
}

[[noreturn]] void fail_symlink(const DriveSpec& spec) {
  std::error_code ec;
  const auto target = std::filesystem::read_symlink(spec.image, ec);
  fail(spec, "is a symbolic link" + (ec ? std::string{} : " to " + target.string()) +
                 ": the drive does not follow it unless the drive spec says follow_symlinks=1");
}

// Refuses what is not a regular file before opening it: opening a device or a FIFO can act.
void check_path(const DriveSpec& spec) {
  struct stat st {};
  if (lstat(spec.image.c_str(), &st) != 0) {
    return;  // absent: created empty
  }
  if (S_ISLNK(st.st_mode)) {
    if (!spec.follow_symlinks) {
      fail_symlink(spec);
    }
    if (stat(spec.image.c_str(), &st) != 0) {
      return;
    }
  }
  if (!S_ISREG(st.st_mode)) {
    fail_not_regular(spec, st.st_mode);
  }
}

std::string counted(std::uint64_t n, std::string_view what) {
  return fmt::format("{} {}{}", n, what, n == 1 ? "" : "s");
}

std::string intact(const TapeIndex& index) {
  const auto objects = index.size();
  const auto files = index.filemarks();
  const auto after = objects - (files > 0 ? index.filemark(files) + 1 : 0);
  return fmt::format("{} before it {} intact: {} ended by a filemark{}", counted(objects, "object"),
                     objects == 1 ? "is" : "are", counted(files, "file"),
                     after > 0 ? ", and " + counted(after, "block") + " after the last" : "");
}

// What the first bytes look like, when they are text: a text file is the likely mistake.
std::string text_hint(int fd) {
  char head[24] = {};
  const auto n = pread(fd, head, sizeof head, 0);
  if (n <= 0) {
    return {};
  }
  const std::string_view start{head, static_cast<std::size_t>(n)};
  const bool text = std::all_of(start.begin(), start.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isprint(u) || std::isspace(u);
  });
  if (!text) {
    return {};
  }
  std::string shown;
  for (const char c : start.substr(0, 16)) {
    shown += std::isprint(static_cast<unsigned char>(c)) ? c : ' ';
  }
  return " (it begins \"" + shown + "\": a text file?)";
}

void handle_damage(const DriveSpec& spec, const ImageScan& s, OpenedImage& image) {
  const auto at = s.index.end_offset();
  const auto rest = s.file_size - at;
  switch (spec.damaged) {
    case DamagePolicy::refuse:
      fail(spec, fmt::format("is damaged at byte offset {}: {}. The {}. To read them, add "
                             "damaged=readonly to the drive spec (the image stays as it is, write "
                             "protected); to cut the image there and write after it, damaged=cut "
                             "(it removes the {} bytes from offset {} on)",
                             at, s.what, intact(s.index), rest, at));
    case DamagePolicy::readonly:
      image.write_protected = true;
      spdlog::warn("emulated drive: image {} is damaged at byte offset {}: {}; opened write "
                   "protected (damaged=readonly), the tape ending there: the {}; the {} bytes "
                   "from there to the end of the file are not read",
                   spec.image.string(), at, s.what, intact(s.index), rest);
      return;
    case DamagePolicy::cut:
      if (image.write_protected) {  // its file may not be written: nothing may cut it either
        fail(spec, fmt::format("is damaged at byte offset {}: {}, and its file has no write "
                               "permission (write protected), so damaged=cut cannot cut it: make "
                               "it writable first, or read it with damaged=readonly",
                               at, s.what));
      }
      spdlog::warn("emulated drive: image {} is damaged at byte offset {}: {}; cutting it there "
                   "(damaged=cut) removes {} bytes; the {}",
                   spec.image.string(), at, s.what, rest, intact(s.index));
      return;
  }
}

// Bytes after the end of the tape that are not damage: nothing a write acknowledged, or what a
// crash took from the drive's buffer (buffer=), acknowledged as a real drive's buffer is.
void report_beyond(const DriveSpec& spec, const ImageScan& s) {
  const auto end = s.index.end_offset();
  if (s.end == ImageScan::End::torn) {
    spdlog::info("emulated drive: image {}: the tape ends at byte offset {}, where a crash cut "
                 "short the write that linked an append ({}); nothing there was acknowledged "
                 "but the drive buffer's blocks, which the crash lost; the next write overwrites it",
                 spec.image.string(), end, s.what);
  } else if (s.data_beyond) {
    spdlog::info("emulated drive: image {}: {} bytes after the end of the tape at byte offset {} "
                 "hold data from offset {} on that is not tape (an append a crash or a failed write "
                 "left unlinked, or blocks a crash took from the drive's buffer); kept, the next "
                 "write overwrites them",
                 spec.image.string(), s.file_size - s.beyond, end, *s.data_beyond);
  } else if (s.beyond < s.file_size) {
    spdlog::debug("emulated drive: image {}: {} bytes of zeros allocated after the end of the tape",
                  spec.image.string(), s.file_size - s.beyond);
  }
}

}  // namespace

Result<ImageTail> read_tail(int fd, std::uint64_t end_of_data) {
  std::vector<std::uint8_t> committed(end_of_data - page_floor(end_of_data));
  std::size_t got = 0;
  while (got < committed.size()) {
    const auto n = pread(fd, committed.data() + got, committed.size() - got,
                         static_cast<off_t>(page_floor(end_of_data) + got));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return std::error_code{n < 0 ? errno : EIO, std::system_category()};
    }
    got += static_cast<std::size_t>(n);
  }
  return make_tail(end_of_data, committed);
}

Result<ImageTail> end_image_at(int fd, std::uint64_t end_of_data) {
  BOOST_OUTCOME_TRY(tail, read_tail(fd, end_of_data));
  std::size_t put = 0;
  while (put < tail.bytes.size()) {
    const auto n = pwrite(fd, tail.bytes.data() + put, tail.bytes.size() - put,
                          static_cast<off_t>(tail.start + put));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return std::error_code{n < 0 ? errno : EIO, std::system_category()};
    }
    put += static_cast<std::size_t>(n);
  }
  // Synced before any append relies on it: an append's link must never land on an old tail.
  if (ftruncate(fd, static_cast<off_t>(tail.end())) != 0 || fdatasync(fd) != 0) {
    return std::error_code{errno, std::system_category()};
  }
  return tail;
}

UniqueFd reopen_image(int fd, const DriveSpec& spec, int flags) {
  UniqueFd again{::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), flags | O_CLOEXEC)};
  if (again || errno != ENOENT) {
    return again;
  }
  // No /proc here: by the path, when it still names the same file.
  const int nofollow = spec.follow_symlinks ? 0 : O_NOFOLLOW;
  again = UniqueFd{::open(spec.image.c_str(), flags | O_CLOEXEC | nofollow)};
  struct stat first {};
  struct stat second {};
  if (again && (fstat(fd, &first) != 0 || fstat(again.get(), &second) != 0 ||
                first.st_dev != second.st_dev || first.st_ino != second.st_ino)) {
    errno = ESTALE;
    return UniqueFd{};
  }
  return again;
}

OpenedImage open_image(const DriveSpec& spec) {
  check_path(spec);
  // An image file nobody may write is a cartridge with its write-protect tab set (root, who
  // could open it for writing anyway, gets the same tape as everyone else).
  struct stat mode {};
  const bool tab_set = ::stat(spec.image.c_str(), &mode) == 0 && S_ISREG(mode.st_mode) &&
                       (mode.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0;
  const bool write_protected = spec.write_protected || tab_set;
  const int access = write_protected ? O_RDONLY : O_RDWR;
  const int nofollow = spec.follow_symlinks ? 0 : O_NOFOLLOW;
  OpenedImage image;
  image.fd = UniqueFd{::open(spec.image.c_str(), access | O_CREAT | O_CLOEXEC | nofollow, 0660)};
  if (!image.fd) {
    if (errno == ELOOP && !spec.follow_symlinks) {
      fail_symlink(spec);
    }
    fail(spec, std::string{"cannot be opened: "} + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(image.fd.get(), &st) != 0) {
    fail(spec, std::string{"cannot be examined: "} + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    fail_not_regular(spec, st.st_mode);
  }
  // One owner: two drives appending to one image would each link over the other's objects.
  if (flock(image.fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      fail(spec, "is in use (locked by another tapestreamd, or another drive of this one)");
    }
    fail(spec, std::string{"cannot be locked: "} + std::strerror(errno));
  }
  auto scanned = scan_image(image.fd.get());
  if (!scanned) {
    fail(spec, "cannot be read: " + scanned.error().message());
  }
  auto& s = scanned.value();
  image.file_size = s.file_size;
  image.write_protected = write_protected;
  if (tab_set && !spec.write_protected) {
    spdlog::warn("emulated drive: image {} has no write permission: the cartridge is write "
                 "protected", spec.image.string());
  }
  switch (s.end) {
    case ImageScan::End::too_many_runs:
      fail(spec, fmt::format("needs more than {} runs of objects to index (it has at least {} "
                             "objects): the emulated drive indexes at most that many",
                             TapeIndex::max_runs, s.index.size()));
    case ImageScan::End::not_simh:
      fail(spec, fmt::format("is not a SIMH tape image: at offset 0, {}{}. No option opens it as "
                             "a tape: name another image, or move this file away to start an "
                             "empty tape there",
                             s.what, text_hint(image.fd.get())));
    case ImageScan::End::damaged:
      handle_damage(spec, s, image);
      break;
    case ImageScan::End::torn:
    case ImageScan::End::clean:
      report_beyond(spec, s);
      break;
  }
  if (spec.layout == ImageLayout::packed && s.gap_bytes > 0) {
    // Never rewritten: the old records stay where they are, and read back as they were.
    spdlog::info("emulated drive: image {}: {} bytes of erase gaps lie between its objects "
                 "(records written in the aligned layout); appends are packed, but readers "
                 "without gap support stop at the first gap",
                 spec.image.string(), s.gap_bytes);
  }
  const auto end = s.index.end_offset();
  const bool cut = s.end == ImageScan::End::damaged && spec.damaged == DamagePolicy::cut;
  auto tail = cut ? end_image_at(image.fd.get(), end) : read_tail(image.fd.get(), end);
  if (!tail) {
    fail(spec, std::string{cut ? "cannot be cut: " : "cannot be read: "} + tail.error().message());
  }
  image.tail = std::move(tail).value();
  image.tail_on_disk = cut || (s.end == ImageScan::End::clean && s.open_end_intact &&
                               !s.data_beyond);
  if (cut) {
    image.file_size = image.tail.end();
  }
  image.index = std::move(s.index);
  return image;
}

}  // namespace tapestream::emulated
