#include "drive/stream_start.hpp"

#include "drive/write_stream.hpp"

namespace tapestream::drive {
namespace {

using scsi::TapeCondition;
using Resend = CommandChannel::Resend;

scsi::Classification classify(const scsi::Command& command, const transport::ScsiResult& r) {
  return scsi::classify(command, r.status());
}

// A reset in the middle of the sequence moves the tape; start over from an absolute place, but
// not forever.
constexpr int max_restarts = 2;

}  // namespace

void StreamStart::append(Done done) {
  _done = std::move(done);
  (void)_channel.take_unit_attention();
  if (_positioning.long_position) {
    to_end_of_data();
  } else {
    count_files();
  }
}

void StreamStart::to_end_of_data() {
  const auto command = *_positioning.space(scsi::cdb::SpaceCode::end_of_data, 0);
  _channel.send(command, {}, [this, command](const auto& r) {
    const auto c = classify(command, r);
    if (c.condition != TapeCondition::good) {
      fail(c, r.timed_out, "cannot go to end of data");
      return;
    }
    check_append_boundary(std::nullopt);
  }, Resend::after_unit_attention);
}

// Without file numbers from the drive: from the beginning over every filemark; the spacing
// stops at end of data, and its residue says how many filemarks it passed.
void StreamStart::count_files() {
  const auto rewind = scsi::cdb::rewind(false);
  _channel.send(rewind, {}, [this, rewind](const auto& r) {
    const auto c = classify(rewind, r);
    if (c.condition != TapeCondition::good) {
      fail(c, r.timed_out, "cannot rewind to count the files");
      return;
    }
    const auto all = space_to_end_count;
    const auto space = *_positioning.space(scsi::cdb::SpaceCode::filemarks, all);
    _channel.send(space, {}, [this, space, all](const auto& spaced) {
      const auto s = classify(space, spaced);
      if (is_unit_attention(s.condition) && ++_restarts <= max_restarts) {
        count_files();
        return;
      }
      if (s.condition != TapeCondition::end_of_data || !s.residue || *s.residue < 0 ||
          *s.residue > all) {
        fail(s, spaced.timed_out, "cannot count the files on the tape: spacing to end of data "
                                  "ended in " + describe_condition(s));
        return;
      }
      check_append_boundary(static_cast<std::uint64_t>(all - *s.residue));
    });
  }, Resend::after_unit_attention);
}

void StreamStart::check_append_boundary(std::optional<std::uint64_t> files) {
  look_back([this, files](Boundary boundary, const scsi::Classification& c) {
    switch (boundary) {
      case Boundary::beginning:
        succeed(files);
        return;
      case Boundary::after_filemark: {
        // The look back left the tape before that filemark: to end of data again.
        const auto command = *_positioning.space(scsi::cdb::SpaceCode::end_of_data, 0);
        _channel.send(command, {}, [this, command, files](const auto& r) {
          const auto back = classify(command, r);
          if (back.condition != TapeCondition::good) {
            fail(back, r.timed_out, "cannot go to end of data");
            return;
          }
          succeed(files);
        }, Resend::after_unit_attention);
        return;
      }
      case Boundary::inside_file:
        close_unfinished_file(files);
        return;
      case Boundary::unknown:
        if (is_unit_attention(c.condition) && ++_restarts <= max_restarts) {
          append(std::move(_done));
          return;
        }
        fail(c, false, "cannot tell whether the last file on the tape is complete");
        return;
    }
  });
}

void StreamStart::close_unfinished_file(std::optional<std::uint64_t> files) {
  const auto to_end = *_positioning.space(scsi::cdb::SpaceCode::end_of_data, 0);
  _channel.send(to_end, {}, [this, to_end, files](const auto& r) {
    const auto c = classify(to_end, r);
    if (c.condition != TapeCondition::good) {
      fail(c, r.timed_out, "cannot go to end of data");
      return;
    }
    const auto mark = scsi::cdb::write_filemarks6(scsi::Count24::from(1).value(), false);
    _channel.send(mark, {}, [this, mark, files](const auto& written) {
      const auto w = classify(mark, written);
      if (w.condition != TapeCondition::good && w.condition != TapeCondition::early_warning) {
        fail(w, written.timed_out,
             "the last file on the tape has no filemark (a stream that was cut off) and writing "
             "one failed");
        return;
      }
      // Counted files were filemarks passed; the one just closed is one more.
      succeed(files ? std::optional{*files + 1} : std::nullopt, true);
    });
  }, Resend::after_unit_attention);
}

void StreamStart::here(bool position_trusted, Done done) {
  _done = std::move(done);
  if (!position_trusted || _channel.take_unit_attention()) {
    fail(Ending::medium_changed,
         "the drive was reset since its tape was last positioned, so where it stands is not "
         "known; position it (rewind, eod, fsf N) and write again");
    return;
  }
  look_back([this](Boundary boundary, const scsi::Classification& c) {
    switch (boundary) {
      case Boundary::beginning:
        succeed(std::nullopt);
        return;
      case Boundary::after_filemark: {
        const auto forward = *_positioning.space(scsi::cdb::SpaceCode::filemarks, 1);
        _channel.send(forward, {}, [this, forward](const auto& r) {
          const auto f = classify(forward, r);
          if (f.condition != TapeCondition::good) {
            fail(f, r.timed_out, "cannot return over the filemark before the stream");
            return;
          }
          succeed(std::nullopt);
        });
        return;
      }
      case Boundary::inside_file: {
        const auto forward = *_positioning.space(scsi::cdb::SpaceCode::blocks, 1);
        _channel.send(forward, {}, [this](const auto&) {
          fail(Ending::not_at_boundary,
               "the tape stands inside a file, not at its start: a stream is a file of its own; "
               "position at a file boundary (rewind, eod, fsf N, bsf N) or append");
        });
        return;
      }
      case Boundary::unknown:
        fail(c, false, "cannot tell where the tape stands");
        return;
    }
  });
}

void StreamStart::look_back(std::function<void(Boundary, const scsi::Classification&)> then) {
  const auto back = *_positioning.space(scsi::cdb::SpaceCode::blocks, -1);
  _channel.send(back, {}, [back, then = std::move(then)](const auto& r) {
    const auto c = classify(back, r);
    switch (c.condition) {
      case TapeCondition::beginning_of_medium:
        then(Boundary::beginning, c);
        return;
      case TapeCondition::filemark:
        then(Boundary::after_filemark, c);
        return;
      case TapeCondition::good:
        then(Boundary::inside_file, c);
        return;
      default:
        then(Boundary::unknown, c);
        return;
    }
  });
}

void StreamStart::fail(Ending ending, std::string message) {
  StartOutcome o;
  o.ending = ending;
  o.message = std::move(message);
  _done(o);
}

void StreamStart::fail(const scsi::Classification& c, bool timed_out, const std::string& what) {
  fail(c.condition == TapeCondition::good ? Ending::drive_error : ending_for(c, timed_out),
       what + ": " + describe_condition(c));
}

void StreamStart::succeed(std::optional<std::uint64_t> file, bool closed) {
  StartOutcome o;
  o.file_number = file;
  o.closed_unfinished_file = closed;
  _done(o);
}

}  // namespace tapestream::drive
