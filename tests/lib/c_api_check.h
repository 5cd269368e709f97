/* The checks of the C API's tests (c_api_test.c, c_api_offline.c, c_api_shared.c): each counted, a failed one
 * printed with its place, the program's exit status from the counts. */
#ifndef TAPESTREAM_TESTS_C_API_CHECK_H
#define TAPESTREAM_TESTS_C_API_CHECK_H

#include <stdio.h>

#include <tapestream/tapestream.h>

extern int failures;
extern int checks;

#define CHECK(cond, ...)                                       \
  do {                                                         \
    ++checks;                                                  \
    if (!(cond)) {                                             \
      ++failures;                                              \
      fprintf(stderr, "FAILED %s:%d: ", __FILE__, __LINE__);   \
      fprintf(stderr, __VA_ARGS__);                            \
      fputc('\n', stderr);                                     \
    }                                                          \
  } while (0)

#define EXPECT_CODE(call, want)                                                           \
  do {                                                                                    \
    const long got_ = (long)(call);                                                       \
    CHECK(got_ == (long)(want), "%s returned %ld (%s), expected %ld (%s)", #call, got_,   \
          ts_strerror((int)got_), (long)(want), ts_strerror((int)(want)));                \
  } while (0)

/* c_api_offline.c: no daemon: a socket that is not there, NULL handles, hostile arguments that
 * fail before anything is sent. */
void offline(void);
/* c_api_shared.c: a file read back through shared buffers (1.4). */
void shared_read(const char* socket_path);

#endif
