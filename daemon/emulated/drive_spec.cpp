#include "emulated/drive_spec.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "base/startup_error.hpp"
#include "emulated/medium_serial.hpp"
#include "emulated/spec_options.hpp"

namespace tapestream::emulated {
namespace {

constexpr std::string_view prefix = "emulated:";
constexpr std::string_view null_prefix = "null:";

[[noreturn]] void fail(std::string_view spec, const std::string& why) {
  const std::string what = spec.starts_with(null_prefix) ? "null drive" : "emulated drive";
  throw StartupError{what + " \"" + std::string{spec} + "\": " + why};
}

std::optional<scsi::Opcode> opcode_by_name(std::string_view name) {
  struct Named {
    std::string_view name;
    scsi::Opcode opcode;
  };
  static constexpr Named names[] = {
      {"test_unit_ready", scsi::Opcode::test_unit_ready}, {"rewind", scsi::Opcode::rewind},
      {"read", scsi::Opcode::read6},                      {"write", scsi::Opcode::write6},
      {"write_filemarks", scsi::Opcode::write_filemarks6}, {"space", scsi::Opcode::space6},
      {"inquiry", scsi::Opcode::inquiry},                 {"erase", scsi::Opcode::erase6},
      {"load_unload", scsi::Opcode::load_unload},         {"locate", scsi::Opcode::locate16},
      {"read_position", scsi::Opcode::read_position},     {"mode_select", scsi::Opcode::mode_select6},
  };
  for (const auto& n : names) {
    if (n.name == name) {
      return n.opcode;
    }
  }
  return std::nullopt;
}

// FLAG@BYTES: a TapeAlert flag number and the bytes written before the drive raises it.
DriveSpec::TapeAlertFault parse_tape_alert(std::string_view spec, const SpecOptions& option) {
  const auto value = option.value();
  const auto at = value.find('@');
  const auto usage = "tape_alert=" + std::string{value} +
                     ": must be FLAG@BYTES, FLAG a TapeAlert flag 1 to 64 and BYTES the data "
                     "written before the drive raises it (tape_alert=31@1M)";
  if (at == std::string_view::npos) {
    fail(spec, usage);
  }
  const auto flag_text = value.substr(0, at);
  unsigned flag = 0;
  const auto [end, error] = std::from_chars(flag_text.data(), flag_text.data() + flag_text.size(), flag);
  if (error != std::errc{} || end != flag_text.data() + flag_text.size() || flag < 1 || flag > 64) {
    fail(spec, usage);
  }
  return {flag, option.number_in(value.substr(at + 1), true)};
}

// The drive model's options as given; the model is on only with buffer=.
struct ModelOptions {
  std::optional<std::uint64_t> buffer;
  std::optional<std::uint64_t> rate;
  std::optional<std::uint64_t> min_rate;
  std::optional<std::chrono::milliseconds> backhitch;
};

void model_option(std::string_view spec, const SpecOptions& option, ModelOptions& model) {
  const auto key = option.key();
  if (key == "backhitch") {
    model.backhitch = option.duration();
    return;
  }
  const auto n = option.number(true);
  if (n == 0 || n > (std::uint64_t{1} << 40)) {
    fail(spec, std::string{key} + " must be 1 to 1T (bytes, or bytes per second)");
  }
  (key == "buffer" ? model.buffer : key == "rate" ? model.rate : model.min_rate) = n;
}

std::optional<DriveModelSpec> finish_model(std::string_view spec, const ModelOptions& model) {
  if (!model.buffer) {
    if (model.rate || model.min_rate || model.backhitch) {
      fail(spec, "rate=, min_rate= and backhitch= shape the drive model, which buffer= turns on "
                 "(buffer=1G&rate=400M&min_rate=177M&backhitch=2500ms)");
    }
    return std::nullopt;
  }
  // An LTO-9 where the spec does not say: 400 MB/s, matching down to 177 MB/s.
  const auto rate = model.rate.value_or(std::uint64_t{400} << 20);
  const auto min_rate = model.min_rate.value_or(std::min(rate, std::uint64_t{177} << 20));
  if (min_rate > rate) {
    fail(spec, "min_rate must be at most rate");
  }
  DriveModelSpec m;
  m.rate = static_cast<double>(rate);
  m.min_rate = static_cast<double>(min_rate);
  m.buffer = *model.buffer;
  m.backhitch = model.backhitch.value_or(std::chrono::milliseconds{2500});
  return m;
}

// File names in the first image's directory: a path would let a spec reach anywhere.
std::vector<std::string> magazine_of(std::string_view spec, std::string_view list) {
  std::vector<std::string> names;
  while (true) {
    const auto comma = list.find(',');
    const auto name = list.substr(0, comma);
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
      fail(spec, "magazine= takes image file names in the image's directory, comma-separated "
                 "(magazine=B.tap,C.tap)");
    }
    names.emplace_back(name);
    if (names.size() > 64) {
      fail(spec, "magazine= holds at most 64 cartridges");
    }
    if (comma == std::string_view::npos) {
      return names;
    }
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

std::uint64_t DriveSpec::early_warning_offset() const {
  if (early_warning) {
    return *early_warning;
  }
  return capacity - std::min<std::uint64_t>(capacity / 64, std::uint64_t{1} << 30);
}

bool is_emulated_spec(std::string_view spec) {
  return spec.starts_with(prefix) || spec.starts_with(null_prefix);
}

DriveSpec parse_drive_spec(std::string_view spec) {
  DriveSpec d;
  d.null_medium = spec.starts_with(null_prefix);
  if (!d.null_medium && !spec.starts_with(prefix)) {
    fail(spec, "must start with \"emulated:\" or \"null:\"");
  }
  const auto rest = spec.substr(d.null_medium ? null_prefix.size() : prefix.size());
  const auto question = rest.find('?');
  d.image = std::string{rest.substr(0, question)};
  if (d.null_medium) {
    if (!d.image.empty()) {
      fail(spec, "the null drive keeps no image: nothing goes between \"null:\" and the "
                 "options (null:?capacity=16T)");
    }
    d.serial = "NULL000001";
    d.medium_serial = "NULLTAPE01";
  } else if (d.image.empty()) {
    fail(spec, "no image path");
  }
  ModelOptions model;
  SpecOptions option{spec, d.null_medium ? "null drive" : "emulated drive",
                     question == std::string_view::npos ? std::string_view{}
                                                        : rest.substr(question + 1)};
  while (option.next()) {
    const auto key = option.key();
    const auto value = option.value();
    if (key == "capacity") {
      d.capacity = option.number(true);
    } else if (key == "ew") {
      d.early_warning = option.number(true);
    } else if (key == "max_block") {
      const auto n = option.number(true);
      if (n == 0 || n > 0xFF'FFFF) {
        fail(spec, "max_block must be 1 to 16M-1 (what READ(6) and WRITE(6) can move)");
      }
      d.max_block_length = static_cast<std::uint32_t>(n);
    } else if (key == "write_protect") {
      d.write_protected = option.number(false) != 0;
    } else if (d.null_medium &&
               (key == "damaged" || key == "follow_symlinks" || key == "layout")) {
      fail(spec, std::string{key} + " is about an image file, which the null drive does not have");
    } else if (key == "damaged") {
      if (value == "refuse") {
        d.damaged = DamagePolicy::refuse;
      } else if (value == "readonly") {
        d.damaged = DamagePolicy::readonly;
      } else if (value == "cut") {
        d.damaged = DamagePolicy::cut;
      } else {
        fail(spec, "damaged=" + std::string{value} + ": must be refuse, readonly or cut");
      }
    } else if (key == "layout") {
      if (value == "aligned") {
        d.layout = ImageLayout::aligned;
      } else if (value == "packed") {
        d.layout = ImageLayout::packed;
      } else {
        fail(spec, "layout=" + std::string{value} +
                       ": must be aligned (large records on page boundaries, written without a "
                       "copy) or packed (no erase gaps: what tools without gap support read)");
      }
    } else if (key == "follow_symlinks") {
      d.follow_symlinks = option.number(false) != 0;
    } else if (key == "medium_error_write") {
      d.medium_error_write = option.number(false);
    } else if (key == "medium_error_read") {
      d.medium_error_read = option.number(false);
    } else if (key == "short_read") {
      d.short_read = option.number(false);
    } else if (key == "unit_attention") {
      d.unit_attention_after = option.number(false);
    } else if (key == "hang" || key == "wedge") {
      auto& fault = key == "hang" ? d.hang : d.wedge;
      fault = opcode_by_name(value);
      if (!fault) {
        fail(spec, std::string{key} + "=" + std::string{value} +
                       ": not a command (test_unit_ready, rewind, read, write, write_filemarks, "
                       "space, inquiry, erase, load_unload, locate, read_position, mode_select)");
      }
    } else if (key == "lbp") {
      d.logical_block_protection = option.number(false) != 0;
    } else if (key == "corrupt_write") {
      d.corrupt_write = option.number(true);
    } else if (key == "corrupt_read") {
      d.corrupt_read = option.number(true);
    } else if (key == "tape_alert") {
      d.tape_alert = parse_tape_alert(spec, option);
    } else if (key == "buffer" || key == "rate" || key == "min_rate" || key == "backhitch") {
      model_option(spec, option, model);
    } else if (key == "load_time") {
      d.load_time = option.duration();
    } else if (key == "magazine") {
      d.magazine = magazine_of(spec, value);
    } else if (key == "serial") {
      d.serial = std::string{value};
    } else if (key == "medium_serial") {
      if (!is_medium_serial_text(value)) {
        fail(spec, "medium_serial must be 1 to 32 printable characters without spaces");
      }
      d.medium_serial = std::string{value};
    } else {
      fail(spec, "unknown option \"" + std::string{key} +
                     "\" (capacity, ew, max_block, write_protect, damaged, follow_symlinks, layout, "
                     "medium_error_write, medium_error_read, short_read, unit_attention, hang, "
                     "wedge, tape_alert, lbp, corrupt_write, corrupt_read, buffer, rate, "
                     "min_rate, backhitch, load_time, magazine, serial, medium_serial)");
    }
  }
  d.model = finish_model(spec, model);
  if (d.capacity < (std::uint64_t{1} << 20)) {
    fail(spec, "capacity must be at least 1M");
  }
  if (d.early_warning_offset() > d.capacity) {
    fail(spec, "ew lies beyond capacity");
  }
  if (d.damaged == DamagePolicy::cut && d.write_protected) {
    fail(spec, "damaged=cut writes to the image: it cannot go with write_protect=1 "
               "(damaged=readonly opens a damaged image without writing)");
  }
  if (!d.magazine.empty() && (d.null_medium || !d.medium_serial.empty() || d.model)) {
    fail(spec, d.null_medium       ? "the null drive has no image files to change"
               : d.model.has_value() ? "magazine= does not go with the drive model (buffer=): "
                                       "a cartridge cannot leave while the model drains"
                                     : "medium_serial would give every cartridge of the magazine "
                                       "the same serial number");
  }
  if (d.serial.empty() || d.serial.size() > 32) {
    fail(spec, "serial must be 1 to 32 characters");
  }
  return d;
}

}  // namespace tapestream::emulated
