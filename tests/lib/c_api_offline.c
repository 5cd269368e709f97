/* libtapestream's C API without a daemon (c_api_test offline): a socket that is not there,
 * NULL handles, and hostile arguments that every function refuses before it sends anything. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "c_api_check.h"

void offline(void) {
  ts_client* c = (ts_client*)0x1;
  EXPECT_CODE(ts_connect("/nonexistent/tapestream.sock", NULL, &c), -ENOENT);
  CHECK(c == NULL, "a failed connect leaves *out NULL");
  CHECK(strstr(ts_connect_error(), "/nonexistent/tapestream.sock") != NULL,
        "the connect message names the socket: %s", ts_connect_error());
  EXPECT_CODE(ts_connect(NULL, NULL, NULL), -EINVAL);
  char long_path[200];
  memset(long_path, 'x', sizeof long_path - 1);
  long_path[sizeof long_path - 1] = '\0';
  EXPECT_CODE(ts_connect(long_path, NULL, &c), TS_ERROR(TS_UNREACHABLE));
  char long_name[300];
  memset(long_name, 'n', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  EXPECT_CODE(ts_connect("/nonexistent/x", long_name, &c), -EINVAL);

  /* NULL handles: every function refuses, none crashes. */
  ts_close(NULL);
  CHECK(strcmp(ts_last_error(NULL), "") == 0, "ts_last_error(NULL) is empty");
  CHECK(ts_features(NULL) == 0, "ts_features(NULL) is 0");
  CHECK(strcmp(ts_server_name(NULL), "") == 0, "ts_server_name(NULL) is empty");
  EXPECT_CODE(ts_set_progress(NULL, NULL, NULL), -EINVAL);
  EXPECT_CODE(ts_list_drives(NULL, NULL, NULL), -EINVAL);
  struct ts_drive_status s;
  TS_INIT(struct ts_drive_status, &s);
  EXPECT_CODE(ts_status(NULL, NULL, &s), -EINVAL);
  EXPECT_CODE(ts_control(NULL, NULL, TS_CTL_REWIND, 0, 0, NULL), -EINVAL);
  ts_stream* st = NULL;
  EXPECT_CODE(ts_write_begin(NULL, NULL, NULL, -1, &st), -EINVAL);
  EXPECT_CODE(ts_read_begin(NULL, NULL, 0, -1, &st), -EINVAL);
  EXPECT_CODE(ts_read_shared_begin(NULL, NULL, 0, &st), -EINVAL);
  EXPECT_CODE(ts_stream_write(NULL, "x", 1), -EINVAL);
  EXPECT_CODE(ts_stream_commit(NULL, NULL), -EINVAL);
  EXPECT_CODE(ts_stream_abort(NULL, NULL), -EINVAL);
  EXPECT_CODE(ts_stream_read(NULL, long_name, 1), -EINVAL);
  EXPECT_CODE(ts_stream_finish(NULL, NULL), -EINVAL);
  EXPECT_CODE(ts_write_fd(NULL, NULL, NULL, 0, NULL), -EINVAL);
  EXPECT_CODE(ts_write_fd(NULL, NULL, NULL, -1, NULL), -EBADF);
  EXPECT_CODE(ts_read_fd(NULL, NULL, 0, 1, NULL), -EINVAL);
  EXPECT_CODE(ts_list_files(NULL, NULL, NULL, NULL, NULL), -EINVAL);
  EXPECT_CODE(ts_label(NULL, NULL, "x", 0, NULL, 0), -EINVAL);
  EXPECT_CODE(ts_verify(NULL, NULL, 0, 0, NULL, NULL, NULL), -EINVAL);
  EXPECT_CODE(ts_catalog_rebuild(NULL, NULL, NULL), -EINVAL);

  /* Messages for every kind of code. */
  CHECK(strncmp(ts_strerror(TS_ERROR(TS_VOLUME_FULL)), "volume_full", 11) == 0, "volume_full");
  CHECK(strcmp(ts_strerror(0), "success") == 0, "0 is success");
  CHECK(strcmp(ts_strerror(-ENOENT), "No such file or directory") == 0, "-ENOENT");
  CHECK(strcmp(ts_strerror(TS_ERROR(999)), "unknown tapestream status") == 0, "unknown status");
  CHECK(strcmp(ts_strerror(-9999), "unknown error") == 0, "unknown errno");
  CHECK(ts_strerror(-2147483647 - 1) != NULL, "INT_MIN has a text");
  CHECK(TS_ERROR_STATUS(TS_ERROR(TS_BUSY)) == TS_BUSY, "TS_ERROR_STATUS inverts TS_ERROR");
  CHECK(TS_ERROR_STATUS(-EIO) == -1, "an errno has no status");
  CHECK(strlen(ts_version()) >= 5, "a version");

  /* 1.1 */
  CHECK(strcmp(ts_daemon_message(NULL), "") == 0, "ts_daemon_message(NULL) is empty");
  CHECK(ts_stream_ready_flags(NULL) == 0, "ts_stream_ready_flags(NULL) is 0");
  EXPECT_CODE(ts_stream_wait(NULL, 0, 0), -EINVAL);
  EXPECT_CODE(ts_stream_splice(NULL, 0, 1), -EINVAL);
  EXPECT_CODE(ts_list_volume(NULL, NULL, NULL, NULL, NULL, NULL), -EINVAL);
  EXPECT_CODE(ts_label_volume(NULL, NULL, "x", 0, NULL), -EINVAL);
  EXPECT_CODE(ts_stream_abort_result(NULL, NULL, NULL), -EINVAL);
  /* 1.2 */
  {
    struct ts_slot slot;
    TS_INIT(struct ts_slot, &slot);
    EXPECT_CODE(ts_shared_acquire(NULL, &slot, 0), -EINVAL);
    EXPECT_CODE(ts_shared_submit(NULL, 0, 1), -EINVAL);
    struct ts_block block;
    TS_INIT(struct ts_block, &block);
    EXPECT_CODE(ts_shared_next(NULL, &block, 0), -EINVAL);
    EXPECT_CODE(ts_shared_return(NULL, 0), -EINVAL);
    CHECK(ts_shared_slot_count(NULL) == 0, "ts_shared_slot_count(NULL) is 0");
  }
  /* 1.3 */
  EXPECT_CODE(ts_set_part_callback(NULL, NULL, NULL), -EINVAL);
  {
    struct ts_telemetry telemetry;
    TS_INIT(struct ts_telemetry, &telemetry);
    EXPECT_CODE(ts_progress_telemetry(NULL, &telemetry), -EINVAL);
    struct ts_progress progress = {0, 0, 0, 0};
    EXPECT_CODE(ts_progress_telemetry(&progress, NULL), -EINVAL);
  }
  CHECK(strcmp(ts_tape_alert_name(4), "Medium") == 0, "TapeAlert 4: %s", ts_tape_alert_name(4));
  CHECK(strcmp(ts_tape_alert_severity(4), "critical") == 0, "TapeAlert 4 is critical");
  CHECK(strcmp(ts_tape_alert_name(0), "") == 0 && strcmp(ts_tape_alert_name(65), "") == 0 &&
            strcmp(ts_tape_alert_severity(65), "") == 0, "no TapeAlert 0 or 65");
  uint64_t size = 0;
  EXPECT_CODE(ts_parse_size("256K", &size), 0);
  CHECK(size == 262144, "256K is %llu", (unsigned long long)size);
  EXPECT_CODE(ts_parse_size("1X", &size), -EINVAL);
  EXPECT_CODE(ts_parse_size("99999999999999999999T", &size), -EINVAL);
  EXPECT_CODE(ts_parse_size(NULL, &size), -EINVAL);
  EXPECT_CODE(ts_parse_size(long_name, &size), -EINVAL);
}
