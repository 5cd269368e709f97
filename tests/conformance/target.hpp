// Which transport the conformance suite runs against: the emulated drive on a scratch image,
// or, when TAPESTREAM_CONFORMANCE_TARGET names one ("bsg:/dev/bsg/0:0:0:0", "sg:/dev/sg0"),
// a real kernel's tape (the VM test, tests/vm, does that), or with "null" the null drive (the
// emulated drive with no image, which keeps no data: reads return zeros of the recorded length).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "harness.hpp"

namespace tapestream::test {

// The real drive named by TAPESTREAM_CONFORMANCE_TARGET, if any.
std::optional<std::string> real_target();
// Whether the target is the null drive (TAPESTREAM_CONFORMANCE_TARGET=null), which takes the
// emulated drive's options but keeps no data and nothing across a reopen.
bool target_is_null();
// Whether the target is scsi_debug's tape, which keeps only the first 4 bytes of each block.
bool target_is_scsi_debug();

// `options` are emulated drive options ("capacity=1M&ew=512K"); a real target takes none, the
// null drive those that are not about an image file.
Harness::Factory conformance_target(const std::filesystem::path& image, const std::string& options);

// A scratch directory removed at the end of the test.
class ScratchDirectory {
 public:
  ScratchDirectory();
  ~ScratchDirectory();
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const std::filesystem::path& path() const { return _path; }

 private:
  std::filesystem::path _path;
};

}  // namespace tapestream::test
