#include "emulated/library_state.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "base/startup_error.hpp"
#include "common/unique_fd.hpp"
#include "emulated/library_spec.hpp"

namespace tapestream::emulated {
namespace {

constexpr std::string_view header = "tapestream-library 1";
constexpr std::string_view image_suffix = ".tap";
constexpr std::size_t max_record_bytes = 1 << 20;  // far above 4096 slots' worth of lines

[[noreturn]] void refuse(const std::filesystem::path& directory, const std::string& why) {
  throw StartupError{"emulated library " + directory.string() + ": " + why};
}

std::optional<std::uint16_t> address_in(std::string_view text) {
  std::uint16_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return n;
}

// The cartridges in the directory, by barcode (sorted: the first start fills slots in order).
std::vector<std::string> images_in(const std::filesystem::path& directory) {
  std::vector<std::string> barcodes;
  std::error_code error;
  std::filesystem::directory_iterator it{directory, error};
  if (error) {
    refuse(directory, "cannot read the directory: " + error.message());
  }
  for (const auto& entry : it) {
    const auto name = entry.path().filename().string();
    if (!name.ends_with(image_suffix)) {
      continue;
    }
    const auto barcode = name.substr(0, name.size() - image_suffix.size());
    if (!valid_barcode(barcode)) {
      refuse(directory, name + " is not named by a barcode (1 to 32 of A-Z a-z 0-9 - _, then .tap)");
    }
    barcodes.push_back(barcode);
  }
  std::sort(barcodes.begin(), barcodes.end());
  return barcodes;
}

void read_record(LibraryModel& model, const std::filesystem::path& directory,
                 const std::filesystem::path& record) {
  std::ifstream in{record, std::ios::binary};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  if (!in.good() && !in.eof()) {
    refuse(directory, "cannot read " + record.string());
  }
  if (text.size() > max_record_bytes) {
    refuse(directory, record.string() + " is larger than any library's record");
  }
  std::istringstream lines{text};
  std::string line;
  std::size_t number = 0;
  while (std::getline(lines, line)) {
    ++number;
    const auto where = record.string() + " line " + std::to_string(number);
    if (number == 1) {
      if (line != header) {
        refuse(directory, where + ": not a tapestream library record (\"" + std::string{header} +
                              "\" expected); it is left as it is");
      }
      continue;
    }
    std::istringstream fields{line};
    std::string address_text;
    std::string barcode;
    std::string source_text;
    std::string extra;
    fields >> address_text >> barcode >> source_text >> extra;
    const auto address = address_in(address_text);
    const auto source = source_text.empty() ? std::nullopt : address_in(source_text);
    if (!address || !valid_barcode(barcode) || (!source_text.empty() && !source) ||
        !extra.empty()) {
      refuse(directory, where + ": expected \"ELEMENT BARCODE [SOURCE SLOT]\"");
    }
    if (model.find(barcode)) {
      refuse(directory, where + ": cartridge " + barcode + " is recorded twice");
    }
    if (!std::filesystem::exists(directory / (barcode + std::string{image_suffix}))) {
      refuse(directory, where + ": cartridge " + barcode + " is recorded in element " +
                            address_text + " but its image " + barcode + ".tap is missing");
    }
    if (!model.place(*address, barcode, source)) {
      refuse(directory, where + ": element " + address_text +
                            " is not one of this library's, or is taken (has its shape changed?)");
    }
  }
  if (number == 0) {
    refuse(directory, record.string() + " is empty: not a tapestream library record");
  }
}

void sync_or_throw(int fd, const std::string& what) {
  if (::fsync(fd) != 0) {
    throw std::system_error{errno, std::generic_category(), "fsync " + what};
  }
}

}  // namespace

void restore_library(LibraryModel& model, const std::filesystem::path& directory) {
  const auto record = directory / library_record_name;
  if (std::filesystem::exists(record)) {
    read_record(model, directory, record);
  }
  for (const auto& barcode : images_in(directory)) {
    if (model.find(barcode)) {
      continue;
    }
    std::optional<std::uint16_t> into;
    for (std::uint16_t i = 0; i < model.shape().mail_slots && !into; ++i) {
      const auto mail_slot = static_cast<std::uint16_t>(LibraryShape::first_mail_slot + i);
      if (!model.barcode_at(mail_slot) && std::filesystem::exists(record)) {
        into = mail_slot;
      }
    }
    if (!into) {
      into = model.free_slot();
    }
    if (!into || !model.place(*into, barcode)) {
      refuse(directory, "no free slot for cartridge " + barcode + " (" +
                            std::to_string(model.shape().slots) + " slots)");
    }
  }
}

void save_library(const LibraryModel& model, const std::filesystem::path& directory) {
  std::string text{header};
  text += '\n';
  for (const auto& p : model.placements()) {
    text += std::to_string(p.address) + ' ' + p.barcode;
    if (p.source) {
      text += ' ' + std::to_string(*p.source);
    }
    text += '\n';
  }
  const auto record = directory / library_record_name;
  const auto fresh = directory / (std::string{library_record_name} + ".new");
  UniqueFd fd{::open(fresh.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (!fd) {
    throw std::system_error{errno, std::generic_category(), "create " + fresh.string()};
  }
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      throw std::system_error{n < 0 ? errno : ENOSPC, std::generic_category(),
                              "write " + fresh.string()};
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  sync_or_throw(fd.get(), fresh.string());
  if (::rename(fresh.c_str(), record.c_str()) != 0) {
    throw std::system_error{errno, std::generic_category(), "rename " + fresh.string()};
  }
  UniqueFd dir{::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (!dir) {
    throw std::system_error{errno, std::generic_category(), "open " + directory.string()};
  }
  sync_or_throw(dir.get(), directory.string());
}

}  // namespace tapestream::emulated
