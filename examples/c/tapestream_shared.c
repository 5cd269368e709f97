/* tapestream-shared: streams a file, or a generated pattern, to tape through shared buffers
 * with libtapestream: the data is produced (read, or generated) straight into the daemon's
 * slots, and the daemon writes each slot to the drive from the same memory.
 *
 *   tapestream-shared [-s SOCKET] [-d DRIVE] [-b BLOCK] FILE      the file, read into the slots
 *   tapestream-shared [-s SOCKET] [-d DRIVE] [-b BLOCK] -p BYTES  a counter pattern made in place
 * Prints "file N bytes B sha256 HEX" on success. Exit 0, or 1 with the library's message.
 * Build: cc -o tapestream-shared tapestream_shared.c $(pkg-config --cflags --libs tapestream) */
#define _POSIX_C_SOURCE 200809L /* getopt, with -std=c11 too */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tapestream/tapestream.h>

static int fail(ts_client* client, const char* what, int code) {
  fprintf(stderr, "tapestream-shared: %s: %s (%s)\n", what, ts_strerror(code),
          client != NULL ? ts_last_error(client) : ts_connect_error());
  ts_close(client);
  return 1;
}

/* The little-endian 64-bit counter of each 8-byte word, as tapestream-put makes it; whole words
 * at a time, since an 8-aligned offset is where every slot of a stream begins. */
static void fill_pattern(unsigned char* into, size_t length, uint64_t offset) {
  size_t i = 0;
  for (; i + 8 <= length && offset % 8 == 0; i += 8) {
    const uint64_t word = (offset + i) / 8;
    memcpy(into + i, &word, 8); /* x86-64 and arm64 are little-endian */
  }
  for (; i < length; ++i) {
    const uint64_t at = offset + i;
    into[i] = (unsigned char)((at / 8) >> (8 * (at % 8)));
  }
}

/* Fills up to `capacity` bytes from `fd`: short only at the file's end. */
static long read_full(int fd, unsigned char* into, size_t capacity) {
  size_t have = 0;
  while (have < capacity) {
    const ssize_t n = read(fd, into + have, capacity - have);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return -errno;
    }
    if (n == 0) {
      break;
    }
    have += (size_t)n;
  }
  return (long)have;
}

static int usage(const char* name) {
  fprintf(stderr, "usage: %s [-s SOCKET] [-d DRIVE] [-b BLOCK] (FILE | -p BYTES)\n", name);
  return 2;
}

int main(int argc, char** argv) {
  const char* socket_path = NULL;
  const char* drive = NULL;
  long long pattern = -1;
  unsigned block = 0;
  int opt;
  while ((opt = getopt(argc, argv, "s:d:b:p:")) != -1) {
    switch (opt) {
      case 's': socket_path = optarg; break;
      case 'd': drive = optarg; break;
      case 'b': block = (unsigned)strtoul(optarg, NULL, 0); break;
      case 'p': pattern = atoll(optarg); break;
      default: return usage(argv[0]);
    }
  }
  if ((pattern < 0) == (optind >= argc)) {
    return usage(argv[0]);
  }
  int fd = -1;
  if (pattern < 0 && (fd = open(argv[optind], O_RDONLY | O_CLOEXEC)) < 0) {
    perror(argv[optind]);
    return 1;
  }

  ts_client* client = NULL;
  int r = ts_connect(socket_path, "tapestream-shared", &client);
  if (r != 0) {
    return fail(NULL, "connect", r);
  }
  struct ts_write_options options;
  TS_INIT(struct ts_write_options, &options);
  options.flags = TS_WRITE_APPEND | TS_WRITE_SHARED;
  options.block_size = block;
  if (pattern >= 0) {
    options.expected_length = (uint64_t)pattern;
  }
  ts_stream* stream = NULL;
  r = ts_write_begin(client, drive, &options, -1, &stream);
  if (r != 0) {
    return fail(client, "write", r);
  }
  struct ts_result result;
  TS_INIT(struct ts_result, &result);
  uint64_t done = 0;
  for (;;) {
    struct ts_slot slot;
    TS_INIT(struct ts_slot, &slot);
    r = ts_shared_acquire(stream, &slot, -1);
    if (r != 0) {
      break;
    }
    long n;
    if (pattern >= 0) {
      const uint64_t left = (uint64_t)pattern - done;
      n = (long)(left < slot.capacity ? left : slot.capacity);
      fill_pattern(slot.data, (size_t)n, done);
    } else {
      n = read_full(fd, slot.data, slot.capacity);
      if (n < 0) {
        fprintf(stderr, "tapestream-shared: %s: %s\n", argv[optind], strerror((int)-n));
        ts_stream_abort(stream, "reading the input failed");
        ts_close(client);
        return 1;
      }
    }
    if (n == 0) {
      break; /* the data ended on a slot boundary: nothing more to submit */
    }
    r = ts_shared_submit(stream, slot.index, (size_t)n);
    done += (uint64_t)n;
    if (r != 0 || (size_t)n < slot.capacity) {
      break; /* a short slot is the last one */
    }
  }
  if (fd >= 0) {
    close(fd);
  }
  const int committed = ts_stream_commit(stream, &result); /* also the account after a failure */
  if (r != 0) {
    return fail(client, "write", r);
  }
  if (committed != 0) {
    return fail(client, "commit", committed);
  }
  printf("file %llu bytes %llu sha256 ", (unsigned long long)result.file_number,
         (unsigned long long)result.bytes);
  for (int i = 0; i < TS_DIGEST_SIZE && result.has_digest; ++i) {
    printf("%02x", result.sha256[i]);
  }
  printf("\n");
  ts_close(client);
  return 0;
}
