/* libtapestream's shared-buffer reads against a real daemon (c_api_test shared_read, 1.4): a
 * file written through the socket read back block by block from the daemon's slots, with the
 * write's digest; hostile returns refused; a reader that keeps its slots and stops early; a file
 * that is not there refused at the start. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "c_api_check.h"

/* The file written below: 3 MiB and a short last block of 1000 bytes. */
static unsigned char shared_data[(3u << 20) + 1000];

void shared_read(const char* socket_path) {
  ts_client* c = NULL;
  EXPECT_CODE(ts_connect(socket_path, NULL, &c), 0);
  if (c == NULL) {
    return;
  }
  CHECK((ts_features(c) & TS_FEATURE_SHARED_BUFFERS) != 0, "the daemon grants shared buffers");
  for (size_t i = 0; i < sizeof shared_data; ++i) {
    shared_data[i] = (unsigned char)(i * 7 + i / 4093);
  }
  ts_stream* st = NULL;
  struct ts_result written;
  TS_INIT(struct ts_result, &written);
  EXPECT_CODE(ts_write_begin(c, NULL, NULL, -1, &st), 0);
  if (st == NULL) {
    ts_close(c);
    return;
  }
  EXPECT_CODE(ts_stream_write(st, shared_data, sizeof shared_data), 0);
  EXPECT_CODE(ts_stream_commit(st, &written), 0);

  EXPECT_CODE(ts_read_shared_begin(c, NULL, written.file_number, &st), 0);
  if (st == NULL) {
    ts_close(c);
    return;
  }
  CHECK(ts_shared_slot_count(st) >= 2, "a shared read has slots: %u", ts_shared_slot_count(st));
  unsigned char one;
  EXPECT_CODE((int)ts_stream_read(st, &one, 1), -EINVAL); /* its blocks come by ts_shared_next */
  struct ts_block b;
  TS_INIT(struct ts_block, &b);
  size_t at = 0;
  int blocks = 0;
  int r;
  while ((r = ts_shared_next(st, &b, 30000)) == 1) {
    CHECK(at + b.length <= sizeof shared_data && memcmp(b.data, shared_data + at, b.length) == 0,
          "block %d (%zu bytes at %zu) is the file's", blocks, b.length, at);
    at += b.length;
    if (blocks++ == 0) {
      EXPECT_CODE(ts_shared_return(st, b.index + 1000), -EINVAL); /* not a slot at all */
      EXPECT_CODE(ts_shared_return(st, (b.index + 1) % ts_shared_slot_count(st)), -EINVAL); /* the daemon's */
    }
    EXPECT_CODE(ts_shared_return(st, b.index), 0);
    EXPECT_CODE(ts_shared_return(st, b.index), -EINVAL); /* given back already */
  }
  EXPECT_CODE(r, 0);
  CHECK(at == sizeof shared_data && blocks >= 2, "%zu bytes in %d blocks", at, blocks);
  EXPECT_CODE(ts_shared_next(st, &b, 0), 0); /* still the end */
  struct ts_result res;
  TS_INIT(struct ts_result, &res);
  EXPECT_CODE(ts_stream_finish(st, &res), 0);
  CHECK(res.bytes == sizeof shared_data && res.has_digest &&
            memcmp(res.sha256, written.sha256, TS_DIGEST_SIZE) == 0,
        "END: %llu bytes, the write's digest", (unsigned long long)res.bytes);

  /* A reader that keeps the two blocks it took and stops: finish gives them back, lets the
   * rest of the file go by, and the handle serves the next request. */
  EXPECT_CODE(ts_read_shared_begin(c, NULL, written.file_number, &st), 0);
  if (st != NULL) {
    EXPECT_CODE(ts_shared_next(st, &b, 30000), 1);
    EXPECT_CODE(ts_shared_next(st, &b, 30000), 1);
    TS_INIT(struct ts_result, &res);
    EXPECT_CODE(ts_stream_finish(st, &res), 0);
    CHECK(res.bytes == sizeof shared_data, "the early finish's END: %llu bytes",
          (unsigned long long)res.bytes);
  }
  struct ts_drive_status s;
  TS_INIT(struct ts_drive_status, &s);
  EXPECT_CODE(ts_status(c, NULL, &s), 0);

  /* A file that is not there: refused before any slot is shared; the handle goes on. */
  st = NULL;
  EXPECT_CODE(ts_read_shared_begin(c, NULL, written.file_number + 5, &st), TS_ERROR(TS_END_OF_DATA));
  CHECK(st == NULL, "no stream for a file that is not there");
  EXPECT_CODE(ts_status(c, NULL, &s), 0);
  ts_close(c);
}
