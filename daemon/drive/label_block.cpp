#include "drive/label_block.hpp"

#include <algorithm>

#include "drive/command_channel.hpp"
#include "drive/drive.hpp"
#include "scsi/cdb.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/position.hpp"

namespace tapestream::drive {
namespace {

using scsi::TapeCondition;

// Whether a WRITE that ended this way may have put something on the medium: only the answers
// a drive gives before it starts the command say it did not.
bool may_have_written(TapeCondition condition) {
  switch (condition) {
    case TapeCondition::no_medium:
    case TapeCondition::becoming_ready:
    case TapeCondition::not_ready:
    case TapeCondition::medium_changed:
    case TapeCondition::reset:
    case TapeCondition::parameters_changed:
    case TapeCondition::unit_attention:
    case TapeCondition::write_protected:
    case TapeCondition::data_protect:
    case TapeCondition::illegal_request:
    case TapeCondition::busy:
    case TapeCondition::reservation_conflict:
      return false;
    default:
      return true;
  }
}

LabelStep failed_step(const CommandResult& r, const std::string& what) {
  return {ending_for(r.classification, r.result.timed_out),
          what + " failed: " + describe_condition(r.classification)};
}

// Commands whose effect does not depend on where the tape stands are sent once more after a
// unit attention (a cartridge just loaded, a reset), which reports an event, not their failure.
void run_absolute(Drive& drive, const scsi::Command& command, std::string what,
                  std::function<void(const LabelStep&)> then, std::vector<std::uint8_t> out = {},
                  int tries_left = 1) {
  drive.commands().run(
      command,
      [&drive, command, what = std::move(what), then = std::move(then), out,
       tries_left](const CommandResult& r) mutable {
        const auto condition = r.classification.condition;
        if (is_unit_attention(condition) && tries_left > 0) {
          run_absolute(drive, command, std::move(what), std::move(then), std::move(out),
                       tries_left - 1);
          return;
        }
        if (condition != TapeCondition::good) {
          then(failed_step(r, what));
          return;
        }
        then({});
      },
      out);
}

}  // namespace

void read_label_block(Drive& drive, std::function<void(const LabelBlockRead&)> then) {
  const auto length = static_cast<std::uint32_t>(
      std::min<std::size_t>({max_label_block, drive.pool().buffer_size(), scsi::Count24::max}));
  const auto command = scsi::cdb::read6_variable(scsi::Count24::from(length).value(), true);
  drive.commands().run(command, [length, then = std::move(then)](const CommandResult& r) {
    LabelBlockRead read;
    const auto& c = r.classification;
    switch (c.condition) {
      case TapeCondition::good:
      case TapeCondition::short_block: {
        const auto got = std::min<std::size_t>(
            c.block_length.value_or(length - std::min<std::size_t>(r.result.residue, length)),
            r.data.size());
        read.kind = LabelBlockRead::Kind::block;
        read.bytes.assign(r.data.begin(), r.data.begin() + static_cast<std::ptrdiff_t>(got));
        break;
      }
      case TapeCondition::long_block:
        read.kind = LabelBlockRead::Kind::block;
        read.longer = true;
        read.bytes.assign(r.data.begin(), r.data.end());
        break;
      case TapeCondition::filemark:
        read.kind = LabelBlockRead::Kind::filemark;
        break;
      case TapeCondition::end_of_data:
        read.kind = LabelBlockRead::Kind::blank;
        break;
      default:
        read.kind = LabelBlockRead::Kind::failed;
        read.unit_attention = is_unit_attention(c.condition);
        read.ending = ending_for(c, r.result.timed_out);
        read.message = "READ failed: " + describe_condition(c);
        break;
    }
    then(read);
  });
}

void write_label_block(Drive& drive, std::vector<std::uint8_t> block,
                       std::function<void(const LabelStep&)> then) {
  const auto size = block.size();
  if (size == 0 || size > max_label_block || size > drive.pool().buffer_size()) {
    then({Ending::internal, "a label block of " + std::to_string(size) +
                                " bytes does not fit the drive's control buffer"});
    return;
  }
  const auto write = scsi::cdb::write6_variable(
      scsi::Count24::from(static_cast<std::uint32_t>(size)).value());
  drive.commands().run(
      write,
      [&drive, then = std::move(then)](const CommandResult& r) mutable {
        const auto condition = r.classification.condition;
        if (condition != TapeCondition::good && condition != TapeCondition::early_warning) {
          auto step = failed_step(r, "WRITE");
          step.block_maybe_written = may_have_written(condition);
          then(step);
          return;
        }
        const bool early = condition == TapeCondition::early_warning;
        const auto filemark = scsi::cdb::write_filemarks6(scsi::Count24::from(1).value(), false);
        drive.commands().run_next(filemark, [early, then = std::move(then)](const CommandResult& f) {
          const auto fc = f.classification.condition;
          if (fc != TapeCondition::good && fc != TapeCondition::early_warning) {
            auto step = failed_step(f, "WRITE FILEMARKS");
            step.early_warning = early;
            step.block_written = true;
            then(step);
            return;
          }
          LabelStep step;
          step.early_warning = early || fc == TapeCondition::early_warning;
          then(step);
        });
      },
      std::move(block));
}

// Label blocks are never protected: a stream leaves CRC32C on in the drive, and a label block
// written without its CRC (or read with one) would be refused or misread. Off is also where a
// reset takes the drive, so a reset between this and the label's READ or WRITE cannot leave the
// block stored with 4 extra bytes; the next stream confirms protection again for itself.
void set_variable_blocks(Drive& drive, std::function<void(const LabelStep&)> then) {
  const auto page = scsi::DataProtectionPage::make(scsi::DataProtectionPage::Method::none, false,
                                                   false);
  const std::span<const std::uint8_t> protection_off[] = {page.bytes()};
  auto parameters = scsi::mode_select6_parameters(
      scsi::BlockDescriptor{0, 0, 0},
      drive.identity().offers_crc32c ? std::span<const std::span<const std::uint8_t>>{protection_off}
                                     : std::span<const std::span<const std::uint8_t>>{});
  if (!parameters) {
    then({Ending::internal, "MODE SELECT parameters: " + parameters.error().message()});
    return;
  }
  auto list = std::move(parameters).value();
  const auto command = scsi::cdb::mode_select6(static_cast<std::uint8_t>(list.size()));
  run_absolute(drive, command, "MODE SELECT of variable blocks without block protection",
               std::move(then), std::move(list));
}

void rewind_tape(Drive& drive, std::function<void(const LabelStep&)> then) {
  run_absolute(drive, scsi::cdb::rewind(false), "REWIND", std::move(then));
}

void read_tape_position(Drive& drive, std::function<void(std::optional<TapePosition>)> then) {
  const auto form = drive.identity().positioning.position_form();
  const auto command = scsi::cdb::read_position(form);
  drive.commands().run(command, [form, then = std::move(then)](const CommandResult& r) {
    if (r.classification.condition != TapeCondition::good) {
      then(std::nullopt);
      return;
    }
    const auto position = scsi::parse_read_position(form, r.data);
    if (!position) {
      then(std::nullopt);
      return;
    }
    then(TapePosition::from(position.value()));
  });
}

void locate_block(Drive& drive, std::uint64_t block, std::function<void(const LabelStep&)> then) {
  const auto command = drive.identity().positioning.locate_block(block, false);
  if (!command) {
    then({Ending::drive_error, "block " + std::to_string(block) + " cannot be located"});
    return;
  }
  run_absolute(drive, *command, "LOCATE", std::move(then));
}

void space_filemarks(Drive& drive, std::int64_t count,
                     std::function<void(const LabelStep&)> then) {
  const auto command = drive.identity().positioning.space(scsi::cdb::SpaceCode::filemarks, count);
  if (!command) {
    then({Ending::drive_error, "the drive cannot space over " + std::to_string(count) +
                                   " filemarks"});
    return;
  }
  drive.commands().run(*command, [then = std::move(then)](const CommandResult& r) {
    if (r.classification.condition != TapeCondition::good) {
      then(failed_step(r, "SPACE"));
      return;
    }
    then({});
  });
}

}  // namespace tapestream::drive
