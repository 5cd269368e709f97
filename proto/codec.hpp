// Encoding and decoding of protocol frames (PROTOCOL.md), shared by the daemon and the
// client. Every input is untrusted: the header is checked before any body byte is read, each
// body must have exactly its type's layout, and a failure is the status code the peer is told.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "common/result.hpp"
#include "tapestream_proto.h"

namespace tapestream::proto {

using ByteView = std::span<const std::uint8_t>;
using Frame = std::vector<std::uint8_t>;
using Digest = std::array<std::uint8_t, TS_DIGEST_SIZE>;

enum class Status : std::uint16_t {
  ok = TS_OK,
  bad_magic = TS_BAD_MAGIC,
  bad_version = TS_BAD_VERSION,
  bad_length = TS_BAD_LENGTH,
  bad_type = TS_BAD_TYPE,
  bad_request = TS_BAD_REQUEST,
  out_of_sequence = TS_OUT_OF_SEQUENCE,
  unknown_drive = TS_UNKNOWN_DRIVE,
  busy = TS_BUSY,
  not_permitted = TS_NOT_PERMITTED,
  no_medium = TS_NO_MEDIUM,
  write_protected = TS_WRITE_PROTECTED,
  volume_full = TS_VOLUME_FULL,
  medium_error = TS_MEDIUM_ERROR,
  drive_error = TS_DRIVE_ERROR,
  timeout = TS_TIMEOUT,
  medium_changed = TS_MEDIUM_CHANGED,
  end_of_data = TS_END_OF_DATA,
  client_gone = TS_CLIENT_GONE,
  shutting_down = TS_SHUTTING_DOWN,
  internal = TS_INTERNAL,
  unreachable = TS_UNREACHABLE,
  incomplete = TS_INCOMPLETE,
  stalled = TS_STALLED,
};

const std::error_category& status_category();
inline std::error_code make_error_code(Status s) {
  return {static_cast<int>(s), status_category()};
}
// The name PROTOCOL.md gives the code ("volume_full"), for JSON and logs.
std::string_view status_name(Status s);

enum class Type : std::uint16_t {
  hello = TS_MSG_HELLO,
  list_drives = TS_MSG_LIST_DRIVES,
  status = TS_MSG_STATUS,
  write = TS_MSG_WRITE,
  read = TS_MSG_READ,
  control = TS_MSG_CONTROL,
  list_files = TS_MSG_LIST_FILES,
  verify = TS_MSG_VERIFY,
  catalog_rebuild = TS_MSG_CATALOG_REBUILD,
  label = TS_MSG_LABEL,
  changer_status = TS_MSG_CHANGER_STATUS,
  changer_move = TS_MSG_CHANGER_MOVE,
  data = TS_MSG_DATA,
  end = TS_MSG_END,
  abort = TS_MSG_ABORT,
  submit = TS_MSG_SUBMIT,
  slot_return = TS_MSG_RETURN,
  hello_ok = TS_MSG_HELLO_OK,
  drive_list = TS_MSG_DRIVE_LIST,
  drive_status = TS_MSG_DRIVE_STATUS,
  ready = TS_MSG_READY,
  control_done = TS_MSG_CONTROL_DONE,
  file_list = TS_MSG_FILE_LIST,
  committed = TS_MSG_COMMITTED,
  stream_failed = TS_MSG_STREAM_FAILED,
  progress = TS_MSG_PROGRESS,
  labelled = TS_MSG_LABELLED,
  verified = TS_MSG_VERIFIED,
  verify_done = TS_MSG_VERIFY_DONE,
  catalog_rebuilt = TS_MSG_CATALOG_REBUILT,
  changer_elements = TS_MSG_CHANGER_ELEMENTS,
  changer_moved = TS_MSG_CHANGER_MOVED,
  slot_free = TS_MSG_SLOT_FREE,
  filled = TS_MSG_FILLED,
  part = TS_MSG_PART,
  error = TS_MSG_ERROR,
};

enum class ControlOp : std::uint16_t {
  rewind = TS_CTL_REWIND,
  load = TS_CTL_LOAD,
  eject = TS_CTL_EJECT,
  weof = TS_CTL_WEOF,
  fsf = TS_CTL_FSF,
  bsf = TS_CTL_BSF,
  fsr = TS_CTL_FSR,
  bsr = TS_CTL_BSR,
  eod = TS_CTL_EOD,
  tell = TS_CTL_TELL,
  seek = TS_CTL_SEEK,
  erase = TS_CTL_ERASE,
  setblk = TS_CTL_SETBLK,
  compression = TS_CTL_COMPRESSION,
};

// Who reads the frame: the daemon accepts requests, the client replies; both DATA and END.
enum class Receiver { daemon, client };

struct Header {
  Type type = Type::hello;
  std::uint32_t request_id = 0;
  std::uint32_t length = 0;
};

// Checks magic, version, flags, the type for this receiver and the body length for the type;
// `max_data` bounds DATA bodies (what HELLO_OK announced). Errors are Status codes.
Result<Header> decode_header(ByteView bytes, Receiver receiver, std::uint32_t max_data);

struct Hello {
  std::uint16_t min_version = TS_PROTO_VERSION;
  std::uint16_t max_version = TS_PROTO_VERSION;
  std::uint32_t features = 0;
  std::string client;
};
struct HelloOk {
  std::uint16_t version = TS_PROTO_VERSION;
  std::uint32_t features = 0;
  std::uint32_t max_data = 0;
  std::string server;
};
struct ListDrives {};
struct StatusRequest {
  std::string drive;
};
struct WriteRequest {
  std::uint32_t flags = 0;
  std::uint32_t block_size = 0;
  std::uint64_t expected_length = 0;
  std::string drive;
  std::string label;
  // Appended with `telemetry`: the stream's own marks in percent of its pool (0: the drive's).
  std::uint16_t start_mark = 0;
  std::uint16_t restart_mark = 0;
};
struct ReadRequest {
  std::uint32_t flags = 0;
  std::uint64_t file_number = TS_READ_CURRENT_FILE;
  std::string drive;
};
struct ControlRequest {
  ControlOp op = ControlOp::tell;
  std::uint16_t flags = 0;
  std::int64_t argument = 0;
  std::string drive;
};
// A view into the frame it was decoded from.
struct Data {
  ByteView bytes;
};
struct End {
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  std::optional<Digest> digest;
};
// The client ends its write stream without committing it: its producer failed.
struct Abort {
  std::string reason;
};
struct DriveList {
  std::vector<std::string> drives;
};
// DRIVE_STATUS's health extension (feature `health`): counters as the drive's pages give them;
// `known` has a TS_HEALTH_* bit for each field the drive gave, the others are not known.
struct DriveHealth {
  std::uint32_t known = 0;
  std::uint64_t loads = 0;             // volume statistics: thread count
  std::uint64_t mb_written_load = 0;   // megabytes (10^6) written since the cartridge was loaded
  std::uint64_t mb_read_load = 0;
  std::uint64_t mb_written_life = 0;   // over the cartridge's life
  std::uint64_t mb_read_life = 0;
  std::uint64_t write_retries = 0;     // soft (recovered) errors
  std::uint64_t read_retries = 0;
  std::uint64_t write_errors = 0;      // unrecovered
  std::uint64_t read_errors = 0;
  std::uint64_t block_in_file = 0;     // mt's "block number": blocks since the file's start
  std::uint64_t cleaning = 0;          // 1: the drive asks to be cleaned, 0: it does not
  std::string density_name;            // empty when the daemon has no name for the code
};
struct DriveStatus {
  std::uint32_t state = 0;
  std::uint32_t block_size = 0;
  std::uint32_t max_block_length = 0;
  std::uint32_t density_code = 0;
  std::uint64_t block_number = 0;
  std::uint64_t file_number = 0;
  std::uint64_t tape_alerts = 0;
  std::uint64_t capacity_mib = 0;
  std::uint64_t remaining_mib = 0;
  std::uint64_t state_age_ms = 0;  // with TS_STATE_STALE: how old the last known state is
  std::uint8_t drive_state = 0;    // TS_DRIVE_*, 0 not reported
  std::uint8_t known = 0;          // TS_KNOWN_*, only with `health` (0 without)
  std::string drive;
  std::string transport;
  std::string vendor;
  std::string product;
  std::string revision;
  std::string serial;
  std::string medium_serial;
  std::optional<DriveHealth> health;  // present only for a client granted `health`
};
struct Ready {
  std::uint64_t file_number = 0;
  std::uint32_t block_size = 0;
  std::uint32_t flags = 0;
  // With TS_READY_SHARED only (the body is then 24 bytes): the passed memfd's slots, each
  // `slot_stride` bytes apart and holding at most `block_size` bytes of the stream.
  std::uint32_t slot_count = 0;
  std::uint32_t slot_stride = 0;
};
// Shared buffers: slot `slot` holds `length` bytes, the next of the stream.
struct Submit {
  std::uint32_t slot = 0;
  std::uint32_t length = 0;
};
// Shared buffers: the slot's WRITE completed; the client may fill it again.
struct SlotFree {
  std::uint32_t slot = 0;
};
// Shared-buffer read: slot `slot` holds the next block of the file, `length` bytes; it is the
// client's until it sends SlotReturn.
struct Filled {
  std::uint32_t slot = 0;
  std::uint32_t length = 0;
};
struct SlotReturn {
  std::uint32_t slot = 0;
};
// How far a stream is, sent about twice a second while the request asked for it.
struct Progress {
  std::uint64_t bytes = 0;     // of the stream, taken from the client (write) or given (read)
  std::uint64_t on_tape = 0;   // written: acknowledged by the drive; read: read from it
  std::uint32_t buffers_full = 0;  // pool buffers holding data not yet on tape / not yet taken
  std::uint32_t buffers = 0;       // pool buffers the stream has
  // With `telemetry` (PROTOCOL.md, PROGRESS): how well the drive is fed.
  struct Telemetry {
    std::uint64_t drive_waited_ns = 0;  // the pool was empty while the drive could have written
    std::uint64_t backhitches = TS_TELEMETRY_UNKNOWN;  // of this stream; the drive's own count
    std::uint64_t rate_now = 0;                        // bytes/s over the last second
    std::uint64_t rate_average = 0;                    // bytes/s since READY
    std::uint16_t fill_now = 0;                        // per mille of the stream's pool
    std::uint16_t fill_min = 0;                        // lowest since the first WRITE
    std::uint32_t state = TS_PROGRESS_STREAMING;
    std::uint32_t owner_uid = 0;    // TS_PROGRESS_WAITING: who holds the drive
    std::uint64_t owner_since = 0;  // TS_PROGRESS_WAITING: since when (Unix seconds)
  };
  std::optional<Telemetry> telemetry;
};
struct ControlDone {
  std::uint64_t block_number = 0;
  std::uint64_t file_number = 0;
  std::uint32_t state = 0;
};
struct Committed {
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  std::uint64_t file_number = 0;
  std::uint32_t block_size = 0;
  std::uint32_t flags = 0;
  std::optional<Digest> digest;
};
struct StreamFailed {
  Status status = Status::internal;
  std::uint16_t flags = 0;
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  std::uint64_t file_number = 0;
  std::string message;
};
// The files the catalog knows on a volume: `volume` a label, UUID or medium serial number, or
// empty for the cartridge in `drive`.
struct ListFiles {
  std::string drive;
  std::string volume;
};
struct FileEntry {
  std::uint64_t file_number = 0;
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  std::uint64_t padding = 0;
  std::uint64_t start_ms = 0;  // milliseconds since the epoch
  std::uint64_t end_ms = 0;    // 0: not ended
  std::uint64_t rate = 0;      // bytes per second
  std::uint32_t block_size = 0;
  std::uint32_t client_uid = 0;
  std::uint8_t status = TS_FILE_WRITING;
  std::uint8_t flags = 0;  // TS_FILE_FIXED
  std::optional<Digest> digest;
  std::string label;
  std::string failure;
  // With TS_FILE_LIST_SPAN on the frame (feature `span_list`): a part of a spanning stream names
  // the stream (its first part's catalog row), its index from 1 and its offset in the stream;
  // all 0 for a file that is no part. TS_SPAN_LAST: the part with which the stream committed.
  std::uint64_t span_stream = 0;
  std::uint32_t span_part = 0;
  std::uint32_t span_flags = 0;
  std::uint64_t span_offset = 0;
};
// One frame of the answer to LIST_FILES: the volume, and up to 64 of its files; with
// TS_FILE_LIST_MORE, more frames follow.
struct FileList {
  std::uint32_t flags = 0;
  std::uint64_t first_seen_ms = 0;
  std::uint64_t last_seen_ms = 0;
  std::string medium_serial;
  std::string label;
  std::string uuid;
  std::string barcode;
  std::vector<FileEntry> files;
};
// Writes a volume label at the beginning of the tape in `drive` (PROTOCOL.md, LABEL). The
// name is checked by the daemon, so that a bad one gets a message rather than a bad frame.
struct LabelRequest {
  std::uint32_t flags = 0;  // TS_LABEL_FORCE
  std::string drive;
  std::string name;
};
struct Labelled {
  std::uint32_t flags = 0;  // TS_LABELLED_VOIDED
  std::string uuid;
  std::string name;
};
// Reads files of the tape in the daemon and checks them against the catalog: one file, or with
// TS_VERIFY_ALL every file from file 0 to end of data (file_number 0).
struct VerifyRequest {
  std::uint32_t flags = 0;
  std::uint64_t file_number = 0;
  std::string drive;
};
// The verdict on one file a VERIFY read.
struct Verified {
  std::uint64_t file_number = 0;
  std::uint64_t bytes = 0;           // read (of an unreadable file: before the error)
  std::uint64_t blocks = 0;
  std::uint64_t catalog_bytes = 0;   // the catalog row's bytes + padding; 0 without a row
  std::uint64_t catalog_blocks = 0;
  std::uint8_t verdict = TS_VERDICT_UNRECORDED;  // TS_VERDICT_*
  std::uint8_t catalog_status = 0;   // TS_FILE_* of the newest row, 0: no row
  Status condition = Status::ok;     // with TS_VERDICT_UNREADABLE: what ended the reading
  std::optional<Digest> digest;          // of the file as read, when read whole
  std::optional<Digest> catalog_digest;  // the catalog's
  std::string message;
};
// The end of a VERIFY's answer.
struct VerifyDone {
  std::uint64_t checked = 0;
  std::uint64_t ok = 0;
  std::uint64_t unrecorded = 0;
  std::uint64_t bad = 0;  // mismatch or unreadable
  std::uint32_t flags = 0;  // TS_VERIFY_DONE_*
};
// Rebuilds the catalog's rows of the cartridge in `drive` from the tape alone.
struct CatalogRebuild {
  std::uint32_t flags = 0;  // TS_REBUILD_PROGRESS
  std::string drive;
};
struct CatalogRebuilt {
  std::uint64_t files = 0;       // files on the tape, labels and trailers included
  std::uint64_t data_files = 0;  // rows recorded
  std::uint64_t confirmed = 0;   // of them confirmed by their trailer
  std::uint32_t flags = 0;       // TS_REBUILT_*
  std::string medium_serial;
  std::string label;
  std::string uuid;
};
// The elements of a library's changer (`library` empty: the daemon's only library).
struct ChangerStatus {
  std::string library;
};
// Moves a cartridge (PROTOCOL.md, CHANGER_MOVE). Slots are numbered from 1, the import/export
// slots after the storage slots, as mtx numbers them; `drive` is the daemon's name of a drive.
struct ChangerMove {
  std::uint16_t op = TS_CHANGER_LOAD;  // TS_CHANGER_*
  std::uint32_t slot = 0;     // load: the slot; unload: the slot, 0 its source; transfer: from
  std::uint32_t to_slot = 0;  // transfer only
  std::string library;
  std::string drive;          // load and unload only
};
// One element of a changer as CHANGER_ELEMENTS and CHANGER_MOVED give it.
struct ChangerElement {
  std::uint8_t kind = TS_ELEMENT_SLOT;  // TS_ELEMENT_*
  std::uint8_t flags = 0;               // TS_ELEMENT_FULL, TS_ELEMENT_EXCEPTION
  std::uint32_t number = 0;   // slots from 1 (import/export after them), drives from 0
  std::uint16_t address = 0;  // the changer's element address
  std::uint32_t source = 0;   // the slot number the cartridge came from; 0 not known
  std::string barcode;
  std::string drive;          // drives: the daemon's name for it (empty: none matched)
};
// One frame of the answer to CHANGER_STATUS; with TS_ELEMENTS_MORE, more frames follow.
struct ChangerElements {
  std::uint32_t flags = 0;
  std::string library;
  std::vector<ChangerElement> elements;
};
// A move done: the two elements as they are after it.
struct ChangerMoved {
  ChangerElement from;
  ChangerElement to;
};
// One part of a spanning stream is committed: its data and filemark are on this volume.
struct Part {
  std::uint32_t index = 1;          // from 1
  std::uint64_t file_number = 0;    // the part's file on its volume
  std::uint64_t bytes = 0;          // of the stream, in this part
  std::uint64_t blocks = 0;
  std::uint64_t stream_bytes = 0;   // of the stream in this part and the ones before it
  std::string barcode;              // the cartridge's, empty when unknown
  std::string medium_serial;        // empty when unknown
};
struct Error {
  Status status = Status::internal;
  std::string message;
};

using Message = std::variant<Hello, HelloOk, ListDrives, StatusRequest, WriteRequest, ReadRequest,
                             ControlRequest, Data, End, Abort, DriveList, DriveStatus, Ready, ControlDone,
                             Committed, StreamFailed, Progress, Error, ListFiles, FileList,
                             LabelRequest, Labelled, VerifyRequest, Verified, VerifyDone,
                             CatalogRebuild, CatalogRebuilt, ChangerStatus, ChangerMove,
                             ChangerElements, ChangerMoved, Submit, SlotFree, Filled,
                             SlotReturn, Part>;

// Decodes a body whose header decode_header accepted. Errors: bad_length (the body is not
// exactly the type's layout), bad_request (a field out of range: an invalid drive name, an
// unknown operation or status).
Result<Message> decode_body(const Header& header, ByteView body);

// A whole frame. Errors: bad_request when a field cannot be sent (an invalid drive name, a
// string longer than its field, more than 1024 drives, DATA larger than 16 MiB).
Result<Frame> encode(const Message& message, std::uint32_t request_id);

// The header of a DATA frame whose body of `length` bytes is sent separately (from a
// registered buffer, without a copy into the frame).
std::array<std::uint8_t, TS_PROTO_HEADER_SIZE> data_header(std::uint32_t request_id,
                                                          std::uint32_t length);

// Drive names: [A-Za-z0-9._-]{1,32}.
bool valid_drive_name(std::string_view name);
// Well-formed UTF-8 (no overlong forms, surrogates or code points beyond U+10FFFF), as every
// string field must be.
bool valid_utf8(std::string_view text);
// Replaces each byte that is not part of well-formed UTF-8 with '?', in place.
void replace_invalid_utf8(std::span<std::uint8_t> bytes);

}  // namespace tapestream::proto

template <>
struct std::is_error_code_enum<tapestream::proto::Status> : std::true_type {};
