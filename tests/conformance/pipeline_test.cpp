// The write and read pipelines on the emulated drive: committed streams read back exactly, and
// every other ending reports exactly the bytes that reading the file back returns.
#include <gtest/gtest.h>

#include <optional>

#include "drive/read_stream.hpp"
#include "drive/write_stream.hpp"
#include "harness.hpp"
#include "scsi/cdb.hpp"
#include "target.hpp"
#include "transport/blocking.hpp"

using namespace tapestream;
using namespace tapestream::scsi;
using drive::StreamOutcome;
using drive::ReadStream;
using drive::WriteStream;
using test::pattern_block;

namespace {

constexpr std::uint32_t block = 64 * 1024;
constexpr std::uint16_t stream_buffers = 8;  // buffer 8 is the test's own, for reading back

std::vector<std::uint8_t> stream_data(std::size_t size, std::uint32_t seed) {
  auto data = pattern_block(seed, 0, size);
  return data;
}

class Rig {
 public:
  // The commands the streams may use; a drive without SPACE(16)/LOCATE(16) is found by
  // spacing over filemarks.
  drive::PositioningCommands positioning;

  explicit Rig(const std::string& options, std::chrono::milliseconds data_timeout = {})
      : _ring{uring::Ring::create({})},
        _pool{uring::BufferPool::create(_ring, stream_buffers + 1, block)},
        _drive{test::conformance_target(_scratch.path() / "tape.tap", options)(_ring)},
        _timeouts{TimeoutTable::lto_defaults()} {
    if (data_timeout.count() > 0) {
      _timeouts.set_class_default(TimeoutClass::data, std::chrono::duration_cast<std::chrono::seconds>(data_timeout));
    }
  }

  // Streams `data` in chunks of odd sizes; abandons after `abandon_after` bytes if set.
  StreamOutcome write(const std::vector<std::uint8_t>& data,
                      std::optional<std::size_t> abandon_after = {}) {
    std::vector<std::uint16_t> buffers;
    for (std::uint16_t i = 0; i < stream_buffers; ++i) {
      buffers.push_back(i);
    }
    std::optional<StreamOutcome> outcome;
    bool ready = false;
    WriteStream stream{*_drive, _pool, _timeouts, buffers, {block, 0},
                       [&](const StreamOutcome& o) { outcome = o; }};
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
    return outcome.value_or(StreamOutcome{});
  }

  // Regression helper: a producer that filled every buffer and waits for space.
  bool parked_producer_hears_stop() {
    std::vector<std::uint16_t> buffers;
    for (std::uint16_t i = 0; i < stream_buffers; ++i) {
      buffers.push_back(i);
    }
    std::optional<StreamOutcome> outcome;
    bool ready = false;
    bool woken = false;
    WriteStream stream{*_drive, _pool, _timeouts, buffers, {block, stream_buffers},
                       [&](const StreamOutcome& o) { outcome = o; }};
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
  std::pair<StreamOutcome, std::vector<std::uint8_t>> read_stream(
      std::uint64_t file, std::optional<std::size_t> abandon_after = {}) {
    std::vector<std::uint16_t> buffers;
    for (std::uint16_t i = 0; i < stream_buffers; ++i) {
      buffers.push_back(i);
    }
    std::optional<StreamOutcome> outcome;
    std::vector<std::uint8_t> data;
    ReadStream stream{*_drive, _pool, _timeouts, buffers, positioning,
                      [&](const StreamOutcome& o) { outcome = o; }};
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
    return {outcome.value_or(StreamOutcome{}), data};
  }

  // Everything in file `file`, read back through the drive.
  std::vector<std::uint8_t> read_file(std::uint64_t file) {
    run(cdb::locate16(cdb::LocateDestination::logical_file, file, {}, false), 0);
    std::vector<std::uint8_t> all;
    for (;;) {
      const auto command = cdb::read6_variable(Count24::from(block).value(), true);
      const auto [c, moved] = run(command, block);
      if (c.condition != TapeCondition::good && c.condition != TapeCondition::short_block) {
        break;  // filemark or end of data
      }
      const auto in = _pool.buffer(stream_buffers).first(moved);
      all.insert(all.end(), in.begin(), in.end());
    }
    return all;
  }

 private:
  std::pair<Classification, std::size_t> run(const Command& command, std::size_t length) {
    transport::ScsiRequest request;
    request.command = command;
    request.data = {stream_buffers, _pool.buffer(stream_buffers).first(length)};
    const auto r = transport::run_blocking(_ring, *_drive, request).value();
    return {classify(command, r.status()), length - r.residue};
  }

  test::ScratchDirectory _scratch;
  uring::Ring _ring;
  uring::BufferPool _pool;
  std::unique_ptr<transport::ScsiTransport> _drive;
  TimeoutTable _timeouts;
};

TEST(WriteStream, CommittedStreamsOfEverySizeReadBackExactly) {
  Rig rig{""};
  const std::size_t sizes[] = {0, 1, block - 1, block, block + 1, 10 * block + 17, 40 * block};
  std::uint64_t file = 0;
  for (auto size : sizes) {
    const auto data = stream_data(size, static_cast<std::uint32_t>(size));
    const auto o = rig.write(data);
    EXPECT_EQ(o.status, proto::Status::ok) << o.message;
    EXPECT_EQ(o.bytes, size);
    EXPECT_EQ(o.blocks, (size + block - 1) / block);
    EXPECT_EQ(o.file_number, file);
    EXPECT_TRUE(o.filemark_written);
    ++file;
  }
  file = 0;
  for (auto size : sizes) {
    EXPECT_EQ(rig.read_file(file++), stream_data(size, static_cast<std::uint32_t>(size)))
        << "stream of " << size << " bytes";
  }
}

TEST(WriteStream, EarlyWarningEndsTheStreamAndCountsExactly) {
  Rig rig{"capacity=2M&ew=600K"};
  const auto data = stream_data(4 << 20, 1);
  const auto o = rig.write(data);
  EXPECT_EQ(o.status, proto::Status::volume_full);
  EXPECT_TRUE(o.early_warning);
  EXPECT_TRUE(o.filemark_written);
  EXPECT_GT(o.bytes, 0U);
  EXPECT_LT(o.bytes, data.size());
  const auto back = rig.read_file(0);
  EXPECT_EQ(back.size(), o.bytes);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin()));
}

TEST(WriteStream, EndOfMediumCountsExactly) {
  Rig rig{"capacity=1M&ew=1M"};  // no early warning before the end: VOLUME OVERFLOW
  const auto data = stream_data(3 << 20, 2);
  const auto o = rig.write(data);
  EXPECT_EQ(o.status, proto::Status::volume_full);
  const auto back = rig.read_file(0);
  EXPECT_EQ(back.size(), o.bytes);
  EXPECT_EQ(o.bytes % block, 0U);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin()));
}

TEST(WriteStream, MediumErrorCountsWhatIsOnTheTape) {
  Rig rig{"medium_error_write=5"};
  const auto data = stream_data(20 * block, 3);
  const auto o = rig.write(data);
  EXPECT_EQ(o.status, proto::Status::medium_error);
  EXPECT_EQ(o.bytes, 4U * block);
  EXPECT_EQ(o.blocks, 4U);
  EXPECT_TRUE(o.filemark_written);
  EXPECT_NE(o.message.find("medium_error"), std::string::npos) << o.message;
  const auto back = rig.read_file(0);
  EXPECT_EQ(back.size(), o.bytes);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin()));
}

TEST(WriteStream, ATimedOutWriteIsReportedWithWhatReachedTheTape) {
  Rig rig{"hang=write", std::chrono::milliseconds{1000}};
  const auto o = rig.write(stream_data(5 * block, 4));
  EXPECT_EQ(o.status, proto::Status::timeout);
  EXPECT_FALSE(o.filemark_written);  // the drive's state is unknown after a timeout
  EXPECT_EQ(o.bytes, 0U);
  EXPECT_EQ(rig.read_file(0).size(), 0U);
}

TEST(WriteStream, AbandonedStreamCountsWhatWasWritten) {
  Rig rig{""};
  const auto data = stream_data(30 * block, 5);
  const auto o = rig.write(data, 20 * block + 100);
  EXPECT_EQ(o.status, proto::Status::client_gone);
  const auto back = rig.read_file(0);
  EXPECT_EQ(back.size(), o.bytes);
  EXPECT_LE(o.bytes, 20U * block + 100U);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin()));
}

// Regression: when early warning stopped a stream whose producer was parked on a full pool,
// nothing woke the producer; the daemon stopped reading the socket, the client stayed blocked
// in splice(), and the daemon then ignored SIGTERM. A stopping stream now calls on_space.
TEST(WriteStream, AProducerParkedOnAFullPoolHearsTheStreamStop) {
  Rig rig{"medium_error_write=1"};
  EXPECT_TRUE(rig.parked_producer_hears_stop());
}

TEST(WriteStream, WriteProtectedTapeWritesNothing) {
  Rig rig{"write_protect=1"};
  const auto o = rig.write(stream_data(3 * block, 6));
  EXPECT_EQ(o.status, proto::Status::write_protected);
  EXPECT_EQ(o.bytes, 0U);
  EXPECT_FALSE(o.filemark_written);
}

TEST(ReadStream, FilesReadBackExactlyInAnyOrder) {
  Rig rig{""};
  const std::size_t sizes[] = {1, block, 3 * block + 5, 0, 25 * block};
  for (auto size : sizes) {
    ASSERT_EQ(rig.write(stream_data(size, static_cast<std::uint32_t>(size) + 1)).status,
              proto::Status::ok);
  }
  for (std::uint64_t file : {2U, 0U, 4U, 1U, 3U}) {
    const auto [o, data] = rig.read_stream(file);
    const auto size = sizes[file];
    EXPECT_EQ(o.status, proto::Status::ok) << o.message;
    EXPECT_EQ(o.bytes, size);
    EXPECT_EQ(o.blocks, (size + block - 1) / block);
    EXPECT_EQ(data, stream_data(size, static_cast<std::uint32_t>(size) + 1)) << "file " << file;
  }
}

TEST(ReadStream, FilesAreFoundBySpacingWhenTheDriveHasNoLocate16) {
  Rig rig{""};
  rig.positioning = {false, false};
  const std::size_t sizes[] = {block + 1, 0, 2 * block};
  for (auto size : sizes) {
    ASSERT_EQ(rig.write(stream_data(size, static_cast<std::uint32_t>(size) + 7)).status,
              proto::Status::ok);
  }
  for (std::uint64_t file : {2U, 0U, 1U}) {
    const auto [o, data] = rig.read_stream(file);
    EXPECT_EQ(o.status, proto::Status::ok) << o.message;
    EXPECT_EQ(data, stream_data(sizes[file], static_cast<std::uint32_t>(sizes[file]) + 7))
        << "file " << file;
  }
  const auto [beyond, nothing] = rig.read_stream(3);
  EXPECT_EQ(beyond.status, proto::Status::end_of_data) << beyond.message;
}

TEST(ReadStream, NoSuchFileIsEndOfData) {
  Rig rig{""};
  ASSERT_EQ(rig.write(stream_data(100, 1)).status, proto::Status::ok);
  const auto [o, data] = rig.read_stream(5);
  EXPECT_EQ(o.status, proto::Status::end_of_data);
  EXPECT_TRUE(data.empty());
}

TEST(ReadStream, MediumErrorEndsWithWhatWasDelivered) {
  Rig rig{"medium_error_read=4"};
  const auto written = stream_data(10 * block, 7);
  ASSERT_EQ(rig.write(written).status, proto::Status::ok);
  const auto [o, data] = rig.read_stream(0);
  EXPECT_EQ(o.status, proto::Status::medium_error);
  EXPECT_EQ(o.bytes, 3U * block);  // the fourth READ failed
  EXPECT_EQ(data.size(), o.bytes);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), written.begin()));
}

TEST(ReadStream, AbandonedReadStops) {
  Rig rig{""};
  ASSERT_EQ(rig.write(stream_data(30 * block, 8)).status, proto::Status::ok);
  const auto [o, data] = rig.read_stream(0, 5);
  EXPECT_EQ(o.status, proto::Status::client_gone);
  EXPECT_EQ(o.bytes, 5U * block);
}

}  // namespace
