// The write and read pipelines of daemon/drive on a drive of the conformance suite, turned by
// the test itself: streams of any size, fed in chunks of odd sizes, abandoned or cut where a
// test says, and the tape read back through the drive.
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "drive/read_stream.hpp"
#include "drive/write_stream.hpp"
#include "harness.hpp"
#include "scsi/cdb.hpp"
#include "scsi/mode_pages.hpp"
#include "target.hpp"
#include "transport/blocking.hpp"

namespace tapestream::test {

inline constexpr std::uint32_t block = 64 * 1024;
inline constexpr std::uint16_t stream_buffers = 8;  // buffer 8 is the test's own

inline std::vector<std::uint8_t> stream_data(std::size_t size, std::uint32_t seed) {
  return pattern_block(seed, 0, size);
}

class Rig {
 public:
  // The commands the streams may use; a drive without SPACE(16)/LOCATE(16) is found by
  // spacing over filemarks.
  drive::PositioningCommands positioning;
  // The streams ask the medium's density for their pace, as a real drive's do (one MODE SENSE
  // more at each start).
  bool min_rate_of_medium = false;

  explicit Rig(const std::string& options, std::chrono::milliseconds data_timeout = {})
      : _ring{uring::Ring::create({})},
        // As the daemon's pools: a page of room beyond the block for its CRC32C, since Logical
        // Block Protection is on by default where the drive offers it (the emulated one does).
        _pool{uring::BufferPool::create(_ring, stream_buffers + 1, block + 4096)},
        _drive{conformance_target(_scratch.path() / "tape.tap", options)(_ring)},
        _timeouts{scsi::TimeoutTable::lto_defaults()} {
    if (data_timeout.count() > 0) {
      for (auto c : {scsi::TimeoutClass::data, scsi::TimeoutClass::filemark}) {
        _timeouts.set_class_default(c, std::chrono::duration_cast<std::chrono::seconds>(data_timeout));
      }
    }
  }

  drive::WriteStream::Options options() const {
    drive::WriteStream::Options o;
    o.block_size = block;
    o.positioning = positioning;
    o.min_rate_of_medium = min_rate_of_medium;
    return o;
  }

  // Streams `data` in chunks of odd sizes; abandons after `abandon_after` bytes if set.
  drive::StreamOutcome write(const std::vector<std::uint8_t>& data,
                             std::optional<std::size_t> abandon_after = {}) {
    return write_with(options(), data, abandon_after);
  }

  drive::StreamOutcome write_with(drive::WriteStream::Options options,
                                  const std::vector<std::uint8_t>& data,
                                  std::optional<std::size_t> abandon_after = {}) {
    std::optional<drive::StreamOutcome> outcome;
    bool ready = false;
    drive::WriteStream stream{*_drive, _pool, _timeouts, buffers(), options,
                              [&](const drive::StreamOutcome& o) { outcome = o; }};
    stream.start([&](std::uint64_t) { ready = true; });
    std::size_t sent = 0;
    std::size_t chunk = 1;
    bool ended = false;
    for (int turns = 0; !outcome && turns < 100000; ++turns) {
      if (ready && !ended) {
        for (auto space = stream.writable(); !space.empty() && sent < data.size();
             space = stream.writable()) {
          const auto n = std::min({space.size(), data.size() - sent, chunk});
          std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(sent), n, space.begin());
          stream.commit(n);
          sent += n;
          chunk = chunk * 3 + 7;  // odd, growing sizes: blocks fill from many commits
          if (chunk > 3 * block) {
            chunk = 1;
          }
          if (abandon_after && sent >= *abandon_after) {
            break;
          }
        }
        if (abandon_after && sent >= *abandon_after) {
          stream.abandon();
          ended = true;
        } else if (sent == data.size()) {
          stream.finish();
          ended = true;
        }
      }
      if (!outcome) {
        EXPECT_TRUE(_ring.run_once(std::chrono::milliseconds{200}));
      }
    }
    EXPECT_TRUE(outcome.has_value());
    return outcome.value_or(drive::StreamOutcome{});
  }

  // Regression helper: a producer that filled every buffer and waits for space.
  bool parked_producer_hears_stop() {
    std::optional<drive::StreamOutcome> outcome;
    bool ready = false;
    bool woken = false;
    auto o = options();
    o.start_watermark = stream_buffers;
    drive::WriteStream stream{*_drive, _pool, _timeouts, buffers(), o,
                              [&](const drive::StreamOutcome& done) { outcome = done; }};
    stream.on_space([&] { woken = true; });
    stream.start([&](std::uint64_t) { ready = true; });
    while (!ready) {
      EXPECT_TRUE(_ring.run_once(std::chrono::milliseconds{200}));
    }
    for (auto space = stream.writable(); !space.empty(); space = stream.writable()) {
      stream.commit(space.size());  // fill every buffer: the watermark is all of them
    }
    for (int turns = 0; !outcome && turns < 1000; ++turns) {
      EXPECT_TRUE(_ring.run_once(std::chrono::milliseconds{200}));
    }
    return woken && stream.closed() && stream.writable().empty();
  }

  // File `file` through the read pipeline; abandons after `abandon_after` blocks if set.
  std::pair<drive::StreamOutcome, std::vector<std::uint8_t>> read_stream(
      std::uint64_t file, std::optional<std::size_t> abandon_after = {}) {
    std::optional<drive::StreamOutcome> outcome;
    std::vector<std::uint8_t> data;
    drive::ReadStream stream{*_drive, _pool, _timeouts, buffers(), positioning,
                             [&](const drive::StreamOutcome& o) { outcome = o; }};
    stream.start(file, [] {});
    std::size_t blocks = 0;
    for (int turns = 0; !outcome && turns < 100000; ++turns) {
      while (auto b = stream.next()) {
        if (abandon_after && blocks == *abandon_after) {
          stream.abandon();
          break;
        }
        data.insert(data.end(), b->begin(), b->end());
        stream.consumed();
        ++blocks;
      }
      if (!outcome) {
        EXPECT_TRUE(_ring.run_once(std::chrono::milliseconds{200}));
      }
    }
    EXPECT_TRUE(outcome.has_value());
    return {outcome.value_or(drive::StreamOutcome{}), data};
  }

  // Everything in file `file`, read back through the drive in variable-block mode.
  // Read raw, as the medium holds it: a stream left Logical Block Protection on (the emulated
  // drive offers it), which would put a CRC after every block; it goes off first.
  std::vector<std::uint8_t> read_file(std::uint64_t file) {
    set_block_length(0);
    protection_off();
    run(scsi::cdb::locate16(scsi::cdb::LocateDestination::logical_file, file, {}, false), 0);
    std::vector<std::uint8_t> all;
    for (;;) {
      const auto command = scsi::cdb::read6_variable(scsi::Count24::from(block).value(), true);
      const auto [c, moved] = run(command, block);
      if (c.condition != scsi::TapeCondition::good && c.condition != scsi::TapeCondition::short_block) {
        break;  // filemark or end of data
      }
      const auto in = _pool.buffer(stream_buffers).first(moved);
      all.insert(all.end(), in.begin(), in.end());
    }
    return all;
  }

  // One command straight to the drive, outside any stream; data-out from `out`.
  std::pair<scsi::Classification, std::size_t> run(const scsi::Command& command,
                                                   std::size_t length,
                                                   std::span<const std::uint8_t> out = {}) {
    std::copy(out.begin(), out.end(), _pool.buffer(stream_buffers).begin());
    transport::ScsiRequest request;
    request.command = command;
    request.data = {stream_buffers, _pool.buffer(stream_buffers).first(out.empty() ? length : out.size())};
    const auto r = transport::run_blocking(_ring, *_drive, request).value();
    return {scsi::classify(command, r.status()), request.data.bytes.size() - r.residue};
  }
  // Raw blocks, as the rig writes and reads them, carry no CRC.
  void protection_off() {
    const auto off = scsi::DataProtectionPage::make(scsi::DataProtectionPage::Method::none, false, false);
    const std::span<const std::uint8_t> pages[] = {off.bytes()};
    const auto list = scsi::mode_select6_parameters(std::nullopt, pages).value();
    run(scsi::cdb::mode_select6(static_cast<std::uint8_t>(list.size())), 0, list);
  }
  void set_block_length(std::uint32_t length) {
    const auto list = scsi::mode_select6_parameters(scsi::BlockDescriptor{0, 0, length}, {}).value();
    run(scsi::cdb::mode_select6(static_cast<std::uint8_t>(list.size())), 0, list);
  }

  // For tests that turn a stream themselves (watermark_test.cpp).
  uring::Ring& ring() { return _ring; }
  uring::BufferPool& pool() { return _pool; }
  transport::ScsiTransport& drive() { return *_drive; }
  const scsi::TimeoutTable& timeouts() const { return _timeouts; }

  static std::vector<std::uint16_t> buffers() {
    std::vector<std::uint16_t> b;
    for (std::uint16_t i = 0; i < stream_buffers; ++i) {
      b.push_back(i);
    }
    return b;
  }

 private:
  ScratchDirectory _scratch;
  uring::Ring _ring;
  uring::BufferPool _pool;
  std::unique_ptr<transport::ScsiTransport> _drive;
  scsi::TimeoutTable _timeouts;
};

}  // namespace tapestream::test
