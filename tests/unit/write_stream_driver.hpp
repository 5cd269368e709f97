// A write stream driven as its owner drives it, for the tests of one WriteStream: started,
// handed whole blocks, finished, and waited for until its outcome is in and the ring is idle.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "drive/write_stream.hpp"
#include "fake_transport.hpp"

namespace tapestream::test {

using FillBlock = std::function<void(std::size_t index, std::span<std::uint8_t> block)>;

// `outcome` is what the stream's Done callback sets. `fill` (none: the buffer as it is) fills
// block `index`; `when_ready` runs once READY came, before the first block. A stream that ends
// early takes no more blocks.
inline drive::StreamOutcome write_blocks(uring::Ring& ring, drive::WriteStream& stream,
                                         const std::optional<drive::StreamOutcome>& outcome,
                                         std::size_t blocks, const FillBlock& fill = {},
                                         const std::function<void()>& when_ready = {}) {
  bool ready = false;
  stream.start([&](std::uint64_t) { ready = true; });
  EXPECT_TRUE(run_until(ring, [&] { return ready || outcome.has_value(); }));
  if (ready && when_ready) {
    when_ready();
  }
  for (std::size_t i = 0; i < blocks && ready && !stream.closed(); ++i) {
    EXPECT_TRUE(run_until(ring, [&] { return !stream.writable().empty() || stream.closed(); }));
    auto space = stream.writable();
    if (space.empty()) {
      break;
    }
    if (fill) {
      fill(i, space);
    }
    stream.commit(space.size());
  }
  stream.finish();
  EXPECT_TRUE(run_until(ring, [&] { return outcome.has_value(); }));
  EXPECT_TRUE(run_until(ring, [&] { return ring.in_flight() == 0; }));
  return outcome.value_or(drive::StreamOutcome{});
}

}  // namespace tapestream::test
