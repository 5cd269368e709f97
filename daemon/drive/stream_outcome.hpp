// How a drive's stream ended and how far it got, in the drive's own terms: tape conditions and
// the reasons its owner gives for cutting it. The drive knows nothing of the wire protocol; the
// server turns these into protocol status codes in one place (server/status_map.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/sha256.hpp"
#include "scsi/condition.hpp"

namespace tapestream::drive {

enum class Ending : std::uint8_t {
  complete,         // write: on the medium and closed by a filemark; read: the whole file given
  // The drive ended it.
  end_of_data,      // read: nothing recorded there, or the data ended before a filemark
  volume_full,      // early warning, end of medium, volume overflow
  medium_error,
  write_protected,
  no_medium,
  medium_changed,   // a reset, a unit attention, a changed medium: the position is not known
  timeout,
  drive_error,
  not_at_boundary,  // a stream asked to start where the tape stands, and it stands mid-file
  // Its owner ended it, for the reason given.
  client_gone,      // the producer or consumer went away
  incomplete,       // the producer aborted, or sent less or more than it announced
  bad_end,          // the client's end of the stream contradicts the data it sent
  stalled,          // the client moved no data for too long
  shutting_down,    // the daemon is stopping
  internal,         // the daemon failed to feed it (an I/O error on its side)
};

std::string_view ending_name(Ending ending);

// The ending a tape condition gives a stream (or a control operation) it stopped.
Ending ending_for(const scsi::Classification& c, bool timed_out);
// A drive's answer in a stream's message: the condition, and its ASC/ASCQ when it sent sense
// ("medium_error (0C/00)").
std::string describe_condition(const scsi::Classification& c);

struct StreamOutcome {
  Ending ending = Ending::complete;
  std::uint64_t bytes = 0;        // of this stream, on the medium (write) or given (read)
  std::uint64_t blocks = 0;
  std::uint64_t file_number = 0;  // the file the stream became
  bool filemark_written = false;
  bool early_warning = false;     // the tape passed early warning
  // Before the stream, the last file on the tape had no filemark (an earlier stream was cut
  // off) and got one; the stream is the file after it.
  bool closed_unfinished_file = false;
  // A fixed-block stream could not set the drive back to variable blocks after it.
  bool mode_not_restored = false;
  // Logical Block Protection: every block of the stream carried its CRC32C (checked by the
  // drive on WRITE, by the daemon on READ); and whether the drive offers it at all.
  bool protected_blocks = false;
  bool protection_offered = false;
  std::string message;            // for the client and the log, when not complete
  // Write: of the client's bytes (never the padding of a fixed-mode last block), set when the
  // stream is committed. Read: of what the client was given, padding included, set when the
  // whole file was given.
  std::optional<base::Sha256Digest> sha256;

  // A part of a spanning stream ended at early warning and is committed (its data and filemark
  // on the medium, `bytes` exact; ending says volume_full): the stream goes on on the next
  // volume with the blocks this part did not write.
  bool continues = false;

  bool complete() const { return ending == Ending::complete; }
};

// How far a running stream is, for the client's progress display.
struct StreamProgress {
  std::uint64_t bytes = 0;         // taken from the producer (write) or given (read)
  std::uint64_t on_tape = 0;       // written: acknowledged by the drive; read: read from it
  std::uint32_t buffers_full = 0;  // buffers holding data not yet on tape / not yet taken
  std::uint32_t buffers = 0;       // buffers the stream has
  // How well a write feeds its drive (empty: not measured, as for a read).
  std::optional<std::uint64_t> drive_waited_ns;  // no WRITE with the drive, mid-stream
  std::optional<std::uint64_t> backhitches;      // the drive's own count (log page 3Ch)
  std::optional<std::uint32_t> buffers_full_min; // since the first WRITE, before the end
  // The drive's lowest speed the WRITEs were paced from (bytes/s; empty: not paced).
  std::optional<std::uint64_t> paced_from;
};

}  // namespace tapestream::drive
