// A producer that costs almost no CPU, so that a benchmark on a small machine measures the
// consumer: writes SIZE bytes to standard output, a pipe, by vmsplice(2) of one 1 MiB region
// (the pipe takes references to its pages; the reader does the one copy). The region is filled
// once and never changed, which is what makes handing its pages out safe.
// Usage: zero_pipe SIZE_BYTES   (standard output must be a pipe)
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: zero_pipe SIZE_BYTES >PIPE\n");
    return 2;
  }
  struct stat out {};
  if (::fstat(STDOUT_FILENO, &out) != 0 || !S_ISFIFO(out.st_mode)) {
    std::fprintf(stderr, "zero_pipe: standard output must be a pipe\n");
    return 2;
  }
  constexpr std::size_t region = 1 << 20;
  std::vector<unsigned char> bytes(region, 0xA5);  // touched: not the shared zero page
  unsigned long long left = std::strtoull(argv[1], nullptr, 10);
  std::size_t at = 0;
  while (left > 0) {
    iovec iov{bytes.data() + at, static_cast<std::size_t>(std::min<unsigned long long>(left, region - at))};
    const ssize_t n = ::vmsplice(STDOUT_FILENO, &iov, 1, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::fprintf(stderr, "zero_pipe: vmsplice: %s\n", std::strerror(errno));
      return 1;
    }
    left -= static_cast<unsigned long long>(n);
    at = (at + static_cast<std::size_t>(n)) % region;
  }
  return 0;
}
