/* libtapestream: a C client of tapestreamd, the tape streaming daemon (libtapestream(3)).
 *
 * Every function returns 0 (or a count) on success and a negative code on failure, and never
 * throws: -errno for what the system refused (connect, the data descriptor), or
 * TS_ERROR(status) for what the daemon or the protocol said (TS_ERROR(TS_VOLUME_FULL)).
 * ts_strerror() names a code; ts_last_error() gives the message of the last failure on a
 * handle, with the daemon's own text. Handles are opaque; one handle is used by one thread at a
 * time. The ABI is versioned (symbol versions TAPESTREAM_1 and TAPESTREAM_1.1, SONAME
 * libtapestream.so.1): a struct that may grow carries its size in `struct_size`, which the caller
 * sets with TS_INIT; fields marked "1.1" are filled only for a struct_size that holds them. */
#ifndef TAPESTREAM_TAPESTREAM_H
#define TAPESTREAM_TAPESTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tapestream_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TS_API __attribute__((visibility("default")))
#else
#define TS_API
#endif

/* Daemon and protocol statuses (enum ts_status) as return codes, apart from every errno. */
#define TS_ERROR_BASE 10000
#define TS_ERROR(status) (-(TS_ERROR_BASE + (status)))
/* The ts_status a return code stands for, or -1 when it is an errno. */
#define TS_ERROR_STATUS(code) \
  ((code) <= -TS_ERROR_BASE ? -(code)-TS_ERROR_BASE : -1)

/* Sets a struct's size before it is passed: TS_INIT(struct ts_drive_status, &s). */
#define TS_INIT(type, pointer) \
  (memset((pointer), 0, sizeof(type)), (pointer)->struct_size = sizeof(type))

typedef struct ts_client ts_client;
typedef struct ts_stream ts_stream;

/* ---- Connecting -------------------------------------------------------------------------- */

/* Connects and says HELLO. `socket_path` NULL: $TAPESTREAM_SOCKET, else the default socket.
 * `client_name` (NULL: "libtapestream") is what the daemon logs. On failure *out is NULL and
 * nothing needs freeing; the message is in ts_connect_error(). */
TS_API int ts_connect(const char* socket_path, const char* client_name, ts_client** out);
/* The message of the last ts_connect that failed in this thread. */
TS_API const char* ts_connect_error(void);
/* Closes the connection and frees the handle (and its streams' memory; an unfinished write is
 * not committed). NULL is allowed. */
TS_API void ts_close(ts_client* client);

/* A static text for any return code of this library ("volume_full: the tape is full"). */
TS_API const char* ts_strerror(int code);
/* The message of the last failure on this handle ("" when none); valid until the next call. */
TS_API const char* ts_last_error(const ts_client* client);
/* The TS_FEATURE_* bits the daemon granted in HELLO_OK; 0 for NULL. */
TS_API uint32_t ts_features(const ts_client* client);
/* The daemon's name and version from HELLO_OK ("" for NULL). */
TS_API const char* ts_server_name(const ts_client* client);
/* The library's version, "MAJOR.MINOR.PATCH". */
TS_API const char* ts_version(void);

/* ---- Drives ------------------------------------------------------------------------------ */

/* Calls `each` once per drive the daemon serves, in its order; a non-zero return of `each`
 * stops and is returned. Returns the number of drives. */
typedef int (*ts_drive_fn)(const char* drive, void* context);
TS_API int ts_list_drives(ts_client* client, ts_drive_fn each, void* context);

struct ts_drive_status {
  size_t struct_size;
  uint32_t state;          /* TS_STATE_* */
  uint32_t block_size;     /* 0: variable */
  uint32_t max_block_length;
  uint32_t density_code;
  uint64_t block_number;   /* valid when TS_KNOWN_POSITION is in `known` (or known == 0) */
  uint64_t file_number;    /* tape files count from 0; not known with TS_STATE_FILE_UNKNOWN */
  uint64_t tape_alerts;
  uint64_t capacity_mib;
  uint64_t remaining_mib;
  uint64_t state_age_ms;   /* with TS_STATE_STALE */
  uint8_t drive_state;     /* TS_DRIVE_*, 0: not reported */
  uint8_t known;           /* TS_KNOWN_* (health feature); 0: the daemon did not say */
  char drive[TS_MAX_DRIVE_NAME + 1];
  char transport[TS_MAX_STATUS_TEXT + 1];
  char vendor[TS_MAX_STATUS_TEXT + 1];
  char product[TS_MAX_STATUS_TEXT + 1];
  char revision[TS_MAX_STATUS_TEXT + 1];
  char serial[TS_MAX_STATUS_TEXT + 1];
  char medium_serial[TS_MAX_STATUS_TEXT + 1];
  /* 1.1: DRIVE_STATUS's health extension (TS_FEATURE_HEALTH); all 0 when the daemon sent none. */
  uint32_t has_health;   /* 1: the daemon sent the extension */
  uint32_t health_known; /* TS_HEALTH_* bits of the counters below that the drive gave */
  uint64_t loads;
  uint64_t mb_written_load; /* megabytes (10^6) since the cartridge was loaded */
  uint64_t mb_read_load;
  uint64_t mb_written_life; /* over the cartridge's life */
  uint64_t mb_read_life;
  uint64_t write_retries;   /* soft (recovered) errors */
  uint64_t read_retries;
  uint64_t write_errors;    /* unrecovered */
  uint64_t read_errors;
  uint64_t block_in_file;   /* mt's "block number": blocks since the file's start */
  uint64_t cleaning;        /* 1: the drive asks to be cleaned */
  char density_name[TS_MAX_STATUS_TEXT + 1]; /* "" when the daemon has no name for the code */
};
/* DRIVE_STATUS of `drive` (NULL or "": the only drive). */
TS_API int ts_status(ts_client* client, const char* drive, struct ts_drive_status* out);

struct ts_position {
  size_t struct_size;
  uint64_t block_number;
  uint64_t file_number;
  uint32_t state; /* TS_STATE_* */
};
/* A CONTROL operation (TS_CTL_*) with its argument (a count, a block number, a size) and
 * TS_CONTROL_* flags. `out` may be NULL. */
TS_API int ts_control(ts_client* client, const char* drive, int op, int64_t argument,
                      uint32_t flags, struct ts_position* out);

/* ---- Streams ----------------------------------------------------------------------------- */

/* How far a stream is (PROGRESS), about twice a second while a callback is set. */
struct ts_progress {
  uint64_t bytes;
  uint64_t on_tape;
  uint32_t buffers_full;
  uint32_t buffers;
};
typedef void (*ts_progress_fn)(const struct ts_progress* progress, void* context);
/* Sets (or with NULL clears) the progress callback of the handle's next streams. */
TS_API int ts_set_progress(ts_client* client, ts_progress_fn fn, void* context);

/* 1.3: how well the drive is fed (PROGRESS telemetry, TS_FEATURE_TELEMETRY). A count the
 * daemon does not know is TS_TELEMETRY_UNKNOWN. Rates are of the bytes the drive took (a
 * write) or gave (a read). */
struct ts_telemetry {
  size_t struct_size;
  uint32_t state;             /* TS_PROGRESS_STREAMING, or TS_PROGRESS_WAITING for the drive */
  uint32_t owner_uid;         /* TS_PROGRESS_WAITING: whose stream holds the drive */
  uint64_t owner_since;       /* TS_PROGRESS_WAITING: since when, Unix seconds */
  uint64_t drive_waited_ns;   /* the drive stood without data while the stream was open */
  uint64_t backhitches;       /* the drive's own count during the stream */
  uint64_t rate_now;          /* bytes/s over the last second */
  uint64_t rate_average;      /* bytes/s since the stream began */
  uint32_t fill_now_permille; /* of the stream's pool */
  uint32_t fill_min_permille; /* lowest since the first WRITE */
};
/* Fills `out` from the `progress` a progress callback was given (no other). Returns 0, or
 * -ENODATA when that PROGRESS carried no telemetry (a daemon before the feature). */
TS_API int ts_progress_telemetry(const struct ts_progress* progress, struct ts_telemetry* out);

/* A stream's end: COMMITTED of a write, END of a read, or STREAM_FAILED's account (then
 * `status` is not TS_OK and bytes/blocks/file_number say what of it is on the tape). */
struct ts_result {
  size_t struct_size;
  uint32_t status; /* enum ts_status */
  uint32_t flags;  /* TS_COMMITTED_* or TS_FAILED_* */
  uint64_t bytes;
  uint64_t blocks;
  uint64_t file_number;
  uint32_t block_size;
  uint32_t has_digest; /* 1: `sha256` holds the stream's SHA-256 */
  uint8_t sha256[TS_DIGEST_SIZE];
  /* 1.1 */
  uint32_t stream_failed; /* 1: the daemon's STREAM_FAILED gave this account (0: ERROR or none) */
  /* 1.3: a spanning write (TS_WRITE_SPAN). The fields above describe the last part only (the
   * file on the volume in the drive); these count the whole stream. */
  uint32_t parts;        /* parts committed before this end (PART replies); 0 for any other stream */
  uint64_t stream_bytes; /* bytes of the stream on all its volumes: the parts' and `bytes` */
};

struct ts_write_options {
  size_t struct_size;
  uint32_t flags;           /* TS_WRITE_FIXED, TS_WRITE_NO_WAIT, TS_WRITE_APPEND, TS_WRITE_SHARED (1.2),
                               TS_WRITE_NO_DIGEST (1.3: no SHA-256 by the daemon, has_digest 0; a
                               daemon without TS_FEATURE_NO_DIGEST refuses it with -EOPNOTSUPP),
                               TS_WRITE_SPAN (1.3) */
  uint32_t block_size;      /* 0: the drive's or the daemon's default */
  uint64_t expected_length; /* 0: not known */
  const char* label;        /* NULL: none; at most TS_MAX_LABEL bytes of UTF-8 */
  /* 1.3: the stream's own start and restart marks, percent of its pool (1 to 100; 0: the
   * drive's). Needs TS_FEATURE_TELEMETRY of the daemon (-EOPNOTSUPP otherwise). */
  uint32_t start_mark;
  uint32_t restart_mark;
};

/* Starts a write of one tape file. With `fd` >= 0 and the fd_passing feature the daemon reads
 * `fd` itself (to its end) and the stream only waits in ts_stream_commit; with `fd` < 0 the
 * data goes through ts_stream_write. */
TS_API int ts_write_begin(ts_client* client, const char* drive, const struct ts_write_options* options,
                          int fd, ts_stream** out);
/* Sends `length` bytes of a socket write. A daemon that ended the stream early makes this
 * fail with its status (ts_stream_commit then gives its account). */
TS_API int ts_stream_write(ts_stream* stream, const void* data, size_t length);
/* Ends a write (END) and waits for COMMITTED. Returns 0, or the failure's code with `out`
 * filled from STREAM_FAILED. `out` may be NULL. The stream is freed either way. */
TS_API int ts_stream_commit(ts_stream* stream, struct ts_result* out);
/* Ends a write without committing it (ABORT, with a reason the daemon logs) and frees it. */
TS_API int ts_stream_abort(ts_stream* stream, const char* reason);

/* Starts a read of file `file_number` (TS_READ_CURRENT_FILE: where the tape stands). With `fd`
 * >= 0 and fd_passing the daemon writes `fd` itself; otherwise ts_stream_read gives the data. */
TS_API int ts_read_begin(ts_client* client, const char* drive, uint64_t file_number, int fd,
                         ts_stream** out);
/* Up to `capacity` bytes of a socket read; 0 at the file's end (then ts_stream_finish). */
TS_API long ts_stream_read(ts_stream* stream, void* into, size_t capacity);
/* Waits for a read's END and frees the stream. */
TS_API int ts_stream_finish(ts_stream* stream, struct ts_result* out);

/* Whole streams in one call: `fd`'s data to tape (by fd passing when granted, otherwise
 * through the socket) or a file to `fd`. When writing to `fd` fails during a read through the
 * socket (-EPIPE: its reader is gone), the read is stopped by closing the connection rather
 * than drained from the tape: the handle is then lost (later calls: TS_ERROR(TS_UNREACHABLE)). */
TS_API int ts_write_fd(ts_client* client, const char* drive, const struct ts_write_options* options,
                       int fd, struct ts_result* out);
TS_API int ts_read_fd(ts_client* client, const char* drive, uint64_t file_number, int fd,
                      struct ts_result* out);

/* ---- Catalog ----------------------------------------------------------------------------- */

struct ts_volume {
  size_t struct_size;
  uint64_t first_seen_ms;
  uint64_t last_seen_ms;
  char medium_serial[TS_MAX_VOLUME_TEXT + 1];
  char label[TS_MAX_VOLUME_TEXT + 1];
  char uuid[TS_MAX_VOLUME_TEXT + 1];
  char barcode[TS_MAX_VOLUME_TEXT + 1];
};
struct ts_file {
  size_t struct_size;
  uint64_t file_number;
  uint64_t bytes;
  uint64_t blocks;
  uint64_t padding;
  uint64_t start_ms;
  uint64_t end_ms; /* 0: not ended */
  uint64_t rate;
  uint32_t block_size;
  uint32_t client_uid;
  uint8_t status; /* TS_FILE_* */
  uint8_t flags;  /* TS_FILE_FIXED, TS_FILE_HAS_DIGEST */
  uint8_t sha256[TS_DIGEST_SIZE];
  const char* label;   /* valid during the callback */
  const char* failure; /* valid during the callback */
  /* 1.3: a part of a stream that spans volumes (TS_FEATURE_SPAN_LIST granted); all 0 for a file
   * that is no part. The struct_size the callback gets says whether these are there. */
  uint64_t span_stream; /* the stream: its first part's catalog row, the same on every part */
  uint32_t span_part;   /* the part's index, from 1 */
  uint64_t span_offset; /* where the part begins in the stream, in bytes */
  uint32_t span_flags;  /* TS_SPAN_LAST: the stream committed with this part (its last) */
};
typedef int (*ts_file_fn)(const struct ts_volume* volume, const struct ts_file* file,
                          void* context);
/* The catalog's files of a volume (`volume`: a label, UUID or medium serial; NULL or "": the
 * cartridge in `drive`). `each` may be NULL; a non-zero return of it stops the listing (the
 * rest of the answer is still read). Returns the number of files. */
TS_API int ts_list_files(ts_client* client, const char* drive, const char* volume,
                         ts_file_fn each, void* context);

/* Writes a volume label NAME (TS_LABEL_FORCE: over data or another label). `uuid` (may be
 * NULL) receives the new volume's UUID, NUL-terminated, in at most `uuid_size` bytes. */
TS_API int ts_label(ts_client* client, const char* drive, const char* name, uint32_t flags,
                    char* uuid, size_t uuid_size);

struct ts_verified {
  size_t struct_size;
  uint64_t file_number;
  uint64_t bytes;
  uint64_t blocks;
  uint64_t catalog_bytes;
  uint64_t catalog_blocks;
  uint8_t verdict;        /* TS_VERDICT_* */
  uint8_t catalog_status; /* TS_FILE_*, 0: no row */
  uint16_t condition;     /* with TS_VERDICT_UNREADABLE: what ended the reading */
  const char* message;    /* valid during the callback */
  /* 1.1 (the callback's struct_size says whether they are there) */
  uint32_t has_digest;         /* 1: `sha256` is the file's as read (read whole) */
  uint32_t has_catalog_digest; /* 1: `catalog_sha256` is the catalog's */
  uint8_t sha256[TS_DIGEST_SIZE];
  uint8_t catalog_sha256[TS_DIGEST_SIZE];
};
struct ts_verify_summary {
  size_t struct_size;
  uint64_t checked;
  uint64_t ok;
  uint64_t unrecorded;
  uint64_t bad;
  uint32_t flags; /* TS_VERIFY_DONE_* */
};
typedef void (*ts_verified_fn)(const struct ts_verified* verified, void* context);
/* Reads file `file_number` (or with TS_VERIFY_ALL every file) in the daemon and checks it
 * against the catalog. `each` and `out` may be NULL. */
TS_API int ts_verify(ts_client* client, const char* drive, uint64_t file_number, uint32_t flags,
                     ts_verified_fn each, void* context, struct ts_verify_summary* out);

struct ts_rebuilt {
  size_t struct_size;
  uint64_t files;      /* files on the tape, labels and trailers included */
  uint64_t data_files; /* rows recorded */
  uint64_t confirmed;  /* of them confirmed by their trailer */
  uint32_t flags;      /* TS_REBUILT_* */
  char medium_serial[TS_MAX_VOLUME_TEXT + 1];
  char label[TS_MAX_VOLUME_TEXT + 1];
  char uuid[TS_MAX_VOLUME_TEXT + 1];
};
/* Records the files of the cartridge in `drive` anew from the tape alone (the catalog's old rows
 * are kept, marked superseded). `out` may be NULL. */
TS_API int ts_catalog_rebuild(ts_client* client, const char* drive, struct ts_rebuilt* out);

/* ---- 1.1 (symbol version TAPESTREAM_1.1) -------------------------------------------------- */

/* The daemon's own words for the last failure on this handle (ERROR's or STREAM_FAILED's
 * message), without the library's prefix that ts_last_error() adds; "" when the failure was not
 * the daemon's (a refused argument, a lost connection). For callers that word failures
 * themselves. */
TS_API const char* ts_daemon_message(const ts_client* client);

/* As ts_stream_abort, with the daemon's account of the aborted stream (STREAM_FAILED
 * `incomplete`: what of it is on the tape) in `out` (may be NULL; TS_INIT) and its words in
 * ts_daemon_message(). */
TS_API int ts_stream_abort_result(ts_stream* stream, const char* reason, struct ts_result* out);

/* The TS_READY_* flags of the daemon's READY for this stream (TS_READY_FIXED: fixed blocks). */
TS_API uint32_t ts_stream_ready_flags(const ts_stream* stream);

/* What ts_stream_wait() saw, as bits. */
#define TS_WAIT_FD 0x1u     /* `fd` is readable, or at its end, or failed */
#define TS_WAIT_ENDED 0x2u  /* the daemon ended the stream: ts_stream_commit() gives its account */
/* Waits, during a write, until `fd` (the producer's pipe, or its pidfd; -1: none) is ready or
 * the daemon ends the stream early (a failure, its stall timeout), whichever comes first;
 * PROGRESS meanwhile goes to the progress callback. `timeout_ms` as poll(2) (-1: no limit).
 * Returns TS_WAIT_* bits, 0 on timeout, or a negative code. With fd passing this is how a
 * caller watches its producer while the daemon reads the data itself. */
TS_API int ts_stream_wait(ts_stream* stream, int fd, int timeout_ms);

/* Moves up to `max` bytes that wait in the pipe `fd` into a socket write as one DATA frame, by
 * splice(2): the bytes never pass through the caller's memory. Returns the bytes moved; 0 when
 * the pipe holds none just now (read(2) it then, which also sees its end); -EINVAL when `fd` is
 * not a pipe; or a failure's code, as ts_stream_write. */
TS_API long ts_stream_splice(ts_stream* stream, int fd, size_t max);

/* As ts_list_files, and `volume_out` (may be NULL; TS_INIT) receives the volume's identity even
 * when it has no file. */
TS_API int ts_list_volume(ts_client* client, const char* drive, const char* volume,
                          struct ts_volume* volume_out, ts_file_fn each, void* context);

/* What LABEL wrote: the name as the daemon recorded it, the new volume's UUID, and
 * TS_LABELLED_VOIDED when the tape held data, which is gone now. */
struct ts_labelled {
  size_t struct_size;
  uint32_t flags; /* TS_LABELLED_* */
  char name[TS_MAX_LABEL + 1];
  char uuid[TS_MAX_VOLUME_TEXT + 1];
};
/* As ts_label, with the daemon's whole answer in `out` (may be NULL; TS_INIT). */
TS_API int ts_label_volume(ts_client* client, const char* drive, const char* name, uint32_t flags,
                           struct ts_labelled* out);

/* The name and severity ("critical", "warning", "information") of TapeAlert flag 1 to 64, as
 * ts_drive_status.tape_alerts' bit flag-1 stands for; "" outside 1 to 64. Static texts. */
TS_API const char* ts_tape_alert_name(unsigned flag);
TS_API const char* ts_tape_alert_severity(unsigned flag);

/* A size as people write it ("262144", "256K", "1M", "16G": powers of 1024) into *out. Returns
 * 0, or -EINVAL for anything else or an overflow. */
TS_API int ts_parse_size(const char* text, uint64_t* out);

/* ---- Changer (1.1, symbol version TAPESTREAM_1.1) ------------------------------------------ */

/* One element of a library's changer: slots numbered from 1 (the import/export slots after the
 * storage slots, as mtx numbers them), drives from 0 with the daemon's name for them. */
struct ts_element {
  size_t struct_size;
  uint8_t kind;     /* TS_ELEMENT_SLOT, TS_ELEMENT_IMPORT_EXPORT, TS_ELEMENT_DRIVE */
  uint8_t flags;    /* TS_ELEMENT_FULL, TS_ELEMENT_EXCEPTION */
  uint16_t address; /* the changer's element address */
  uint32_t number;
  uint32_t source;  /* the slot the cartridge came from; 0 not known */
  char barcode[TS_MAX_VOLUME_TEXT + 1];
  char drive[TS_MAX_DRIVE_NAME + 1]; /* drives: the daemon's name ("" none matched) */
};
typedef int (*ts_element_fn)(const char* library, const struct ts_element* element,
                             void* context);
/* The elements of `library` (NULL or "": the daemon's only library); a non-zero return of
 * `each` stops the calls (the rest of the answer is still read). Returns the number of
 * elements. */
TS_API int ts_changer_status(ts_client* client, const char* library, ts_element_fn each,
                             void* context);
/* Moves a cartridge: TS_CHANGER_LOAD the cartridge of `slot` into `drive`; TS_CHANGER_UNLOAD
 * `drive`'s cartridge (its tape unloaded first) into `slot` (0: the slot it came from);
 * TS_CHANGER_TRANSFER slot `slot` to slot `to_slot` (`drive` NULL). `from` and `to` (each may
 * be NULL, else set with TS_INIT) receive the two elements as they are after the move. */
TS_API int ts_changer_move(ts_client* client, const char* library, unsigned operation,
                           uint32_t slot, uint32_t to_slot, const char* drive,
                           struct ts_element* from, struct ts_element* to);

/* ---- Shared buffers (1.2) ------------------------------------------------------------------
 * A write with TS_WRITE_SHARED in its options (the daemon must grant TS_FEATURE_SHARED_BUFFERS;
 * -EOPNOTSUPP otherwise; not with a data descriptor) moves its data with no copy between the
 * producer and the tape: the producer acquires a slot of the daemon's memfd, writes up to
 * `capacity` bytes into it in place, and submits it; the daemon writes it to tape from the same
 * memory and frees it when the drive has it. Every slot but the last must be submitted full
 * (`capacity` bytes): a shorter one ends the data. ts_stream_commit (END) or ts_stream_abort
 * ends the stream as on the socket path. The digest is taken at submit: a slot must not be
 * written between ts_shared_submit and its next acquire (PROTOCOL.md, "Shared buffers"). */
struct ts_slot {
  size_t struct_size;
  uint32_t index;  /* what ts_shared_submit names */
  void* data;      /* `capacity` bytes, the producer's until it submits them */
  size_t capacity; /* the stream's block size */
};
/* Waits until a slot is free (at most `timeout_ms` as poll(2), -1: no limit) and gives it to
 * the caller. Returns 0; -ETIMEDOUT; or, when the daemon ended the stream early, its code
 * (ts_stream_commit then gives the account). PROGRESS meanwhile goes to the callback. */
TS_API int ts_shared_acquire(ts_stream* stream, struct ts_slot* slot, int timeout_ms);
/* Hands slot `index` (acquired, not yet submitted) with its first `length` bytes to the daemon.
 * -EINVAL for a slot the caller does not hold or a length of 0 or over the capacity. */
TS_API int ts_shared_submit(ts_stream* stream, uint32_t index, size_t length);
/* The number of slots of a shared-buffer write or read (0 for any other stream). */
TS_API uint32_t ts_shared_slot_count(const ts_stream* stream);

/* ---- Shared-buffer reads (1.4) -------------------------------------------------------------
 * A read whose blocks the drive reads straight into slots of a memfd the daemon shares with
 * this process (the daemon must grant TS_FEATURE_SHARED_BUFFERS; -EOPNOTSUPP otherwise): the
 * consumer takes each block where it lies, in the file's order, and gives its slot back for the
 * next one. ts_stream_read does not apply (-EINVAL); ts_stream_finish ends the read as any
 * other, giving back every slot the caller still holds first and letting the rest of the file
 * go by (the blocks' data is gone then) - unless the caller's last ts_shared_next timed out:
 * then it closes the connection instead of waiting on the drive, and the handle is lost
 * (TS_ERROR(TS_UNREACHABLE)) (PROTOCOL.md, "Shared buffers"). */
struct ts_block {
  size_t struct_size;
  uint32_t index;   /* what ts_shared_return names */
  const void* data; /* the block, `length` bytes, the caller's until it returns the slot */
  size_t length;
};
TS_API int ts_read_shared_begin(ts_client* client, const char* drive, uint64_t file_number,
                                ts_stream** out);
/* Waits (at most `timeout_ms` as poll(2), -1: no limit) for the file's next block. Returns 1
 * with `block` filled; 0 at the file's end (then ts_stream_finish); -ETIMEDOUT; or, when the
 * daemon ended the read early, its code (ts_stream_finish then gives the account). The daemon
 * reads no further while the caller holds every slot: return them as they are used. */
TS_API int ts_shared_next(ts_stream* stream, struct ts_block* block, int timeout_ms);
/* Gives slot `index` back (-EINVAL for a slot the caller does not hold). */
TS_API int ts_shared_return(ts_stream* stream, uint32_t index);

/* ---- Streams that span volumes (1.3) -------------------------------------------------------
 * A write with TS_WRITE_SPAN in its options (the daemon must grant TS_FEATURE_SPAN, -EOPNOTSUPP
 * otherwise; only on a drive of a library) goes on on the library's next scratch volume when a
 * tape reaches early warning. Each part that is committed (its data and filemark on its volume)
 * is reported to the part callback as it happens; the stream's ts_result then describes the last
 * part, with `parts` and `stream_bytes` for the whole stream. On a failure after some parts,
 * those parts stay committed: their bytes are `stream_bytes` - `bytes`. */
struct ts_part {
  size_t struct_size;
  uint32_t index;         /* from 1 */
  uint64_t file_number;   /* the part's file on its volume */
  uint64_t bytes;         /* bytes of the stream in this part: what reading that file returns */
  uint64_t blocks;
  uint64_t stream_bytes;  /* bytes of the stream in this part and the ones before it */
  char barcode[TS_MAX_VOLUME_TEXT + 1];       /* "" when not known */
  char medium_serial[TS_MAX_VOLUME_TEXT + 1]; /* "" when not known */
};
/* Called during a spanning write (from ts_stream_write, ts_stream_wait, ts_stream_commit, ...,
 * in the caller's thread) once per committed part, in order. The struct is valid during the
 * call; its struct_size is the library's. */
typedef void (*ts_part_fn)(const struct ts_part* part, void* context);
/* Sets (or with NULL clears) the part callback of the handle's next streams. */
TS_API int ts_set_part_callback(ts_client* client, ts_part_fn fn, void* context);

#ifdef __cplusplus
}
#endif

#endif /* TAPESTREAM_TAPESTREAM_H */
