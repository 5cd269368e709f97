#include "server/volume_look.hpp"

#include <memory>

#include "drive/label_block.hpp"

namespace tapestream::server {
namespace {

using drive::LabelBlockRead;
using Then = std::function<void(const VolumeLook&)>;

VolumeLook failed(drive::Ending ending, std::string message) {
  VolumeLook look;
  look.ending = ending;
  look.message = std::move(message);
  return look;
}

VolumeLook holding(VolumeLook::Holds holds, std::string what) {
  VolumeLook look;
  look.read = true;
  look.holds = holds;
  look.what = std::move(what);
  return look;
}

// A filemark at the beginning: an empty tape only if nothing is recorded after it.
void after_leading_filemark(drive::Drive& drive, Then then) {
  drive::read_label_block(drive, [then = std::move(then)](const LabelBlockRead& r) {
    switch (r.kind) {
      case LabelBlockRead::Kind::blank:
        then(holding(VolumeLook::Holds::nothing, "the tape holds only a filemark"));
        return;
      case LabelBlockRead::Kind::failed:
        then(failed(r.ending, r.message));
        return;
      default:
        then(holding(VolumeLook::Holds::data,
                     "the tape holds data (file 0 is empty, and more follows it)"));
        return;
    }
  });
}

void look(drive::Drive& drive, Then then, int tries_left);

void first_block(drive::Drive& drive, Then then, int tries_left) {
  drive::read_label_block(drive, [&drive, then = std::move(then),
                                  tries_left](const LabelBlockRead& r) mutable {
    if (r.kind == LabelBlockRead::Kind::failed && r.unit_attention && tries_left > 0) {
      look(drive, std::move(then), tries_left - 1);  // a reset between REWIND and READ
      return;
    }
    switch (r.kind) {
      case LabelBlockRead::Kind::blank:
        then(holding(VolumeLook::Holds::nothing, "the tape is blank"));
        return;
      case LabelBlockRead::Kind::filemark:
        after_leading_filemark(drive, std::move(then));
        return;
      case LabelBlockRead::Kind::failed:
        then(failed(r.ending, "reading the beginning of the tape: " + r.message));
        return;
      case LabelBlockRead::Kind::block:
        break;
    }
    if (!r.longer) {
      if (auto volume = tape_label::parse_volume_label(r.bytes)) {
        auto look = holding(VolumeLook::Holds::volume_label,
                            "the tape is labelled \"" + volume->label + "\" (uuid " +
                                volume->uuid + ")");
        look.volume = std::move(volume);
        then(look);
        return;
      }
    }
    then(holding(VolumeLook::Holds::data,
                 "the tape holds data (file 0 begins with a block of " +
                     (r.longer ? "more than " + std::to_string(r.bytes.size())
                               : std::to_string(r.bytes.size())) +
                     " bytes, not a volume label)"));
  });
}

// Variable blocks, REWIND, READ: a unit attention on the READ (a reset or a load just then,
// which moves the tape) starts the look again, once.
void look(drive::Drive& drive, Then then, int tries_left) {
  drive::set_variable_blocks(drive, [&drive, then = std::move(then),
                                     tries_left](const drive::LabelStep& s) mutable {
    if (!s.ok()) {
      then(failed(s.ending, s.message));
      return;
    }
    drive::rewind_tape(drive, [&drive, then = std::move(then),
                               tries_left](const drive::LabelStep& r) mutable {
      if (!r.ok()) {
        then(failed(r.ending, r.message));
        return;
      }
      first_block(drive, std::move(then), tries_left);
    });
  });
}

}  // namespace

void look_at_volume(drive::Drive& drive, Then then) { look(drive, std::move(then), 1); }

}  // namespace tapestream::server
