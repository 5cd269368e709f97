/* The tapestream socket protocol, version 1: constants for C and for any language that binds
 * to C. PROTOCOL.md is the specification; this header names its numbers. Frames are parsed
 * field by field (all little-endian), never by casting bytes to a struct. */
#ifndef TAPESTREAM_PROTO_H
#define TAPESTREAM_PROTO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TS_PROTO_MAGIC_0 0x54 /* 'T' */
#define TS_PROTO_MAGIC_1 0x50 /* 'P' */
#define TS_PROTO_MAGIC_2 0x53 /* 'S' */
#define TS_PROTO_MAGIC_3 0x01
#define TS_PROTO_VERSION 1
#define TS_PROTO_HEADER_SIZE 16
#define TS_PROTO_DEFAULT_SOCKET "/run/tapestream/tapestreamd.sock"

/* Header fields: offsets in the 16-byte header. */
#define TS_HDR_MAGIC 0
#define TS_HDR_VERSION 4
#define TS_HDR_FLAGS 5
#define TS_HDR_TYPE 6
#define TS_HDR_REQUEST_ID 8
#define TS_HDR_LENGTH 12

/* Message types. */
enum ts_message_type {
  TS_MSG_HELLO = 0x0001,
  TS_MSG_LIST_DRIVES = 0x0002,
  TS_MSG_STATUS = 0x0003,
  TS_MSG_WRITE = 0x0004,
  TS_MSG_READ = 0x0005,
  TS_MSG_CONTROL = 0x0006,
  TS_MSG_LIST_FILES = 0x0007,
  TS_MSG_VERIFY = 0x0008,
  TS_MSG_LABEL = 0x0009,
  TS_MSG_CATALOG_REBUILD = 0x000A,
  TS_MSG_CHANGER_STATUS = 0x000B,
  TS_MSG_CHANGER_MOVE = 0x000C,
  TS_MSG_DATA = 0x0010,
  TS_MSG_END = 0x0011,
  TS_MSG_ABORT = 0x0012,
  TS_MSG_SUBMIT = 0x0013, /* shared buffers: slot i holds n bytes of the stream */
  TS_MSG_RETURN = 0x0014, /* shared-buffer read: the client is done with slot i */
  TS_MSG_HELLO_OK = 0x8001,
  TS_MSG_DRIVE_LIST = 0x8002,
  TS_MSG_DRIVE_STATUS = 0x8003,
  TS_MSG_READY = 0x8004,
  TS_MSG_CONTROL_DONE = 0x8006,
  TS_MSG_FILE_LIST = 0x8007,
  TS_MSG_COMMITTED = 0x8008,
  TS_MSG_STREAM_FAILED = 0x8009,
  TS_MSG_PROGRESS = 0x800A,
  TS_MSG_VERIFIED = 0x800B,
  TS_MSG_VERIFY_DONE = 0x800C,
  TS_MSG_LABELLED = 0x800D,
  TS_MSG_CATALOG_REBUILT = 0x800E,
  TS_MSG_CHANGER_ELEMENTS = 0x800F,
  TS_MSG_CHANGER_MOVED = 0x8010,
  TS_MSG_PART = 0x8011, /* a WRITE with TS_WRITE_SPAN: one part of the stream is committed */
  TS_MSG_SLOT_FREE = 0x8014, /* shared buffers: the slot's WRITE completed, it is the client's */
  TS_MSG_FILLED = 0x8015,    /* shared-buffer read: slot i holds the next block, n bytes */
  TS_MSG_ERROR = 0x80FF
};

/* Feature bits of HELLO and HELLO_OK. */
#define TS_FEATURE_FD_PASSING 0x1u
#define TS_FEATURE_DIGEST 0x2u
#define TS_FEATURE_HEALTH 0x4u /* DRIVE_STATUS byte 65 says what is known; health extension */
#define TS_FEATURE_SHARED_BUFFERS 0x8u /* WRITE with TS_WRITE_SHARED: slots in a passed memfd */
#define TS_FEATURE_SPAN 0x10u  /* the daemon knows TS_WRITE_SPAN and sends PART */
#define TS_FEATURE_TELEMETRY 0x20u /* PROGRESS carries telemetry; WRITE may carry its own marks */
#define TS_FEATURE_SPAN_LIST 0x40u /* FILE_LIST entries carry their span fields (TS_FILE_LIST_SPAN) */
#define TS_FEATURE_NO_DIGEST 0x80u /* the daemon knows TS_WRITE_NO_DIGEST */

/* Status codes of ERROR and STREAM_FAILED. */
enum ts_status {
  TS_OK = 0,
  TS_BAD_MAGIC = 1,
  TS_BAD_VERSION = 2,
  TS_BAD_LENGTH = 3,
  TS_BAD_TYPE = 4,
  TS_BAD_REQUEST = 5,
  TS_OUT_OF_SEQUENCE = 6,
  TS_UNKNOWN_DRIVE = 7,
  TS_BUSY = 8,
  TS_NOT_PERMITTED = 9,
  TS_NO_MEDIUM = 10,
  TS_WRITE_PROTECTED = 11,
  TS_VOLUME_FULL = 12,
  TS_MEDIUM_ERROR = 13,
  TS_DRIVE_ERROR = 14,
  TS_TIMEOUT = 15,
  TS_MEDIUM_CHANGED = 16,
  TS_END_OF_DATA = 17,
  TS_CLIENT_GONE = 18,
  TS_SHUTTING_DOWN = 19,
  TS_INTERNAL = 20,
  TS_UNREACHABLE = 21,
  TS_INCOMPLETE = 22,
  TS_STALLED = 23
};

/* CONTROL operations. */
enum ts_control_op {
  TS_CTL_REWIND = 1,
  TS_CTL_LOAD = 2,
  TS_CTL_EJECT = 3,
  TS_CTL_WEOF = 4,
  TS_CTL_FSF = 5,
  TS_CTL_BSF = 6,
  TS_CTL_FSR = 7,
  TS_CTL_BSR = 8,
  TS_CTL_EOD = 9,
  TS_CTL_TELL = 10,
  TS_CTL_SEEK = 11,
  TS_CTL_ERASE = 12,
  TS_CTL_SETBLK = 13,
  TS_CTL_COMPRESSION = 14
};

/* Flags. */
#define TS_WRITE_FIXED 0x1u
#define TS_WRITE_NO_WAIT 0x2u
#define TS_WRITE_FD 0x4u
#define TS_WRITE_APPEND 0x8u
#define TS_WRITE_PROGRESS 0x10u
#define TS_WRITE_SHARED 0x40u /* data through shared buffer slots (SUBMIT), not DATA */
#define TS_WRITE_SPAN 0x20u /* at early warning go on on the library's next scratch volume */
#define TS_WRITE_NO_DIGEST 0x80u /* the daemon takes no SHA-256 of the stream (the digest is not known) */
/* PROGRESS telemetry (feature `telemetry`): a count that is not known, and the states. */
#define TS_TELEMETRY_UNKNOWN UINT64_MAX
#define TS_PROGRESS_STREAMING 0u
#define TS_PROGRESS_WAITING 1u /* in the line of a busy drive; the owner fields say whose */
#define TS_PROGRESS_MAX_FILL 1000u /* pool fill is in per mille */
#define TS_MAX_MARK_PERCENT 100u
#define TS_PROGRESS_TELEMETRY_SIZE 56u /* bytes PROGRESS carries beyond its first 24 */
#define TS_READ_FD 0x4u
#define TS_READ_PROGRESS 0x10u
#define TS_READ_SHARED 0x40u /* blocks in shared buffer slots (FILLED, RETURN), not DATA */
#define TS_READ_CURRENT_FILE UINT64_MAX
#define TS_CONTROL_IMMEDIATE 0x1u
#define TS_READY_FIXED 0x1u
#define TS_READY_SHARED 0x2u /* READY carries slot count and size; a memfd came with it */
#define TS_COMMITTED_EARLY_WARNING 0x1u
#define TS_FAILED_FILEMARK_WRITTEN 0x1u
#define TS_LABEL_FORCE 0x1u        /* LABEL: write the label even over data or another label */
#define TS_LABELLED_VOIDED 0x1u    /* LABELLED: the tape held data, which is gone now */
#define TS_FILE_LIST_MORE 0x1u     /* FILE_LIST: more frames of this answer follow */
#define TS_FILE_LIST_SPAN 0x2u     /* FILE_LIST: each entry ends with its span fields (span_list) */
#define TS_FILE_FIXED 0x1u         /* a FILE_LIST entry: written in fixed-block mode */
#define TS_FILE_HAS_DIGEST 0x2u    /* a FILE_LIST entry: its SHA-256 is known */
#define TS_SPAN_LAST 0x1u          /* a FILE_LIST entry's span flags: the stream committed with this part */
/* The status of a file in the catalog (FILE_LIST entries). */
#define TS_FILE_WRITING 1u
#define TS_FILE_COMPLETE 2u
#define TS_FILE_INTERRUPTED 3u
#define TS_FILE_FAILED 4u
#define TS_FILE_OVERWRITTEN 5u
#define TS_FILE_SCANNED 6u    /* found on the tape by `catalog rebuild`, not confirmed by it */
#define TS_FILE_SUPERSEDED 7u /* a later `catalog rebuild` recorded the file anew */
#define TS_FILE_STATUS_MAX 7u
/* VERIFY: flags of the request. */
#define TS_VERIFY_ALL 0x1u       /* every file from file 0 to end of data; file number 0 */
#define TS_VERIFY_PROGRESS 0x10u /* send PROGRESS */
/* VERIFIED: the verdict on one file. */
#define TS_VERDICT_OK 1u         /* matches the catalog's complete row */
#define TS_VERDICT_MISMATCH 2u   /* size or SHA-256 differs from the catalog's complete row */
#define TS_VERDICT_UNRECORDED 3u /* no complete row with a digest: only readable-ness checked */
#define TS_VERDICT_UNREADABLE 4u /* a medium or drive error ended the reading */
#define TS_VERDICT_MAX 4u
/* VERIFIED flags. */
#define TS_VERIFIED_READ_DIGEST 0x1u    /* the whole file was read: its SHA-256 is given */
#define TS_VERIFIED_CATALOG_DIGEST 0x2u /* the catalog's SHA-256 is given */
/* VERIFY_DONE flags. */
#define TS_VERIFY_DONE_END_OF_DATA 0x1u /* the end of data was reached (with TS_VERIFY_ALL) */
#define TS_VERIFY_DONE_CUT 0x2u         /* stopped before end of data (see PROTOCOL.md) */
/* CATALOG_REBUILD flags, and CATALOG_REBUILT flags. */
#define TS_REBUILD_PROGRESS 0x10u
#define TS_REBUILT_LABELLED 0x1u /* file 0 is a volume label */
#define TS_REBUILT_CUT 0x2u      /* stopped before end of data */
/* CHANGER_MOVE operations. */
#define TS_CHANGER_LOAD 1u     /* a slot's cartridge into a drive */
#define TS_CHANGER_UNLOAD 2u   /* a drive's cartridge (unloaded first) to a slot, its source by default */
#define TS_CHANGER_TRANSFER 3u /* a slot's cartridge to another slot */
/* CHANGER_ELEMENTS: the kind of an element, its flags, and the frame's flags. */
#define TS_ELEMENT_SLOT 1u
#define TS_ELEMENT_IMPORT_EXPORT 2u
#define TS_ELEMENT_DRIVE 3u
#define TS_ELEMENT_FULL 0x1u      /* holds a cartridge */
#define TS_ELEMENT_EXCEPTION 0x2u /* the changer reports it in an abnormal state */
#define TS_ELEMENTS_MORE 0x1u     /* more frames of this answer follow */
/* State flags of DRIVE_STATUS and CONTROL_DONE. */
#define TS_STATE_LOADED 0x1u
#define TS_STATE_WRITE_PROTECTED 0x2u
#define TS_STATE_BOP 0x4u
#define TS_STATE_EARLY_WARNING 0x8u
#define TS_STATE_BUSY 0x10u
#define TS_STATE_COMPRESSION 0x20u
#define TS_STATE_FILE_UNKNOWN 0x40u
#define TS_STATE_STALE 0x80u
/* DRIVE_STATUS byte 64: what the drive is doing (0: not reported, as by an older daemon). */
#define TS_DRIVE_NO_MEDIUM 1u
#define TS_DRIVE_LOADED 2u         /* a cartridge, where the tape stands not known */
#define TS_DRIVE_POSITIONED 3u
#define TS_DRIVE_WRITING 4u
#define TS_DRIVE_READING 5u
#define TS_DRIVE_EARLY_WARNING 6u  /* positioned beyond early warning */
#define TS_DRIVE_FAILED 7u         /* its last command failed (drive error, medium error, timeout) */
#define TS_DRIVE_STATE_MAX 7u
/* DRIVE_STATUS byte 65, only with the `health` feature (0 otherwise): which fields the drive
 * gave. A field whose bit is clear is not known, whatever its value. */
#define TS_KNOWN_TAPE_ALERTS 0x1u
#define TS_KNOWN_CAPACITY 0x2u
#define TS_KNOWN_REMAINING 0x4u
#define TS_KNOWN_DENSITY 0x8u
#define TS_KNOWN_POSITION 0x10u /* block number (and file number unless TS_STATE_FILE_UNKNOWN) */
#define TS_KNOWN_ALL 0x1Fu
/* The health extension's known mask: one bit per field, in the order of PROTOCOL.md. */
#define TS_HEALTH_LOADS 0x1u
#define TS_HEALTH_MB_WRITTEN_LOAD 0x2u
#define TS_HEALTH_MB_READ_LOAD 0x4u
#define TS_HEALTH_MB_WRITTEN_LIFE 0x8u
#define TS_HEALTH_MB_READ_LIFE 0x10u
#define TS_HEALTH_WRITE_RETRIES 0x20u
#define TS_HEALTH_READ_RETRIES 0x40u
#define TS_HEALTH_WRITE_ERRORS 0x80u
#define TS_HEALTH_READ_ERRORS 0x100u
#define TS_HEALTH_BLOCK_IN_FILE 0x200u
#define TS_HEALTH_CLEANING 0x400u
#define TS_HEALTH_ALL 0x7FFu
#define TS_HEALTH_FIXED_SIZE 96 /* the extension's numbers, before the density name */

/* Limits. */
#define TS_MAX_DATA 16777216u /* largest DATA body either side may announce */
#define TS_MAX_DRIVE_NAME 32
#define TS_MAX_PEER_NAME 126
#define TS_MAX_LABEL 255
#define TS_MAX_STATUS_TEXT 64
#define TS_MAX_MESSAGE 1024
#define TS_MAX_DRIVES 1024
#define TS_DIGEST_SIZE 32
#define TS_MAX_VOLUME_TEXT 64    /* a volume's label, UUID, medium serial, barcode */
#define TS_MAX_FILE_FAILURE 255  /* a FILE_LIST entry's failure text */
#define TS_MAX_FILES_PER_FRAME 64
#define TS_MAX_VOLUME_NAME 64    /* a volume label's name, as LABELLED says it */
#define TS_MAX_ELEMENTS_PER_FRAME 128 /* CHANGER_ELEMENTS entries in one frame */
#define TS_MAX_SHARED_SLOTS 256       /* slots of one shared-buffer stream */

#ifdef __cplusplus
}
#endif

#endif /* TAPESTREAM_PROTO_H */
