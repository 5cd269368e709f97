#include "emulated/library_spec.hpp"

#include <algorithm>

#include "emulated/library_model.hpp"
#include "emulated/spec_options.hpp"

namespace tapestream::emulated {
namespace {

constexpr std::string_view prefix = "emulated-library:";

std::vector<std::string> names_in(const SpecOptions& option) {
  std::vector<std::string> names;
  auto list = option.value();
  while (true) {
    const auto comma = list.find(',');
    const auto name = list.substr(0, comma);
    if (name.empty()) {
      option.fail("drives=" + std::string{option.value()} +
                  ": a comma-separated list of drive names (drives=lto1,lto2)");
    }
    if (name.size() > LibraryShape::max_drive_serial) {
      option.fail("drive \"" + std::string{name} + "\" is longer than " +
                  std::to_string(LibraryShape::max_drive_serial) + " characters");
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      option.fail("drive \"" + std::string{name} + "\" is named twice");
    }
    names.emplace_back(name);
    if (comma == std::string_view::npos) {
      return names;
    }
    list.remove_prefix(comma + 1);
  }
}

std::uint16_t count_within(const SpecOptions& option, std::uint64_t low, std::uint64_t high) {
  const auto n = option.number();
  if (n < low || n > high) {
    option.fail(std::string{option.key()} + " must be " + std::to_string(low) + " to " +
                std::to_string(high));
  }
  return static_cast<std::uint16_t>(n);
}

}  // namespace

bool is_library_spec(std::string_view spec) { return spec.starts_with(prefix); }

bool valid_barcode(std::string_view barcode) {
  return !barcode.empty() && barcode.size() <= 32 &&
         std::all_of(barcode.begin(), barcode.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
         });
}

LibrarySpec parse_library_spec(std::string_view spec) {
  LibrarySpec l;
  const auto rest = spec.starts_with(prefix) ? spec.substr(prefix.size()) : std::string_view{};
  const auto question = rest.find('?');
  SpecOptions option{spec, "emulated library",
                     question == std::string_view::npos ? std::string_view{}
                                                        : rest.substr(question + 1)};
  if (!spec.starts_with(prefix)) {
    option.fail("must start with \"emulated-library:\"");
  }
  l.directory = std::string{rest.substr(0, question)};
  if (l.directory.empty()) {
    option.fail("no directory for the cartridges");
  }
  while (option.next()) {
    const auto key = option.key();
    if (key == "slots") {
      l.slots = count_within(option, 1, LibraryShape::max_slots);
    } else if (key == "ie") {
      l.mail_slots = count_within(option, 0, LibraryShape::max_mail_slots);
    } else if (key == "drives") {
      l.drives = names_in(option);
    } else if (key == "capacity") {
      l.capacity = option.number(true);
    } else if (key == "ew") {
      l.early_warning = option.number(true);
    } else if (key == "move_time") {
      l.move_time = option.duration();
    } else if (key == "load_time") {
      l.load_time = option.duration();
    } else if (key == "move_fails") {
      l.move_fails = option.number();
    } else if (key == "medium_error_write") {
      l.medium_error_write = option.number();
    } else if (key == "stuck_drive") {
      l.stuck_drive = std::string{option.value()};
    } else if (key == "serial") {
      if (option.value().empty() || option.value().size() > 32) {
        option.fail("serial must be 1 to 32 characters");
      }
      l.serial = std::string{option.value()};
    } else {
      option.fail("unknown option \"" + std::string{key} +
                  "\" (slots, ie, drives, capacity, ew, move_time, load_time, move_fails, stuck_drive, "
                  "medium_error_write, serial)");
    }
  }
  if (l.drives.empty()) {
    option.fail("a library needs at least one drive (drives=lto1,lto2)");
  }
  if (l.drives.size() > LibraryShape::max_drives) {
    option.fail("a library has at most " + std::to_string(LibraryShape::max_drives) + " drives");
  }
  if (l.stuck_drive &&
      std::find(l.drives.begin(), l.drives.end(), *l.stuck_drive) == l.drives.end()) {
    option.fail("stuck_drive=" + *l.stuck_drive + " is none of its drives");
  }
  if (l.capacity < (std::uint64_t{1} << 20)) {
    option.fail("capacity must be at least 1M");
  }
  if (l.early_warning && *l.early_warning > l.capacity) {
    option.fail("ew lies beyond capacity");
  }
  return l;
}

}  // namespace tapestream::emulated
