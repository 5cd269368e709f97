// What each image layout costs the emulated drive (docs/PERFORMANCE.md, "Image layouts"): writes
// TOTAL bytes in blocks of SIZE through EmulatedDrive, one WRITE(6) per block from a registered
// buffer as the daemon sends them, then a filemark with Immed=0 (its fdatasync is the
// durability point, so it is inside the time), and prints the rate and the process's CPU time.
//   image_layout_bench IMAGE aligned|packed|buffered SIZE TOTAL
// `buffered` is the aligned layout with the drive's buffer on (a model whose tape is never the
// limit: buffer=1G, rate=1T), which acknowledges a WRITE before the page that links it in.
// The image is created; remove it before the next run (bench/image_layouts.sh does).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "base/startup_error.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"
#include "scsi/cdb.hpp"
#include "scsi/condition.hpp"
#include "transport/blocking.hpp"
#include "uring/buffer_pool.hpp"

using namespace tapestream;

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void run(uring::Ring& ring, transport::ScsiTransport& drive, const scsi::Command& command,
         std::span<std::uint8_t> data) {
  transport::ScsiRequest request;
  request.command = command;
  request.data = {0, data};
  request.timeout = std::chrono::minutes{10};
  auto result = transport::run_blocking(ring, drive, request);
  if (!result) {
    std::fprintf(stderr, "command failed: %s\n", result.error().message().c_str());
    std::exit(1);
  }
  const auto condition = scsi::classify(command, result.value().status()).condition;
  if (condition != scsi::TapeCondition::good) {
    std::fprintf(stderr, "%s: %s\n", std::string{scsi::command_name(command)}.c_str(),
                 std::string{scsi::condition_name(condition)}.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string writer = argc == 5 ? argv[2] : "";
  if (writer != "aligned" && writer != "packed" && writer != "buffered") {
    std::fputs("usage: image_layout_bench IMAGE aligned|packed|buffered SIZE TOTAL\n", stderr);
    return 2;
  }
  const std::size_t size = std::strtoull(argv[3], nullptr, 10);
  const std::uint64_t total = std::strtoull(argv[4], nullptr, 10);
  if (size == 0 || size > 0xFF'FFFF || total < size) {
    std::fputs("image_layout_bench: SIZE must be 1 to 16M-1, TOTAL at least SIZE\n", stderr);
    return 2;
  }
  try {
    auto ring = uring::Ring::create({});
    auto pool = uring::BufferPool::create(ring, 1, size);
    const std::string options = writer == "buffered"
                                    ? "layout=aligned&buffer=1G&rate=1T&min_rate=1M&backhitch=0s"
                                    : "layout=" + writer;
    auto spec = emulated::parse_drive_spec(std::string{"emulated:"} + argv[1] + "?" + options +
                                           "&capacity=" + std::to_string(total * 2));
    emulated::EmulatedDrive drive{ring, std::move(spec)};
    auto buffer = pool.buffer(0).first(size);
    std::mt19937_64 random{size};
    for (auto& b : buffer) {
      b = static_cast<std::uint8_t>(random());
    }
    const auto blocks = total / size;
    const auto cpu_before = cpu_seconds();
    const auto started = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < blocks; ++i) {
      run(ring, drive, scsi::cdb::write6_variable(scsi::Count24::from(size).value()), buffer);
    }
    run(ring, drive, scsi::cdb::write_filemarks6(scsi::Count24::from(1).value(), false), {});
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    const auto cpu = cpu_seconds() - cpu_before;
    const auto bytes = static_cast<double>(blocks * size);
    std::printf("%s %zu: %.1f MiB/s, %.3f s, cpu %.3f s (%.3f s/GiB), direct %s\n", argv[2], size,
                bytes / took.count() / (1 << 20), took.count(), cpu, cpu / (bytes / (1 << 30)),
                drive.direct_io() ? "yes" : "no");
  } catch (const StartupError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 78;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
