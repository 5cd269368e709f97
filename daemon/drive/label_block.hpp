// The few commands a labelled tape needs besides its streams: one metadata block read at the
// beginning of a file, one written and closed by a filemark, and the moves around them (variable
// blocks, rewind, where the tape stands and back). The volume label and every trailer go through
// read_label_block() and write_label_block() only, so that block protection can be added to
// them in one place. They run on the drive's control path (its command runner), in the order
// called, by whoever holds the drive (a label request, or a write job before and after its
// stream); each `then` runs once, from the ring's dispatch.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "drive/stream_outcome.hpp"
#include "drive/tape_state.hpp"

namespace tapestream::drive {

class Drive;

// A label block is read with one READ of this size (or the drive's buffer, if smaller): a longer
// block is data.
inline constexpr std::size_t max_label_block = 64 * 1024;

struct LabelBlockRead {
  enum class Kind {
    block,     // `bytes` is the block (its first max_label_block bytes when `longer`)
    filemark,  // a filemark where a block was looked for
    blank,     // BLANK CHECK: nothing recorded from here on
    failed,    // the drive did not read: `ending`, `message`
  };
  Kind kind = Kind::failed;
  std::vector<std::uint8_t> bytes;
  bool longer = false;  // the block on tape was longer than the READ asked for
  bool unit_attention = false;  // failed: the drive reported a reset or a load, not a read error
  Ending ending = Ending::drive_error;
  std::string message;
};

// Whether a step (a move, a written block) went well; otherwise the drive's condition.
struct LabelStep {
  Ending ending = Ending::complete;
  std::string message;
  bool early_warning = false;  // a write passed early warning: it counts as written
  // write_label_block(): the block is on the tape but its filemark failed; what followed the
  // place it was written to is gone all the same.
  bool block_written = false;
  // write_label_block(): the WRITE failed in a way that may have recorded part of the block (a
  // timeout, a medium or hardware error, an aborted command), not one that says it never ran
  // (a unit attention, NOT READY, write protection, an illegal request).
  bool block_maybe_written = false;
  bool ok() const { return ending == Ending::complete; }
};

// READ of one variable block of up to max_label_block bytes, SILI, where the tape stands (the
// drive must be in variable-block mode: set_variable_blocks()).
void read_label_block(Drive& drive, std::function<void(const LabelBlockRead&)> then);
// WRITE of `block` as one variable block, then WRITE FILEMARKS 1 with Immed=0: `then` hears
// complete only when both are on the medium. A failed WRITE writes no filemark.
void write_label_block(Drive& drive, std::vector<std::uint8_t> block,
                       std::function<void(const LabelStep&)> then);

// MODE SELECT of variable blocks (what an earlier fixed stream or a setblk left is undone) and,
// on a drive that offers Logical Block Protection, of protection off: label blocks carry no CRC.
// Called before every read_label_block() and write_label_block().
void set_variable_blocks(Drive& drive, std::function<void(const LabelStep&)> then);
void rewind_tape(Drive& drive, std::function<void(const LabelStep&)> then);
// READ POSITION (the drive's form); empty when the drive would not say.
void read_tape_position(Drive& drive, std::function<void(std::optional<TapePosition>)> then);
// LOCATE to a block number, as a stream's own positioning does.
void locate_block(Drive& drive, std::uint64_t block, std::function<void(const LabelStep&)> then);
// SPACE over `count` filemarks (backwards when negative). Relative, so never sent again after a
// unit attention: the reset that reported it may have moved the tape.
void space_filemarks(Drive& drive, std::int64_t count,
                     std::function<void(const LabelStep&)> then);

}  // namespace tapestream::drive
