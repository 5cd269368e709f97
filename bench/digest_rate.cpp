// How fast one thread takes SHA-256 (libcrypto, SHA-NI where the CPU has it) next to memcpy, in
// the same run: the daemon hashes every stream on its drive's thread, and the question is what
// that costs against the drive's rate. Two buffer sizes (the daemon's 256 KiB block, and 8 MiB),
// each warm (the same buffer over and over: in cache, as commit() sees a receive it just made)
// and streaming (piece after piece through a REGION, 1 GiB by default: from memory, the worst
// case). memcpy copies the same pieces into one destination buffer. CRC32C (common/crc32c, the
// Logical Block Protection checksum the daemon computes for every block it writes and checks for
// every block it reads) runs over the same pieces too.
// Usage: digest_rate [REGION_MiB] [ROUNDS]   (a benchmark: it reports, it checks nothing)
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "base/sha256.hpp"
#include "common/crc32c.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t mib = 1024 * 1024;

// Keeps the compiler from dropping a copy whose destination nobody reads.
void keep(void* p) { asm volatile("" : : "r"(p) : "memory"); }

struct Shape {
  const char* name;
  std::size_t piece;
  bool streaming;
};

// Seconds on this thread's CPU: on a shared machine the wall clock counts other processes' turns
// too, and the question is what the hash costs the drive's thread, which this measures.
double thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct Rate {
  double per_cpu_second = 0;  // bytes
  double per_wall_second = 0;
};

// The rate of `work(offset, piece)` over `total` bytes.
template <typename Work>
Rate rate(std::size_t total, std::size_t piece, std::size_t region, bool streaming, Work work) {
  const auto start = Clock::now();
  const auto cpu_start = thread_seconds();
  std::size_t offset = 0;
  for (std::size_t done = 0; done < total; done += piece) {
    work(streaming ? offset : 0, piece);
    offset = offset + piece >= region ? 0 : offset + piece;
  }
  const auto cpu = thread_seconds() - cpu_start;
  const std::chrono::duration<double> wall = Clock::now() - start;
  return {static_cast<double>(total) / cpu, static_cast<double>(total) / wall.count()};
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t region = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024) * mib;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  if (region < 8 * mib || rounds < 1) {
    std::fprintf(stderr, "usage: digest_rate [REGION_MiB >= 8] [ROUNDS >= 1]\n");
    return 2;
  }
  std::vector<std::uint8_t> source(region);
  for (std::size_t i = 0; i < region; ++i) {  // touched, and not all zeros
    source[i] = static_cast<std::uint8_t>(i * 2654435761u >> 24);
  }
  std::vector<std::uint8_t> destination(8 * mib);
  const Shape shapes[] = {{"256 KiB warm", 256 * 1024, false}, {"8 MiB warm", 8 * mib, false},
                          {"256 KiB streaming", 256 * 1024, true}, {"8 MiB streaming", 8 * mib, true}};
  const auto total = region;
  std::printf("digest_rate: one thread, %zu MiB per measurement, streaming through %zu MiB, "
              "best of %d rounds; GB per second of the thread's CPU time (wall-clock rate, which "
              "other processes on the machine lower, in brackets)\n",
              total / mib, region / mib, rounds);
  std::printf("%-18s %20s %20s %20s %8s\n", "buffers", "SHA-256 GB/s", "CRC32C GB/s", "memcpy GB/s",
              "ratio");
  tapestream::base::Sha256 hash;
  for (const auto& shape : shapes) {
    Rate best_hash;
    Rate best_copy;
    Rate best_crc;
    std::uint32_t crc = 0;
    for (int round = 0; round < rounds; ++round) {  // interleaved, so that noise hits both
      const auto hashed = rate(total, shape.piece, region, shape.streaming,
                               [&](std::size_t at, std::size_t n) {
        hash.update(std::span<const std::uint8_t>{source}.subspan(at, n));
      });
      const auto copied = rate(total, shape.piece, region, shape.streaming,
                               [&](std::size_t at, std::size_t n) {
        std::memcpy(destination.data(), source.data() + at, n);
        keep(destination.data());
      });
      const auto checked = rate(total, shape.piece, region, shape.streaming,
                                [&](std::size_t at, std::size_t n) {
        crc ^= tapestream::crc32c(std::span<const std::uint8_t>{source}.subspan(at, n));
      });
      if (checked.per_cpu_second > best_crc.per_cpu_second) {
        best_crc = checked;
      }
      if (hashed.per_cpu_second > best_hash.per_cpu_second) {
        best_hash = hashed;
      }
      if (copied.per_cpu_second > best_copy.per_cpu_second) {
        best_copy = copied;
      }
    }
    const auto digest = hash.finish();
    keep(const_cast<std::uint8_t*>(digest.data()));
    keep(&crc);
    std::printf("%-18s %10.2f (%6.2f) %11.2f (%6.2f) %11.2f (%6.2f) %8.1f\n", shape.name,
                best_hash.per_cpu_second / 1e9, best_hash.per_wall_second / 1e9,
                best_crc.per_cpu_second / 1e9, best_crc.per_wall_second / 1e9,
                best_copy.per_cpu_second / 1e9, best_copy.per_wall_second / 1e9,
                best_copy.per_cpu_second / best_hash.per_cpu_second);
  }
  return 0;
}
