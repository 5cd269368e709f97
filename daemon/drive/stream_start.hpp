// Where a stream's file begins. A stream is a file of its own, so it starts only at a file
// boundary: at end of data (append) or where the tape stands (here), and there only at the
// beginning of the tape or just after a filemark.
//
// A stream that ended without its filemark (a reset on WRITE FILEMARKS, a daemon killed in the
// middle of a stream) leaves data after the last filemark. Appending there would merge the new
// stream into that file and report a file number whose content is not the stream's, so append
// first closes that file with a filemark. A write "here" in the middle of a file, or after a
// reset moved the tape from where its client put it, is refused: nothing is written over data
// at a position the daemon assumed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "drive/command_channel.hpp"
#include "drive/positioning.hpp"
#include "drive/stream_outcome.hpp"

namespace tapestream::drive {

struct StartOutcome {
  Ending ending = Ending::complete;
  std::string message;  // when not ok
  // The file the stream becomes, where counting found it (drives without READ POSITION's long
  // form); otherwise READ POSITION tells.
  std::optional<std::uint64_t> file_number;
  // The last file had no filemark and got one (append only).
  bool closed_unfinished_file = false;
};

class StreamStart {
 public:
  using Done = std::function<void(const StartOutcome&)>;

  StreamStart(CommandChannel& channel, PositioningCommands positioning)
      : _channel{channel}, _positioning{positioning} {}
  StreamStart(const StreamStart&) = delete;
  StreamStart& operator=(const StreamStart&) = delete;

  // To end of data, closing an unfinished last file.
  void append(Done done);
  // Where the tape stands, which must be a file boundary. `position_trusted` is false when the
  // drive reported a reset since its tape was last positioned.
  void here(bool position_trusted, Done done);

 private:
  enum class Boundary { beginning, after_filemark, inside_file, unknown };

  void to_end_of_data();
  void count_files();
  void check_append_boundary(std::optional<std::uint64_t> files);
  void close_unfinished_file(std::optional<std::uint64_t> files);
  // Spaces back over one object to see what precedes the position; `then` gets what it found,
  // the tape standing just before that object (for beginning: where it was).
  void look_back(std::function<void(Boundary, const scsi::Classification&)> then);
  void fail(Ending ending, std::string message);
  void fail(const scsi::Classification& c, bool timed_out, const std::string& what);
  void succeed(std::optional<std::uint64_t> file, bool closed = false);

  CommandChannel& _channel;
  PositioningCommands _positioning;
  Done _done;
  int _restarts = 0;
};

}  // namespace tapestream::drive
