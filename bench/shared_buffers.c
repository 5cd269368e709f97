/* The producer side of bench/shared_buffers.sh: a counter pattern generated in place, either
 * into the daemon's shared slots (`shared`, libtapestream's ts_shared_acquire/submit) or into
 * one private buffer that goes nowhere (`generate`: the generation's own cost, which the
 * script subtracts). Prints "bytes B cpu_s C wall_s W" (its own user + system CPU).
 * Usage: shared_buffers (shared SOCKET DRIVE | generate) BYTES [BLOCK [no-digest]]
 * (no-digest: TS_WRITE_NO_DIGEST, the daemon takes no SHA-256 of the stream) */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <tapestream/tapestream.h>

/* Whole little-endian 64-bit words of the running counter; slots start 8-aligned. */
static void fill(unsigned char* into, size_t length, uint64_t offset) {
  uint64_t* words = (uint64_t*)(void*)into;
  const uint64_t first = offset / 8;
  for (size_t i = 0; i < length / 8; ++i) {
    words[i] = first + i;
  }
  if (length % 8 != 0) {
    const uint64_t last = first + length / 8;
    memcpy(into + length / 8 * 8, &last, length % 8);
  }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
         (double)u.ru_stime.tv_usec / 1e6;
}

int main(int argc, char** argv) {
  const int shared = argc >= 5 && strcmp(argv[1], "shared") == 0;
  const int generate = argc >= 3 && strcmp(argv[1], "generate") == 0;
  if (!shared && !generate) {
    fprintf(stderr, "usage: %s (shared SOCKET DRIVE | generate) BYTES [BLOCK [no-digest]]\n", argv[0]);
    return 2;
  }
  const uint64_t total = strtoull(argv[shared ? 4 : 2], NULL, 0);
  const unsigned block = (unsigned)strtoul(argc > (shared ? 5 : 3) ? argv[shared ? 5 : 3] : "0", NULL, 0);
  const double t0 = now();
  const double c0 = cpu();
  uint64_t done = 0;
  if (generate) {
    const size_t size = block != 0 ? block : 1U << 20;
    unsigned char* buffer = aligned_alloc(4096, size);
    for (; done < total; done += size) {
      fill(buffer, total - done < size ? (size_t)(total - done) : size, done);
      __asm__ volatile("" : : "r"(buffer) : "memory"); /* the stores are kept */
    }
    free(buffer);
    done = total;
  } else {
    ts_client* client = NULL;
    int r = ts_connect(argv[2], "shared-buffers-bench", &client);
    if (r != 0) {
      fprintf(stderr, "connect: %s\n", ts_strerror(r));
      return 1;
    }
    struct ts_write_options options;
    TS_INIT(struct ts_write_options, &options);
    options.flags = TS_WRITE_APPEND | TS_WRITE_SHARED |
                    (argc > 6 && strcmp(argv[6], "no-digest") == 0 ? TS_WRITE_NO_DIGEST : 0U);
    options.block_size = block;
    options.expected_length = total;
    ts_stream* stream = NULL;
    if ((r = ts_write_begin(client, argv[3], &options, -1, &stream)) != 0) {
      fprintf(stderr, "write: %s (%s)\n", ts_strerror(r), ts_last_error(client));
      return 1;
    }
    while (done < total && r == 0) {
      struct ts_slot slot;
      TS_INIT(struct ts_slot, &slot);
      if ((r = ts_shared_acquire(stream, &slot, -1)) != 0) {
        break;
      }
      const size_t n = total - done < slot.capacity ? (size_t)(total - done) : slot.capacity;
      fill(slot.data, n, done);
      r = ts_shared_submit(stream, slot.index, n);
      done += n;
    }
    struct ts_result result;
    TS_INIT(struct ts_result, &result);
    const int committed = ts_stream_commit(stream, &result);
    if (r != 0 || committed != 0 || result.bytes != total) {
      fprintf(stderr, "stream: %s (%s)\n", ts_strerror(r != 0 ? r : committed), ts_last_error(client));
      return 1;
    }
    ts_close(client);
  }
  printf("bytes %llu cpu_s %.3f wall_s %.3f\n", (unsigned long long)done, cpu() - c0, now() - t0);
  return 0;
}
