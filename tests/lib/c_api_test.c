/* libtapestream's C API, every function's error returns and a real daemon's answers.
 *   c_api_test offline            no daemon: a socket that is not there, NULL handles, hostile
 *                                 arguments that fail before anything is sent
 *   c_api_test online SOCKET      a real tapestreamd with one emulated drive, loaded and blank:
 *                                 hostile arguments on a live handle, a socket write and an fd
 *                                 write read back both ways, control, the catalog, verify
 *   c_api_test label SOCKET       after online: a label refused over data, then forced
 *   c_api_test full SOCKET        a daemon whose tape holds 8 MiB: a socket write of 32 MiB ends
 *                                 with volume_full and the daemon's account of what is on tape
 *   c_api_test shared_read SOCKET a file written through the socket read back through shared
 *                                 buffers (1.4): every block in place and in order, the write's
 *                                 digest; hostile returns refused; a reader that keeps its
 *                                 slots and stops early still ends cleanly; a file that is
 *                                 not there refused at the start
 *   c_api_test gone SOCKET        connects, then waits for a line on stdin (the driver stops the
 *                                 daemon meanwhile): every call fails with unreachable, none
 *                                 crashes
 * Exit 0 pass, 1 fail (each failed check printed). */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tapestream/tapestream.h>

#include "c_api_check.h"

int failures;
int checks;

static int count_drive(const char* drive, void* context) {
  (void)drive;
  ++*(int*)context;
  return 0;
}

static int stop_at_first(const char* drive, void* context) {
  (void)drive;
  (void)context;
  return 42;
}

static int progress_calls;
static void on_progress(const struct ts_progress* p, void* context) {
  (void)p;
  (void)context;
  ++progress_calls;
}

static int count_listed_digests(const struct ts_volume* v, const struct ts_file* f, void* context) {
  (void)v;
  *(int*)context += (f->flags & TS_FILE_HAS_DIGEST) != 0;
  return 0;
}

static int verified_digests;
static void count_digests(const struct ts_verified* v, void* context) {
  (void)context;
  if (v->struct_size >= sizeof *v && v->has_digest && v->has_catalog_digest &&
      memcmp(v->sha256, v->catalog_sha256, TS_DIGEST_SIZE) == 0) {
    ++verified_digests;
  }
}

/* 1.1: a socket write from a pipe by ts_stream_wait and ts_stream_splice. */
static void spliced(ts_client* c, const struct ts_write_options* o, const unsigned char* data,
                    size_t length) {
  int fds[2];
  CHECK(pipe(fds) == 0, "a pipe");
  ts_stream* st = NULL;
  EXPECT_CODE(ts_write_begin(c, NULL, o, -1, &st), 0);
  if (st == NULL) {
    return;
  }
  CHECK(ts_stream_ready_flags(st) == 0, "variable blocks: no TS_READY_FIXED");
  EXPECT_CODE(ts_stream_splice(st, 0, 1), -EINVAL); /* standard input is no pipe here */
  /* Fed in pieces smaller than the pipe, each spliced out before the next. */
  size_t fed = 0;
  size_t spliced_bytes = 0;
  while (spliced_bytes < length) {
    if (fed == spliced_bytes) {
      const size_t piece = length - fed < 32768 ? length - fed : 32768;
      CHECK(write(fds[1], data + fed, piece) == (ssize_t)piece, "the pipe fed");
      fed += piece;
    }
    const int w = ts_stream_wait(st, fds[0], 5000);
    CHECK(w == (int)TS_WAIT_FD, "the pipe is ready, the daemon quiet: %d", w);
    const long n = w == (int)TS_WAIT_FD ? ts_stream_splice(st, fds[0], 100000) : -1;
    CHECK(n > 0 && n <= 32768, "spliced %ld", n);
    if (n <= 0) {
      break;
    }
    spliced_bytes += (size_t)n;
  }
  close(fds[1]);
  EXPECT_CODE(ts_stream_wait(st, fds[0], 5000), TS_WAIT_FD); /* its end */
  EXPECT_CODE(ts_stream_splice(st, fds[0], 100000), 0);
  char rest[1];
  CHECK(read(fds[0], rest, 1) == 0, "nothing buffered: the pipe's end");
  close(fds[0]);
  struct ts_result r;
  TS_INIT(struct ts_result, &r);
  EXPECT_CODE(ts_stream_commit(st, &r), 0);
  CHECK(spliced_bytes == length && r.bytes == length, "spliced %zu, committed %llu of %zu",
        spliced_bytes, (unsigned long long)r.bytes, length);
  CHECK(r.stream_failed == 0, "committed, not failed");
}

static char digest_hex[2 * TS_DIGEST_SIZE + 1];
static const char* hex(const struct ts_result* r) {
  for (int i = 0; i < TS_DIGEST_SIZE; ++i) {
    snprintf(digest_hex + 2 * i, 3, "%02x", r->sha256[i]);
  }
  return digest_hex;
}

static void hostile(ts_client* c) {
  struct ts_drive_status s;
  memset(&s, 0, sizeof s); /* struct_size 0: an older or careless caller */
  EXPECT_CODE(ts_status(c, NULL, &s), TS_ERROR(TS_BAD_REQUEST));
  EXPECT_CODE(ts_status(c, NULL, NULL), TS_ERROR(TS_BAD_REQUEST));
  TS_INIT(struct ts_drive_status, &s);
  EXPECT_CODE(ts_status(c, "no/such drive", &s), TS_ERROR(TS_BAD_REQUEST));
  EXPECT_CODE(ts_status(c, "abcdefghijklmnopqrstuvwxyz0123456", &s), TS_ERROR(TS_BAD_REQUEST));
  EXPECT_CODE(ts_status(c, "nosuchdrive", &s), TS_ERROR(TS_UNKNOWN_DRIVE));
  CHECK(strstr(ts_last_error(c), "nosuchdrive") != NULL || strlen(ts_last_error(c)) > 0,
        "the daemon's message is kept: %s", ts_last_error(c));
  EXPECT_CODE(ts_control(c, NULL, 0, 0, 0, NULL), TS_ERROR(TS_BAD_REQUEST));
  EXPECT_CODE(ts_control(c, NULL, 99, 0, 0, NULL), TS_ERROR(TS_BAD_REQUEST));
  EXPECT_CODE(ts_control(c, NULL, TS_CTL_REWIND, 0, 0x10000, NULL), TS_ERROR(TS_BAD_REQUEST));
  ts_stream* st = NULL;
  struct ts_write_options o;
  TS_INIT(struct ts_write_options, &o);
  o.flags = TS_WRITE_FD; /* the library sets it, never the caller */
  EXPECT_CODE(ts_write_begin(c, NULL, &o, -1, &st), TS_ERROR(TS_BAD_REQUEST));
  o.flags = 0;
  o.block_size = 0x1000000;
  EXPECT_CODE(ts_write_begin(c, NULL, &o, -1, &st), TS_ERROR(TS_BAD_REQUEST));
  o.block_size = 0;
  o.label = "\xff\xfe not UTF-8";
  EXPECT_CODE(ts_write_begin(c, NULL, &o, -1, &st), TS_ERROR(TS_BAD_REQUEST));
  o.label = NULL;
  EXPECT_CODE(ts_write_begin(c, NULL, &o, -1, NULL), TS_ERROR(TS_BAD_REQUEST));
  EXPECT_CODE(ts_write_begin(c, NULL, &o, 12345, &st), -EBADF);
  int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_CODE(ts_read_begin(c, NULL, 0, ro, &st), -EBADF); /* a read's descriptor is written */
  close(ro);
  EXPECT_CODE(ts_verify(c, NULL, 3, TS_VERIFY_ALL, NULL, NULL, NULL), TS_ERROR(TS_BAD_REQUEST));
  EXPECT_CODE(ts_verify(c, NULL, TS_READ_CURRENT_FILE, 0, NULL, NULL, NULL), TS_ERROR(TS_BAD_REQUEST));
  EXPECT_CODE(ts_label(c, NULL, "x", 0x80, NULL, 0), TS_ERROR(TS_BAD_REQUEST));
  EXPECT_CODE(ts_label(c, NULL, "x", 0, digest_hex, 0), -EINVAL);
  EXPECT_CODE(ts_label(c, NULL, "", 0, NULL, 0), TS_ERROR(TS_BAD_REQUEST)); /* the daemon's no */
  char huge[400];
  memset(huge, 'v', sizeof huge - 1);
  huge[sizeof huge - 1] = '\0';
  EXPECT_CODE(ts_list_files(c, NULL, huge, NULL, NULL), TS_ERROR(TS_BAD_REQUEST));
  /* After all that the handle still works. */
  int drives = 0;
  EXPECT_CODE(ts_list_drives(c, count_drive, &drives), 1);
  EXPECT_CODE(ts_list_drives(c, stop_at_first, NULL), 42);
}

static void online(const char* socket_path) {
  ts_client* c = NULL;
  EXPECT_CODE(ts_connect(socket_path, "c_api_test", &c), 0);
  if (c == NULL) {
    return;
  }
  CHECK((ts_features(c) & TS_FEATURE_FD_PASSING) != 0, "fd passing granted");
  CHECK(strlen(ts_server_name(c)) > 0, "the daemon names itself");
  hostile(c);

  struct ts_drive_status s;
  TS_INIT(struct ts_drive_status, &s);
  EXPECT_CODE(ts_status(c, NULL, &s), 0);
  CHECK(strcmp(s.drive, "emu0") == 0, "status of emu0: %s", s.drive);
  CHECK((s.state & TS_STATE_LOADED) != 0, "loaded");
  CHECK(s.has_health == 1, "1.1: the health extension");
  /* A caller built against 1.0 passes the older size: accepted, nothing written beyond it. */
  memset(&s, 0xAA, sizeof s);
  s.struct_size = offsetof(struct ts_drive_status, has_health);
  EXPECT_CODE(ts_status(c, NULL, &s), 0);
  CHECK(strcmp(s.drive, "emu0") == 0, "a 1.0 status of emu0");
  const unsigned char* beyond = (const unsigned char*)&s + offsetof(struct ts_drive_status, has_health);
  int untouched = 1;
  for (size_t i = 0; i < sizeof s - offsetof(struct ts_drive_status, has_health); ++i) {
    untouched = untouched && beyond[i] == 0xAA;
  }
  CHECK(untouched, "nothing filled beyond a 1.0 struct_size");
  TS_INIT(struct ts_drive_status, &s);
  struct ts_position p;
  TS_INIT(struct ts_position, &p);
  EXPECT_CODE(ts_control(c, "emu0", TS_CTL_REWIND, 0, 0, &p), 0);
  CHECK(p.file_number == 0 && p.block_number == 0, "rewound to file 0 block 0");

  /* A socket write of 3 MiB + 17 bytes in odd pieces, with progress asked for. */
  EXPECT_CODE(ts_set_progress(c, on_progress, NULL), 0);
  struct ts_write_options o;
  TS_INIT(struct ts_write_options, &o);
  o.flags = TS_WRITE_APPEND;
  o.label = "c_api_test socket";
  ts_stream* st = NULL;
  EXPECT_CODE(ts_write_begin(c, "emu0", &o, -1, &st), 0);
  static unsigned char block[3 * 1024 * 1024 + 17];
  for (size_t i = 0; i < sizeof block; ++i) {
    block[i] = (unsigned char)(i * 7 + i / 4096);
  }
  if (st != NULL) {
    EXPECT_CODE(ts_list_drives(c, NULL, NULL), -EBUSY); /* one stream per handle */
    EXPECT_CODE(ts_stream_write(st, block, 1000), 0);
    EXPECT_CODE(ts_stream_write(st, block + 1000, sizeof block - 1000), 0);
    EXPECT_CODE(ts_stream_write(st, NULL, 5), -EINVAL);
    struct ts_result r;
    TS_INIT(struct ts_result, &r);
    EXPECT_CODE(ts_stream_commit(st, &r), 0);
    CHECK(r.status == TS_OK && r.bytes == sizeof block && r.file_number == 0,
          "committed %llu bytes as file %llu", (unsigned long long)r.bytes,
          (unsigned long long)r.file_number);
    CHECK(r.has_digest == 1, "a digest");
    printf("socket write sha256 %s\n", hex(&r));
  }
  /* Read it back through the socket, in small reads. */
  EXPECT_CODE(ts_read_begin(c, NULL, 0, -1, &st), 0);
  if (st != NULL) {
    size_t at = 0;
    int same = 1;
    unsigned char piece[70000];
    long n;
    while ((n = ts_stream_read(st, piece, sizeof piece)) > 0) {
      same = same && at + (size_t)n <= sizeof block && memcmp(piece, block + at, (size_t)n) == 0;
      at += (size_t)n;
    }
    CHECK(n == 0, "the read ends with 0: %ld %s", n, ts_last_error(c));
    CHECK(same && at == sizeof block, "read back the same %zu bytes (got %zu)", sizeof block, at);
    EXPECT_CODE(ts_stream_read(st, piece, 0), -EINVAL);
    struct ts_result r;
    TS_INIT(struct ts_result, &r);
    EXPECT_CODE(ts_stream_finish(st, &r), 0);
    CHECK(r.bytes == sizeof block, "END counts %llu", (unsigned long long)r.bytes);
  }
  CHECK(progress_calls >= 0, "progress calls: %d", progress_calls);
  EXPECT_CODE(ts_set_progress(c, NULL, NULL), 0);

  /* An fd write of a regular file, and its read back into a file by fd passing. */
  char in_path[] = "/tmp/c_api_test_in_XXXXXX";
  char out_path[] = "/tmp/c_api_test_out_XXXXXX";
  int in = mkstemp(in_path);
  int out = mkstemp(out_path);
  CHECK(in >= 0 && out >= 0, "temporary files");
  CHECK(write(in, block, 100000) == 100000, "the source written");
  lseek(in, 0, SEEK_SET);
  struct ts_result w;
  TS_INIT(struct ts_result, &w);
  EXPECT_CODE(ts_write_fd(c, NULL, &o, in, &w), 0);
  CHECK(w.bytes == 100000 && w.file_number == 1, "fd write: %llu bytes as file %llu",
        (unsigned long long)w.bytes, (unsigned long long)w.file_number);
  struct ts_result rd;
  TS_INIT(struct ts_result, &rd);
  EXPECT_CODE(ts_read_fd(c, NULL, 1, out, &rd), 0);
  CHECK(rd.bytes == 100000 && memcmp(rd.sha256, w.sha256, TS_DIGEST_SIZE) == 0,
        "fd read: %llu bytes, the same digest", (unsigned long long)rd.bytes);
  unsigned char back[100000];
  CHECK(pread(out, back, sizeof back, 0) == (ssize_t)sizeof back &&
            memcmp(back, block, sizeof back) == 0, "the file read back is the source");
  close(in);
  close(out);
  unlink(in_path);
  unlink(out_path);

  /* A file beyond end of data, and an aborted write. */
  EXPECT_CODE(ts_read_fd(c, NULL, 9, 1, NULL), TS_ERROR(TS_END_OF_DATA));
  CHECK(strlen(ts_last_error(c)) > 0, "why: %s", ts_last_error(c));
  CHECK(strlen(ts_daemon_message(c)) > 0 &&
            strstr(ts_last_error(c), ts_daemon_message(c)) != NULL,
        "the daemon's own words: %s", ts_daemon_message(c));
  EXPECT_CODE(ts_write_begin(c, NULL, &o, -1, &st), 0);
  if (st != NULL) {
    EXPECT_CODE(ts_stream_write(st, block, 4096), 0);
    EXPECT_CODE(ts_stream_abort(st, "the test's producer failed"), 0);
  }
  EXPECT_CODE(ts_write_begin(c, NULL, &o, -1, &st), 0);
  if (st != NULL) {
    EXPECT_CODE(ts_stream_write(st, block, 8192), 0);
    struct ts_result a;
    TS_INIT(struct ts_result, &a);
    EXPECT_CODE(ts_stream_abort_result(st, "the test's second producer failed", &a), 0);
    CHECK(a.stream_failed == 1 && a.status == TS_INCOMPLETE && strlen(ts_daemon_message(c)) > 0,
          "1.1: the aborted stream's account: status %u, %s", a.status, ts_daemon_message(c));
  }

  spliced(c, &o, block, 200000);

  /* The catalog, verify, control after all that. */
  int files = ts_list_files(c, NULL, NULL, NULL, NULL);
  CHECK(files >= 2, "the catalog lists the files: %d (%s)", files, ts_last_error(c));
  struct ts_volume vol;
  TS_INIT(struct ts_volume, &vol);
  int with_digest = 0;
  CHECK(ts_list_volume(c, NULL, NULL, &vol, count_listed_digests, &with_digest) == files &&
            strlen(vol.medium_serial) > 0,
        "1.1: the volume's identity: %s", vol.medium_serial);
  CHECK(with_digest >= 2, "TS_FILE_HAS_DIGEST on the committed files: %d", with_digest);
  struct ts_verify_summary v;
  TS_INIT(struct ts_verify_summary, &v);
  EXPECT_CODE(ts_verify(c, NULL, 0, TS_VERIFY_ALL, count_digests, NULL, &v), 0);
  CHECK(verified_digests >= 3, "verify gives the file's and the catalog's digest: %d",
        verified_digests);
  CHECK(v.checked >= 2 && v.bad == 0, "verify: %llu checked, %llu bad",
        (unsigned long long)v.checked, (unsigned long long)v.bad);
  struct ts_rebuilt rebuilt;
  TS_INIT(struct ts_rebuilt, &rebuilt);
  EXPECT_CODE(ts_catalog_rebuild(c, NULL, &rebuilt), 0);
  CHECK(rebuilt.data_files >= 2 && strlen(rebuilt.medium_serial) > 0,
        "rebuilt: %llu data files, medium %s", (unsigned long long)rebuilt.data_files,
        rebuilt.medium_serial);
  memset(&rebuilt, 0, sizeof rebuilt);
  EXPECT_CODE(ts_catalog_rebuild(c, NULL, &rebuilt), TS_ERROR(TS_BAD_REQUEST));
  TS_INIT(struct ts_position, &p);
  EXPECT_CODE(ts_control(c, NULL, TS_CTL_TELL, 0, 0, &p), 0);
  ts_close(c);
}

/* After online: the tape holds data, so a label needs TS_LABEL_FORCE. */
static void label(const char* socket_path) {
  ts_client* c = NULL;
  EXPECT_CODE(ts_connect(socket_path, NULL, &c), 0);
  if (c == NULL) {
    return;
  }
  EXPECT_CODE(ts_label(c, NULL, "c-api-volume", 0, NULL, 0), TS_ERROR(TS_BAD_REQUEST));
  CHECK(strstr(ts_last_error(c), "data") != NULL, "the daemon says what is there: %s",
        ts_last_error(c));
  char uuid[TS_MAX_VOLUME_TEXT + 1];
  EXPECT_CODE(ts_label(c, NULL, "c-api-volume", TS_LABEL_FORCE, uuid, sizeof uuid), 0);
  CHECK(strlen(uuid) == 36, "a UUID: %s", uuid);
  char small[8];
  EXPECT_CODE(ts_label(c, NULL, "c-api-again", TS_LABEL_FORCE, small, sizeof small), 0);
  CHECK(strlen(small) == 7, "a UUID cut to the buffer: %s", small);
  struct ts_labelled l;
  TS_INIT(struct ts_labelled, &l);
  EXPECT_CODE(ts_label_volume(c, NULL, "c-api-again", TS_LABEL_FORCE, &l), 0);
  CHECK(strcmp(l.name, "c-api-again") == 0 && strlen(l.uuid) == 36,
        "1.1: the daemon's whole answer: %s %s", l.name, l.uuid);
  ts_close(c);
}

static void full(const char* socket_path) {
  ts_client* c = NULL;
  EXPECT_CODE(ts_connect(socket_path, NULL, &c), 0);
  if (c == NULL) {
    return;
  }
  ts_stream* st = NULL;
  EXPECT_CODE(ts_write_begin(c, NULL, NULL, -1, &st), 0);
  if (st == NULL) {
    ts_close(c);
    return;
  }
  static unsigned char chunk[1 << 20];
  memset(chunk, 0x5a, sizeof chunk);
  int r = 0;
  for (int i = 0; i < 32 && r == 0; ++i) {
    r = ts_stream_write(st, chunk, sizeof chunk);
  }
  struct ts_result res;
  TS_INIT(struct ts_result, &res);
  const int committed = ts_stream_commit(st, &res);
  CHECK(r == TS_ERROR(TS_VOLUME_FULL) || r == 0, "a write past the end: %d %s", r, ts_strerror(r));
  EXPECT_CODE(committed, TS_ERROR(TS_VOLUME_FULL));
  CHECK(res.status == TS_VOLUME_FULL && res.bytes > 0 && res.bytes < 32u << 20,
        "the account: status %u, %llu bytes on tape", res.status, (unsigned long long)res.bytes);
  CHECK(strlen(ts_last_error(c)) > 0, "why: %s", ts_last_error(c));
  if (r != 0) { /* the daemon ended the stream with data in flight: the handle is done for */
    EXPECT_CODE(ts_list_drives(c, NULL, NULL), TS_ERROR(TS_UNREACHABLE));
  }
  ts_close(c);
}

static void gone(const char* socket_path) {
  ts_client* c = NULL;
  EXPECT_CODE(ts_connect(socket_path, NULL, &c), 0);
  if (c == NULL) {
    return;
  }
  printf("connected\n");
  fflush(stdout);
  char line[16];
  if (fgets(line, sizeof line, stdin) == NULL) { /* the daemon is gone when the line comes */
    CHECK(0, "a line on stdin");
  }
  struct ts_drive_status s;
  TS_INIT(struct ts_drive_status, &s);
  EXPECT_CODE(ts_status(c, "emu0", &s), TS_ERROR(TS_UNREACHABLE));
  EXPECT_CODE(ts_list_drives(c, NULL, NULL), TS_ERROR(TS_UNREACHABLE));
  ts_stream* st = NULL;
  EXPECT_CODE(ts_write_begin(c, "emu0", NULL, -1, &st), TS_ERROR(TS_UNREACHABLE));
  CHECK(st == NULL, "no stream");
  EXPECT_CODE(ts_control(c, "emu0", TS_CTL_REWIND, 0, 0, NULL), TS_ERROR(TS_UNREACHABLE));
  ts_close(c);
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "offline") == 0) {
    offline();
  } else if (argc == 3 && strcmp(argv[1], "online") == 0) {
    online(argv[2]);
  } else if (argc == 3 && strcmp(argv[1], "label") == 0) {
    label(argv[2]);
  } else if (argc == 3 && strcmp(argv[1], "full") == 0) {
    full(argv[2]);
  } else if (argc == 3 && strcmp(argv[1], "gone") == 0) {
    gone(argv[2]);
  } else if (argc == 3 && strcmp(argv[1], "shared_read") == 0) {
    shared_read(argv[2]);
  } else {
    fprintf(stderr, "usage: %s offline | online SOCKET | label SOCKET | full SOCKET | gone SOCKET | shared_read SOCKET\n", argv[0]);
    return 2;
  }
  printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
