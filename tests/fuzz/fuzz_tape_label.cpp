// A block read from a tape, parsed as a volume label and as a trailer: a tape may hold anything.
#include <cstddef>
#include <cstdint>
#include <span>

#include "server/tape_label.hpp"

using namespace tapestream::server::tape_label;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> block{data, size};
  if (const auto volume = parse_volume_label(block)) {
    // What was read must write back as a block of the same kind, within the block limit.
    const auto again = encode(*volume);
    if (again.size() > max_block || !parse_volume_label(again)) {
      __builtin_trap();
    }
  }
  if (const auto trailer = parse_trailer(block)) {
    const auto again = encode(*trailer);
    const auto reread = parse_trailer(again);
    if (again.size() > max_block || !reread || reread->bytes != trailer->bytes ||
        reread->sha256 != trailer->sha256) {
      __builtin_trap();
    }
    (void)describes(*trailer, trailer->volume, {trailer->file, trailer->bytes, trailer->blocks,
                                                trailer->sha256});
  }
  return 0;
}
