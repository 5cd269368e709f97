/* tapestream-put: streams a file, or a generated pattern, to tape with libtapestream.
 *
 *   tapestream-put [-s SOCKET] [-d DRIVE] [-l LABEL] FILE      the file, by fd passing
 *   tapestream-put [-s SOCKET] [-d DRIVE] [-l LABEL] -p BYTES  a counter pattern, through the
 *                                                              socket
 * Prints "file N bytes B sha256 HEX" on success. Exit 0, or 1 with the library's message.
 * Build: cc -o tapestream-put tapestream_put.c $(pkg-config --cflags --libs tapestream) */
#define _POSIX_C_SOURCE 200809L /* getopt, with -std=c11 too */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tapestream/tapestream.h>

static int fail(ts_client* client, const char* what, int code) {
  fprintf(stderr, "tapestream-put: %s: %s (%s)\n", what, ts_strerror(code),
          client != NULL ? ts_last_error(client) : ts_connect_error());
  ts_close(client);
  return 1;
}

/* A pattern anyone can regenerate: the little-endian 64-bit counter of each 8-byte word. */
static void fill_pattern(unsigned char* buffer, size_t length, uint64_t offset) {
  for (size_t i = 0; i < length; ++i) {
    const uint64_t at = offset + i;
    buffer[i] = (unsigned char)((at / 8) >> (8 * (at % 8)));
  }
}

static int usage(const char* name) {
  fprintf(stderr, "usage: %s [-s SOCKET] [-d DRIVE] [-l LABEL] (FILE | -p BYTES)\n", name);
  return 2;
}

int main(int argc, char** argv) {
  const char* socket_path = NULL;
  const char* drive = NULL;
  const char* label = NULL;
  long long pattern = -1;
  int opt;
  while ((opt = getopt(argc, argv, "s:d:l:p:")) != -1) {
    switch (opt) {
      case 's': socket_path = optarg; break;
      case 'd': drive = optarg; break;
      case 'l': label = optarg; break;
      case 'p': pattern = atoll(optarg); break;
      default: return usage(argv[0]);
    }
  }
  if ((pattern < 0) == (optind >= argc)) {
    return usage(argv[0]);
  }

  ts_client* client = NULL;
  int r = ts_connect(socket_path, "tapestream-put", &client);
  if (r != 0) {
    return fail(NULL, "connect", r);
  }
  struct ts_write_options options;
  TS_INIT(struct ts_write_options, &options);
  options.flags = TS_WRITE_APPEND; /* after the tape's last file, as `tapestream write` does */
  options.label = label;
  struct ts_result result;
  TS_INIT(struct ts_result, &result);

  if (pattern < 0) {
    const int fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      perror(argv[optind]);
      ts_close(client);
      return 1;
    }
    r = ts_write_fd(client, drive, &options, fd, &result);
    close(fd);
    if (r != 0) {
      return fail(client, "write", r);
    }
  } else {
    options.expected_length = (uint64_t)pattern; /* a short stream is then not committed */
    ts_stream* stream = NULL;
    r = ts_write_begin(client, drive, &options, -1, &stream);
    if (r != 0) {
      return fail(client, "write", r);
    }
    static unsigned char buffer[1 << 20];
    for (uint64_t done = 0; done < (uint64_t)pattern;) {
      const size_t n = (uint64_t)pattern - done < sizeof buffer ? (size_t)((uint64_t)pattern - done)
                                                               : sizeof buffer;
      fill_pattern(buffer, n, done);
      r = ts_stream_write(stream, buffer, n);
      if (r != 0) {
        ts_stream_commit(stream, &result); /* the daemon's account of what is on tape */
        return fail(client, "write", r);
      }
      done += n;
    }
    r = ts_stream_commit(stream, &result);
    if (r != 0) {
      return fail(client, "commit", r);
    }
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
