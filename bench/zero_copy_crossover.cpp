// Seed 001's question (Mäkisara, 2001): what is the minimum transfer size where zero-copy pays?
// On this machine's kernel, the CPU one transfer of SIZE bytes costs, for SIZE = 4 KiB … 16 MiB:
//   copy    pwrite(2) into a file on tmpfs (/dev/shm): the kernel copies the bytes into its own
//           pages and nothing else happens: the cost of one copy through a kernel buffer (what
//           sg's indirect I/O pays before its DMA), no device work at all
//   pin     IORING_OP_WRITE of an O_DIRECT file on DIR from a buffer that is not registered: the
//           kernel pins the user pages for each transfer and unpins them after; the device DMAs
//           from them (no copy)
//   fixed   IORING_OP_WRITE_FIXED of the same file from a buffer registered once: no pinning per
//           transfer either
// The copy path of a real transfer pays the copy and then the same device work as `fixed` (sg's
// indirect I/O DMAs from its own kernel buffer, which needs no pinning): the table's "copy+dev"
// is copy + fixed, and "pin" beats the copy path where pin < copy + fixed, i.e. where pinning a
// transfer's pages costs less than copying them.
// One transfer in flight (as a tape takes them), over the same region of a file allocated ahead
// (fallocate, then written once), so that ext4 completes O_DIRECT writes inline rather than in
// io-wq. CPU is CLOCK_PROCESS_CPUTIME_ID around the loop, user and system split by getrusage
// (RUSAGE_SELF); io_uring's inline issue runs in this thread, and io-wq workers (iou-wrk) are
// threads of this process, so they are counted too; the program says how many it saw. No SQPOLL.
// Completion interrupts land on whatever CPU runs then (not charged here), and pin/fixed also pay
// the block layer and virtio submission per transfer, which a SCSI command pays as well.
//   zero_copy_crossover DIR [ROUNDS]     (DIR: a file system that takes O_DIRECT; not tmpfs)
#include <fcntl.h>
#include <liburing.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr std::size_t min_size = std::size_t{4} << 10;
constexpr std::size_t max_size = std::size_t{16} << 20;
constexpr std::size_t region = std::size_t{64} << 20;  // the part of the file rewritten

struct Cpu {
  double total = 0;  // seconds
  double system = 0;
};

Cpu cpu_now() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return {static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9,
          static_cast<double>(u.ru_stime.tv_sec) + static_cast<double>(u.ru_stime.tv_usec) / 1e6};
}

[[noreturn]] void die(const char* what, int error) {
  std::fprintf(stderr, "zero_copy_crossover: %s: %s\n", what, std::strerror(error));
  std::exit(1);
}

// io-wq workers are threads of this process named iou-wrk-PID.
int io_workers() {
  int n = 0;
  struct Close {
    void operator()(DIR* d) const { closedir(d); }
  };
  const std::unique_ptr<DIR, Close> dir{opendir("/proc/self/task")};
  while (const dirent* e = dir ? readdir(dir.get()) : nullptr) {
    const std::string path = std::string{"/proc/self/task/"} + e->d_name + "/comm";
    if (FILE* f = std::fopen(path.c_str(), "r")) {
      char comm[32] = {};
      if (std::fgets(comm, sizeof comm, f) != nullptr && std::strncmp(comm, "iou-wrk", 7) == 0) {
        ++n;
      }
      std::fclose(f);
    }
  }
  return n;
}

// Transfers of one size: enough to make each measurement take a while, bounded for 4 KiB.
std::size_t transfers_for(std::size_t size) {
  return std::clamp<std::size_t>((std::size_t{256} << 20) / size, 32, 2048);
}

enum class Method { copy, pin, fixed };
constexpr const char* method_name[] = {"copy", "pin", "fixed"};

struct Rig {
  int copy_fd;
  int direct_fd;
  io_uring ring;
  std::uint8_t* buffer;
};

void write_all_copy(const Rig& rig, std::size_t size, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const auto offset = static_cast<off_t>((i * size) % region);
    if (pwrite(rig.copy_fd, rig.buffer, size, offset) != static_cast<ssize_t>(size)) {
      die("pwrite", errno);
    }
  }
}

void write_all_ring(Rig& rig, std::size_t size, std::size_t count, bool fixed) {
  for (std::size_t i = 0; i < count; ++i) {
    const auto offset = (i * size) % region;
    io_uring_sqe* sqe = io_uring_get_sqe(&rig.ring);
    if (fixed) {
      io_uring_prep_write_fixed(sqe, rig.direct_fd, rig.buffer, static_cast<unsigned>(size),
                                offset, 0);
    } else {
      io_uring_prep_write(sqe, rig.direct_fd, rig.buffer, static_cast<unsigned>(size), offset);
    }
    io_uring_cqe* cqe = nullptr;
    const int r = io_uring_submit_and_wait(&rig.ring, 1);
    if (r < 0) {
      die("io_uring_submit_and_wait", -r);
    }
    if (const int w = io_uring_wait_cqe(&rig.ring, &cqe); w < 0) {
      die("io_uring_wait_cqe", -w);
    }
    if (cqe->res != static_cast<int>(size)) {
      die(fixed ? "WRITE_FIXED" : "WRITE", cqe->res < 0 ? -cqe->res : EIO);
    }
    io_uring_cqe_seen(&rig.ring, cqe);
  }
}

struct Sample {
  double cpu_per_transfer = 0;  // seconds
  double system_share = 0;
  double wall_per_transfer = 0;
};

Sample measure(Rig& rig, Method method, std::size_t size) {
  const auto count = transfers_for(size);
  const auto run = [&](std::size_t n) {
    switch (method) {
      case Method::copy: write_all_copy(rig, size, n); break;
      case Method::pin: write_all_ring(rig, size, n, false); break;
      case Method::fixed: write_all_ring(rig, size, n, true); break;
    }
  };
  run(std::min<std::size_t>(count, 8));  // warm: the pages, the caches
  timespec w0{};
  clock_gettime(CLOCK_MONOTONIC, &w0);
  const auto before = cpu_now();
  run(count);
  const auto after = cpu_now();
  timespec w1{};
  clock_gettime(CLOCK_MONOTONIC, &w1);
  const double wall = static_cast<double>(w1.tv_sec - w0.tv_sec) +
                      static_cast<double>(w1.tv_nsec - w0.tv_nsec) / 1e9;
  const double cpu = after.total - before.total;
  return {cpu / static_cast<double>(count), cpu > 0 ? (after.system - before.system) / cpu : 0,
          wall / static_cast<double>(count)};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fputs("usage: zero_copy_crossover DIR [ROUNDS]\n", stderr);
    return 2;
  }
  const int rounds = argc == 3 ? std::max(1, std::atoi(argv[2])) : 3;
  const std::string direct_path = std::string{argv[1]} + "/zero_copy_crossover." +
                                  std::to_string(getpid());
  const std::string copy_path = "/dev/shm/zero_copy_crossover." + std::to_string(getpid());
  Rig rig{};
  rig.copy_fd = open(copy_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  rig.direct_fd = open(direct_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
  if (rig.copy_fd < 0 || rig.direct_fd < 0) {
    die("open", errno);
  }
  unlink(copy_path.c_str());
  unlink(direct_path.c_str());
  const auto span = region + max_size;
  if (fallocate(rig.direct_fd, 0, 0, static_cast<off_t>(span)) != 0 ||
      fallocate(rig.copy_fd, 0, 0, static_cast<off_t>(span)) != 0) {
    die("fallocate", errno);
  }
  rig.buffer = static_cast<std::uint8_t*>(std::aligned_alloc(4096, max_size));
  if (rig.buffer == nullptr) {
    die("aligned_alloc", ENOMEM);
  }
  std::memset(rig.buffer, 0x5A, max_size);
  // Written once in full: an O_DIRECT write into unwritten extents would convert them, and ext4
  // may hand that to io-wq.
  for (std::size_t at = 0; at < span; at += max_size) {
    if (pwrite(rig.direct_fd, rig.buffer, max_size, static_cast<off_t>(at)) !=
        static_cast<ssize_t>(max_size)) {
      die("pwrite (O_DIRECT)", errno);
    }
  }
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (int r = io_uring_queue_init_params(8, &rig.ring, &params); r < 0) {
    params.flags = 0;
    if ((r = io_uring_queue_init_params(8, &rig.ring, &params)) < 0) {
      die("io_uring_queue_init", -r);
    }
  }
  const iovec whole{rig.buffer, max_size};
  timespec r0{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &r0);
  if (const int r = io_uring_register_buffers(&rig.ring, &whole, 1); r < 0) {
    die("io_uring_register_buffers", -r);
  }
  timespec r1{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &r1);
  const double register_cpu = static_cast<double>(r1.tv_sec - r0.tv_sec) +
                              static_cast<double>(r1.tv_nsec - r0.tv_nsec) / 1e9;

  std::printf("# ring flags %s; registering the 16 MiB buffer once took %.0f µs of CPU\n",
              params.flags != 0 ? "SINGLE_ISSUER|DEFER_TASKRUN" : "none", register_cpu * 1e6);
  std::printf("# medians of %d rounds; CPU per transfer in µs (system share), wall per transfer "
              "in µs\n",
              rounds);
  std::printf("| size | copy µs | pin µs | fixed µs | copy+dev µs | copy ns/KiB | pin ns/KiB | "
              "fixed ns/KiB | pin − fixed µs | sys share c/p/f | wall c/p/f µs |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
  std::size_t pin_beats = 0;
  std::size_t fixed_beats = 0;
  std::size_t pin_beats_path = 0;
  for (std::size_t size = min_size; size <= max_size; size *= 2) {
    std::vector<double> cpu[3];
    std::vector<double> sys[3];
    std::vector<double> wall[3];
    for (int round = 0; round < rounds; ++round) {
      for (const auto m : {Method::copy, Method::pin, Method::fixed}) {
        const auto s = measure(rig, m, size);
        const auto i = static_cast<std::size_t>(m);
        cpu[i].push_back(s.cpu_per_transfer);
        sys[i].push_back(s.system_share);
        wall[i].push_back(s.wall_per_transfer);
      }
    }
    double c[3];
    double sh[3];
    double wl[3];
    for (std::size_t i = 0; i < 3; ++i) {
      c[i] = median(cpu[i]) * 1e6;
      sh[i] = median(sys[i]);
      wl[i] = median(wall[i]) * 1e6;
    }
    const double kib = static_cast<double>(size) / 1024;
    const std::string label = size >= (std::size_t{1} << 20)
                                  ? std::to_string(size >> 20) + " MiB"
                                  : std::to_string(size >> 10) + " KiB";
    std::printf("| %s | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f | %.0f | %.1f | %.2f/%.2f/%.2f | "
                "%.0f/%.0f/%.0f |\n",
                label.c_str(), c[0], c[1], c[2], c[0] + c[2], c[0] * 1e3 / kib, c[1] * 1e3 / kib,
                c[2] * 1e3 / kib, c[1] - c[2], sh[0], sh[1], sh[2], wl[0], wl[1], wl[2]);
    std::fflush(stdout);
    // The crossover: the smallest size from which on the zero-copy method costs less every time.
    pin_beats = c[1] < c[0] ? (pin_beats == 0 ? size : pin_beats) : 0;
    fixed_beats = c[2] < c[0] ? (fixed_beats == 0 ? size : fixed_beats) : 0;
    pin_beats_path = c[1] < c[0] + c[2] ? (pin_beats_path == 0 ? size : pin_beats_path) : 0;
  }
  const auto said = [](std::size_t size) {
    return size == 0 ? std::string{"never up to 16 MiB"}
                     : size >= (std::size_t{1} << 20) ? std::to_string(size >> 20) + " MiB"
                                                      : std::to_string(size >> 10) + " KiB";
  };
  std::printf("# against the bare copy (no device work): pin costs less CPU from %s on, fixed "
              "from %s on\n",
              said(pin_beats).c_str(), said(fixed_beats).c_str());
  std::printf("# against the copy path (copy + the same device work): pin from %s on; fixed at "
              "every size (it is that path without the copy)\n",
              said(pin_beats_path).c_str());
  std::printf("# io-wq workers seen at the end: %d\n", io_workers());
  io_uring_queue_exit(&rig.ring);
  std::free(rig.buffer);
  return 0;
}
