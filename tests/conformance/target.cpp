#include "target.hpp"

#include <stdlib.h>

#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"
#include "transport/bsg_transport.hpp"
#include "transport/sg_transport.hpp"

namespace tapestream::test {

std::optional<std::string> real_target() {
  const char* target = std::getenv("TAPESTREAM_CONFORMANCE_TARGET");
  if (target == nullptr || *target == '\0' || target_is_null()) {
    return std::nullopt;
  }
  return std::string{target};
}

bool target_is_null() {
  const char* target = std::getenv("TAPESTREAM_CONFORMANCE_TARGET");
  return target != nullptr && std::string_view{target} == "null";
}

bool target_is_scsi_debug() {
  const char* vendor = std::getenv("TAPESTREAM_CONFORMANCE_SCSI_DEBUG");
  return vendor != nullptr && std::string_view{vendor} == "1";
}

Harness::Factory conformance_target(const std::filesystem::path& image, const std::string& options) {
  if (const auto target = real_target()) {
    if (!options.empty()) {
      throw std::invalid_argument{"drive options \"" + options + "\" need the emulated drive"};
    }
    return [target = *target](uring::Ring& ring) -> std::unique_ptr<transport::ScsiTransport> {
      const auto colon = target.find(':');
      const auto kind = target.substr(0, colon);
      const auto node = colon == std::string::npos ? std::string{} : target.substr(colon + 1);
      if (kind == "bsg") {
        auto opened = transport::BsgTransport::open(ring, node);
        if (!opened) {
          throw std::runtime_error{"bsg " + node + ": " + opened.error().message()};
        }
        return std::move(opened).value();
      }
      if (kind == "sg") {
        auto opened = transport::SgTransport::open(ring, node);
        if (!opened) {
          throw std::runtime_error{"sg " + node + ": " + opened.error().message()};
        }
        return std::move(opened).value();
      }
      throw std::invalid_argument{"TAPESTREAM_CONFORMANCE_TARGET: unknown transport " + kind};
    };
  }
  const std::string spec = (target_is_null() ? std::string{"null:"} : "emulated:" + image.string()) +
                           (options.empty() ? "" : "?" + options);
  return [spec](uring::Ring& ring) -> std::unique_ptr<transport::ScsiTransport> {
    return std::make_unique<emulated::EmulatedDrive>(ring, emulated::parse_drive_spec(spec));
  };
}

ScratchDirectory::ScratchDirectory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tapestream-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error{"mkdtemp failed"};
  }
  _path = pattern;
}

ScratchDirectory::~ScratchDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(_path, ignored);
}

}  // namespace tapestream::test
