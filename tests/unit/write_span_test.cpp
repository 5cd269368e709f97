// Streams that span volumes (drive/write_stream.hpp, Options::span): each part ends at early
// warning with its filemark and exact count, and the next part, on another emulated drive's
// image, writes the blocks the last one did not take before the producer's next bytes. Reading
// the parts back and concatenating them must give the stream, byte for byte.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/sha256.hpp"
#include "drive/read_stream.hpp"
#include "drive/write_stream.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"
#include "fake_transport.hpp"
#include "temp_dir.hpp"

namespace tapestream {
namespace {

namespace fs = std::filesystem;

// Forwards to a volume's drive and keeps every command it was given.
class RecordingTransport final : public transport::ScsiTransport {
 public:
  explicit RecordingTransport(transport::ScsiTransport& drive) : _drive{drive} {}
  Result<void> submit(const transport::ScsiRequest& request,
                      transport::ScsiCallback& callback) override {
    commands.push_back(request.command);
    return _drive.submit(request, callback);
  }
  std::string_view kind() const override { return "recording"; }
  std::vector<scsi::Command> commands;

 private:
  transport::ScsiTransport& _drive;
};

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 generator{seed};
  std::vector<std::uint8_t> data(n);
  for (auto& byte : data) {
    byte = static_cast<std::uint8_t>(generator());
  }
  return data;
}

struct SpanOptions {
  std::uint32_t block_size = 64 * 1024;
  bool fixed = false;
  drive::Protection protection = drive::Protection::automatic;
  // Extra options of the first volume's spec (a fault).
  std::string first_volume_faults;
};

// Volumes of 4 MiB with early warning at 3 MiB, each its own emulated drive on an image in a
// scratch directory, and a pool of four 128 KiB buffers shared by all parts.
struct SpanRig {
  uring::Ring ring = uring::Ring::create({});
  uring::BufferPool pool = uring::BufferPool::create(ring, 4, 128 * 1024);
  scsi::TimeoutTable timeouts = scsi::TimeoutTable::lto_defaults();
  test::TempDir tmp{"write_span_test"};
  fs::path dir = tmp.path();
  std::vector<std::unique_ptr<emulated::EmulatedDrive>> volumes;
  std::vector<std::unique_ptr<RecordingTransport>> recorders;

  ~SpanRig() {
    EXPECT_TRUE(test::run_until(ring, [&] { return ring.in_flight() == 0; }));
    recorders.clear();
    volumes.clear();
  }

  RecordingTransport& volume(std::size_t index, const std::string& faults = "") {
    while (volumes.size() <= index) {
      const auto n = volumes.size();
      auto spec = "emulated:" + (dir / ("vol" + std::to_string(n) + ".tap")).string() +
                  "?capacity=4M&ew=3M" + (n == index ? faults : "");
      volumes.push_back(
          std::make_unique<emulated::EmulatedDrive>(ring, emulated::parse_drive_spec(spec)));
      recorders.push_back(std::make_unique<RecordingTransport>(*volumes.back()));
    }
    return *recorders.at(index);
  }

  // Writes `data` as one spanning stream, a part per volume while parts continue; the
  // outcome of each part.
  std::vector<drive::StreamOutcome> write(const std::vector<std::uint8_t>& data,
                                          const SpanOptions& span) {
    drive::WriteStream::Options options;
    options.block_size = span.block_size;
    options.fixed = span.fixed;
    options.protection = span.protection;
    options.tape_alert_interval = std::chrono::seconds{0};
    options.span = true;
    std::vector<drive::StreamOutcome> outcomes;
    std::optional<drive::WriteStream::Carryover> carryover;
    std::size_t sent = 0;
    bool finished = false;
    for (std::size_t part = 0; part < 8; ++part) {
      auto& drive = volume(part, part == 0 ? span.first_volume_faults : "");
      std::optional<drive::StreamOutcome> outcome;
      bool ready = false;
      auto done = [&](const drive::StreamOutcome& o) { outcome = o; };
      auto stream = carryover
                        ? std::make_unique<drive::WriteStream>(drive, pool, timeouts,
                                                               std::move(*carryover), options, done)
                        : std::make_unique<drive::WriteStream>(
                              drive, pool, timeouts, std::vector<std::uint16_t>{0, 1, 2, 3},
                              options, done);
      carryover.reset();
      stream->start([&](std::uint64_t) { ready = true; });
      EXPECT_TRUE(test::run_until(ring, [&] { return ready || outcome.has_value(); }));
      while (ready && !outcome) {
        if (stream->closed()) {
          (void)ring.run_once(std::chrono::milliseconds{100});
          continue;
        }
        if (sent == data.size()) {
          stream->finish();
          finished = true;
          continue;
        }
        auto space = stream->writable();
        if (space.empty()) {
          (void)ring.run_once(std::chrono::milliseconds{100});
          continue;
        }
        const auto n = std::min(space.size(), data.size() - sent);
        std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(sent), n, space.begin());
        stream->commit(n);
        sent += n;
      }
      for (int turns = 0; turns < 100000 && !outcome; ++turns) {
        (void)ring.run_once(std::chrono::milliseconds{100});
      }
      EXPECT_TRUE(outcome.has_value());
      EXPECT_TRUE(test::run_until(ring, [&] { return ring.in_flight() == 0; }));
      outcomes.push_back(outcome.value_or(drive::StreamOutcome{drive::Ending::internal}));
      if (!outcomes.back().continues) {
        break;
      }
      carryover = stream->take_carryover();
      EXPECT_TRUE(carryover.has_value());
      EXPECT_FALSE(stream->take_carryover().has_value()) << "handed over twice";
    }
    (void)finished;
    return outcomes;
  }

  // File `file` of volume `index`, read whole.
  std::pair<drive::StreamOutcome, std::vector<std::uint8_t>> read(std::size_t index,
                                                                  std::uint64_t file) {
    std::optional<drive::StreamOutcome> outcome;
    std::vector<std::uint8_t> given;
    drive::ReadStream stream{*volumes.at(index), pool, timeouts, {0, 1}, {},
                             [&](const drive::StreamOutcome& o) { outcome = o; }};
    stream.on_data([&] {
      while (auto block = stream.next()) {
        given.insert(given.end(), block->begin(), block->end());
        stream.consumed();
      }
    });
    stream.start(file, [] {});
    // A part is hundreds of blocks: more ring turns than run_until waits for.
    for (int turns = 0; turns < 100000 && !outcome; ++turns) {
      (void)ring.run_once(std::chrono::milliseconds{100});
    }
    EXPECT_TRUE(outcome.has_value());
    EXPECT_TRUE(test::run_until(ring, [&] { return ring.in_flight() == 0; }));
    return {outcome.value_or(drive::StreamOutcome{drive::Ending::internal}), given};
  }

  // The parts read back from their volumes, in order.
  std::vector<std::uint8_t> concatenate(const std::vector<drive::StreamOutcome>& parts) {
    std::vector<std::uint8_t> all;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      auto [outcome, bytes] = read(i, parts[i].file_number);
      EXPECT_TRUE(outcome.complete()) << "volume " << i << ": " << outcome.message;
      EXPECT_EQ(bytes.size(), parts[i].bytes) << "volume " << i;
      all.insert(all.end(), bytes.begin(), bytes.end());
    }
    return all;
  }
};

base::Sha256Digest sha256_of(const std::vector<std::uint8_t>& data) {
  base::Sha256 sha;
  sha.update(data);
  return sha.finish();
}

void expect_spanned_whole(SpanRig& rig, const std::vector<std::uint8_t>& data,
                          const std::vector<drive::StreamOutcome>& parts, std::size_t expected_parts,
                          bool read_back = true) {
  ASSERT_EQ(parts.size(), expected_parts);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    EXPECT_TRUE(parts[i].continues) << "part " << i << ": " << parts[i].message;
    EXPECT_EQ(parts[i].ending, drive::Ending::volume_full);
    EXPECT_TRUE(parts[i].filemark_written);
    EXPECT_TRUE(parts[i].early_warning);
    EXPECT_FALSE(parts[i].sha256.has_value());
    total += parts[i].bytes;
  }
  const auto& last = parts.back();
  ASSERT_TRUE(last.complete()) << last.message;
  EXPECT_FALSE(last.continues);
  total += last.bytes;
  EXPECT_EQ(total, data.size());
  ASSERT_TRUE(last.sha256.has_value());
  EXPECT_EQ(*last.sha256, sha256_of(data)) << "the digest covers every part";
  if (read_back) {
    EXPECT_TRUE(rig.concatenate(parts) == data) << "the parts read back are not the stream";
  }
}

TEST(WriteSpan, BlocksThatDivideTheCapacitySpanThreeVolumes) {
  SpanRig rig;
  const auto data = random_bytes(7 * 1024 * 1024 + 12345, 1);
  const auto parts = rig.write(data, {.block_size = 64 * 1024});
  expect_spanned_whole(rig, data, parts, 3);
}

TEST(WriteSpan, BlocksThatDoNotDivideTheCapacity) {
  SpanRig rig;
  const auto data = random_bytes(7 * 1024 * 1024 + 999, 2);
  const auto parts = rig.write(data, {.block_size = 47 * 1000 + 3});
  expect_spanned_whole(rig, data, parts, 3);
  // Each part holds whole blocks only; the short one is the stream's last.
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    EXPECT_EQ(parts[i].bytes, parts[i].blocks * (47 * 1000 + 3)) << "part " << i;
  }
}

TEST(WriteSpan, WithoutProtectionAndInFixedBlocks) {
  {
    SpanRig rig;
    const auto data = random_bytes(5 * 1024 * 1024, 3);
    const auto parts = rig.write(data, {.block_size = 32 * 1024, .protection = drive::Protection::off});
    expect_spanned_whole(rig, data, parts, 2);
    EXPECT_FALSE(parts[0].protected_blocks);
  }
  {
    SpanRig rig;
    const auto data = random_bytes(5 * 1024 * 1024 + 8192, 4);  // whole blocks: no padding
    const auto parts = rig.write(data, {.block_size = 8192, .fixed = true,
                                        .protection = drive::Protection::off});
    expect_spanned_whole(rig, data, parts, 2);
    EXPECT_EQ(parts[0].bytes % 8192, 0U);
  }
}

// The first volume's part when the stream is long: how many blocks it holds.
std::uint64_t blocks_a_volume_takes(std::uint32_t block_size) {
  SpanRig probe;
  const auto parts = probe.write(random_bytes(5 * 1024 * 1024, 5), {.block_size = block_size});
  EXPECT_GE(parts.size(), 2U);
  return parts.empty() ? 0 : parts[0].blocks;
}

TEST(WriteSpan, EarlyWarningOnTheLastBlockEndsTheStreamOnThatVolume) {
  const std::uint32_t block = 64 * 1024;
  const auto fit = blocks_a_volume_takes(block);
  ASSERT_GT(fit, 0U);
  SpanRig rig;
  const auto data = random_bytes(fit * block, 6);
  const auto parts = rig.write(data, {.block_size = block});
  expect_spanned_whole(rig, data, parts, 1);
  EXPECT_TRUE(parts[0].early_warning);
  EXPECT_EQ(rig.volumes.size(), 1U) << "no second volume for a stream that ended";
}

TEST(WriteSpan, OneByteMoreThanAVolumeTakesIsThatByteOnTheNext) {
  const std::uint32_t block = 64 * 1024;
  const auto fit = blocks_a_volume_takes(block);
  ASSERT_GT(fit, 0U);
  SpanRig rig;
  const auto data = random_bytes(fit * block + 1, 7);
  const auto parts = rig.write(data, {.block_size = block});
  expect_spanned_whole(rig, data, parts, 2);
  EXPECT_EQ(parts[1].bytes, 1U);
  EXPECT_EQ(parts[1].blocks, 1U);
}

// A reset while the first part's filemark is written: the part is not committed (the filemark
// it got after the count is no proof that the drive kept everything the reset may have cost),
// and the stream ends with the part's exact count, the queued blocks going nowhere.
TEST(WriteSpan, AResetDuringThePartsFilemarkEndsTheStreamWithItsCount) {
  const std::uint32_t block = 64 * 1024;
  const auto data = random_bytes(5 * 1024 * 1024, 8);
  std::size_t filemark_index = 0;
  {
    SpanRig probe;
    const auto parts = probe.write(data, {.block_size = block});
    ASSERT_EQ(parts.size(), 2U);
    const auto& commands = probe.recorders.at(0)->commands;
    const auto at = std::find_if(commands.begin(), commands.end(), [](const scsi::Command& c) {
      return c.opcode() == scsi::Opcode::write_filemarks6;
    });
    ASSERT_NE(at, commands.end());
    filemark_index = static_cast<std::size_t>(at - commands.begin());
  }
  SpanRig rig;
  const auto parts = rig.write(
      data, {.block_size = block, .first_volume_faults = "&unit_attention=" + std::to_string(filemark_index)});
  ASSERT_EQ(parts.size(), 1U);
  const auto& part = parts[0];
  EXPECT_FALSE(part.continues);
  EXPECT_EQ(part.ending, drive::Ending::medium_changed) << part.message;
  EXPECT_NE(part.message.find("WRITE FILEMARKS"), std::string::npos) << part.message;
  EXPECT_GT(part.bytes, 0U);
  EXPECT_LT(part.bytes, data.size());
  EXPECT_FALSE(part.sha256.has_value());
  EXPECT_EQ(rig.volumes.size(), 1U);
  // What the count says is what the volume holds: the stream's first bytes, exactly.
  auto [read, bytes] = rig.read(0, part.file_number);
  EXPECT_TRUE(read.complete()) << read.message;
  ASSERT_EQ(bytes.size(), part.bytes);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), data.begin()));
}

// A medium error in the second part: the first stays committed, the second ends with its count.
TEST(WriteSpan, AMediumErrorInTheSecondPartCountsThatPartExactly) {
  SpanRig rig;
  const std::uint32_t block = 64 * 1024;
  const auto data = random_bytes(7 * 1024 * 1024, 9);
  // The second volume fails its tenth WRITE.
  rig.volume(0);
  rig.volume(1, "&medium_error_write=10");
  const auto parts = rig.write(data, {.block_size = block});
  ASSERT_EQ(parts.size(), 2U);
  EXPECT_TRUE(parts[0].continues);
  EXPECT_EQ(parts[1].ending, drive::Ending::medium_error) << parts[1].message;
  EXPECT_EQ(parts[1].blocks, 9U);
  EXPECT_EQ(parts[1].bytes, 9U * block);
  auto [read, bytes] = rig.read(1, parts[1].file_number);
  ASSERT_EQ(bytes.size(), parts[1].bytes);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(),
                         data.begin() + static_cast<std::ptrdiff_t>(parts[0].bytes)))
      << "part 2 begins with the first byte part 1 did not take";
}

}  // namespace
}  // namespace tapestream
