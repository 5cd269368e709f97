// A writer killed at a chosen moment, for the crash tests of the emulated drive's image: a child
// process writes blocks until SIGKILL, telling the parent of each WRITE that completed GOOD.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "harness.hpp"
#include "scsi/cdb.hpp"
#include "scsi/condition.hpp"
#include "target.hpp"

namespace tapestream::test {

struct KilledWriter {
  std::uint32_t acknowledged = 0;  // WRITEs the child was told completed GOOD
  bool killed = false;             // false: it stopped by itself (a failed WRITE, say)
};

// Block i of `stream`, length(i) bytes, one WRITE each, through the emulated drive with
// `options` on `image`; killed after `kill_after` acknowledgements and `linger_us` more.
inline KilledWriter kill_writer_after(const std::filesystem::path& image, const std::string& options,
                                      std::uint32_t stream, std::size_t (*length)(std::uint32_t),
                                      std::uint32_t kill_after, useconds_t linger_us = 0) {
  int fds[2];
  if (pipe(fds) != 0) {
    return {};
  }
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    try {
      Harness h{conformance_target(image, options)};
      for (std::uint32_t i = 0;; ++i) {
        const auto b = pattern_block(stream, i, length(i));
        const auto e = h.run(scsi::cdb::write6_variable(scsi::Count24::from(b.size()).value()), b);
        if (e.classification.condition != scsi::TapeCondition::good) {
          _exit(3);
        }
        if (::write(fds[1], &i, sizeof i) != sizeof i) {
          _exit(4);
        }
      }
    } catch (...) {
      _exit(5);
    }
  }
  close(fds[1]);
  KilledWriter w;
  std::uint32_t number = 0;
  while (w.acknowledged < kill_after && read(fds[0], &number, sizeof number) == sizeof number) {
    ++w.acknowledged;
  }
  if (linger_us > 0) {
    usleep(linger_us);  // land inside a write more often than between two
  }
  if (child > 0) {
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    w.killed = WIFSIGNALED(status);
  }
  // Acknowledgements already in the pipe count too: those writes completed.
  while (read(fds[0], &number, sizeof number) == sizeof number) {
    ++w.acknowledged;
  }
  close(fds[0]);
  return w;
}

}  // namespace tapestream::test
