/* tapestream-shared: streams a file, or a generated pattern, to tape through shared buffers
 * with libtapestream: the data is produced (read, or generated) straight into the daemon's
 * slots, and the daemon writes each slot to the drive from the same memory.
 *
 *   tapestream-shared [-s SOCKET] [-d DRIVE] [-b BLOCK] FILE      the file, read into the slots
 *   tapestream-shared [-s SOCKET] [-d DRIVE] [-b BLOCK] -p BYTES  a counter pattern made in place
 *   tapestream-shared [-s SOCKET] [-d DRIVE] -r N                 file N back to standard output,
 *                                                                 each block from its slot (1.4)
 * Prints "file N bytes B sha256 HEX" on success (a read: on standard error). Exit 0, or 1 with
 * the library's message.
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
  fprintf(stderr, "usage: %s [-s SOCKET] [-d DRIVE] [-b BLOCK] (FILE | -p BYTES | -r N)\n", name);
  return 2;
}

static void print_result(FILE* to, const struct ts_result* result) {
  fprintf(to, "file %llu bytes %llu sha256 ", (unsigned long long)result->file_number,
          (unsigned long long)result->bytes);
  for (int i = 0; i < TS_DIGEST_SIZE && result->has_digest; ++i) {
    fprintf(to, "%02x", result->sha256[i]);
  }
  fprintf(to, "\n");
}

/* Writes a block to standard output whole; 0, or -1 with the reason printed. */
static int put_block(const unsigned char* at, size_t left) {
  while (left > 0) {
    const ssize_t n = write(STDOUT_FILENO, at, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      perror("tapestream-shared: standard output");
      return -1;
    }
    at += n;
    left -= (size_t)n;
  }
  return 0;
}

/* -r N: the drive reads each block into a slot the daemon shares; it goes to standard output
 * from there, and the slot back for the next block. */
static int read_back(const char* socket_path, const char* drive, uint64_t number) {
  ts_client* client = NULL;
  int r = ts_connect(socket_path, "tapestream-shared", &client);
  if (r != 0) {
    return fail(NULL, "connect", r);
  }
  ts_stream* stream = NULL;
  r = ts_read_shared_begin(client, drive, number, &stream);
  if (r != 0) {
    return fail(client, "read", r);
  }
  struct ts_block block;
  TS_INIT(struct ts_block, &block);
  int output_failed = 0;
  while ((r = ts_shared_next(stream, &block, -1)) == 1) {
    if (put_block(block.data, block.length) != 0) {
      output_failed = 1;
      break;
    }
    if ((r = ts_shared_return(stream, block.index)) != 0) {
      break;
    }
  }
  struct ts_result result;
  TS_INIT(struct ts_result, &result);
  const int finished = ts_stream_finish(stream, &result);
  if (output_failed) {
    ts_close(client);
    return 1;
  }
  if (r < 0) {
    return fail(client, "read", r);
  }
  if (finished != 0) {
    return fail(client, "read", finished);
  }
  print_result(stderr, &result);
  ts_close(client);
  return 0;
}

int main(int argc, char** argv) {
  const char* socket_path = NULL;
  const char* drive = NULL;
  long long pattern = -1;
  long long read_file = -1;
  unsigned block = 0;
  int opt;
  while ((opt = getopt(argc, argv, "s:d:b:p:r:")) != -1) {
    switch (opt) {
      case 's': socket_path = optarg; break;
      case 'd': drive = optarg; break;
      case 'b': block = (unsigned)strtoul(optarg, NULL, 0); break;
      case 'p': pattern = atoll(optarg); break;
      case 'r': read_file = atoll(optarg); break;
      default: return usage(argv[0]);
    }
  }
  if (read_file >= 0) {
    return optind < argc || pattern >= 0 ? usage(argv[0])
                                         : read_back(socket_path, drive, (uint64_t)read_file);
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
  print_result(stdout, &result);
  ts_close(client);
  return 0;
}
