// The drive model of the emulated drive (daemon/emulated/drive_model.hpp) at the end of a pipe,
// for the mbuffer side of bench/shoe_shine.sh: reads standard input in blocks, hands each to
// the model when it arrives, and holds the next read for as long as the model holds that WRITE
// (its buffer full), as a drive's WRITE holds the writer. At the end of the input the buffer is
// drained (WRITE FILEMARKS) and one line reports backhitches, the time without data, the bytes
// and the effective rate. A benchmark tool, not a test.
//   drive_model_pipe RATE MIN_RATE BUFFER BACKHITCH_MS [BLOCK]    (bytes and bytes per second)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "emulated/drive_model.hpp"

using tapestream::emulated::DriveModel;
using tapestream::emulated::DriveModelSpec;

int main(int argc, char** argv) {
  if (argc < 5 || argc > 6) {
    std::fprintf(stderr, "usage: %s RATE MIN_RATE BUFFER BACKHITCH_MS [BLOCK]\n", argv[0]);
    return 2;
  }
  DriveModelSpec spec;
  spec.rate = std::strtod(argv[1], nullptr);
  spec.min_rate = std::strtod(argv[2], nullptr);
  spec.buffer = std::strtoull(argv[3], nullptr, 10);
  spec.backhitch = std::chrono::milliseconds{std::strtoll(argv[4], nullptr, 10)};
  const std::size_t block = argc == 6 ? std::strtoull(argv[5], nullptr, 10) : 256 * 1024;
  if (spec.rate <= 0 || spec.min_rate <= 0 || spec.min_rate > spec.rate || spec.buffer == 0 ||
      block == 0 || block > (std::size_t{64} << 20)) {
    std::fprintf(stderr, "drive_model_pipe: bad parameters\n");
    return 2;
  }
  DriveModel model{spec};
  std::vector<char> buffer(block);
  std::size_t filled = 0;
  std::uint64_t total = 0;
  const auto start = DriveModel::Clock::now();
  auto write_block = [&](std::size_t bytes) {
    const auto wait = model.write(DriveModel::Clock::now(), bytes);
    std::this_thread::sleep_for(wait);  // the WRITE is held: this tool stands for the drive
    total += bytes;
  };
  for (;;) {
    const auto n = read(0, buffer.data() + filled, block - filled);
    if (n < 0) {
      std::perror("drive_model_pipe: read");
      return 1;
    }
    if (n == 0) {
      break;
    }
    filled += static_cast<std::size_t>(n);
    if (filled == block) {
      write_block(block);
      filled = 0;
    }
  }
  if (filled > 0) {
    write_block(filled);
  }
  std::this_thread::sleep_for(model.drain(DriveModel::Clock::now()));
  const auto end = DriveModel::Clock::now();
  const auto c = model.counters(end);
  const double seconds = std::chrono::duration<double>(end - start).count();
  std::printf("backhitches %llu starved_s %.2f bytes %llu seconds %.2f rate_MBps %.1f\n",
              static_cast<unsigned long long>(c.backhitches),
              std::chrono::duration<double>(c.waited).count(),
              static_cast<unsigned long long>(total), seconds,
              seconds > 0 ? static_cast<double>(total) / seconds / 1e6 : 0.0);
  return 0;
}
