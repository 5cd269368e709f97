#include "target.hpp"

#include <stdlib.h>

#include <stdexcept>

#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"

namespace tapestream::test {

Harness::Factory conformance_target(const std::filesystem::path& image, const std::string& options) {
  const std::string spec = "emulated:" + image.string() + (options.empty() ? "" : "?" + options);
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
