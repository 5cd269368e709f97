// Which transport the conformance suite runs against. Today the emulated drive on a scratch
// image; the VM test (tests/vm) points the same suite at a real kernel's tape.
#pragma once

#include <filesystem>
#include <string>

#include "harness.hpp"

namespace tapestream::test {

// `options` are emulated drive options ("capacity=1M&ew=512K"); other targets ignore them.
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
