// Logical Block Protection (drive/block_protection.hpp): where the CRC32C goes and how it is
// checked, and the write and read streams on the null drive (the emulated drive without an
// image, which checks LBP_W and appends the CRC on READ like the image-backed one), through a
// transport that records every command the streams send.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "common/crc32c.hpp"
#include "drive/block_protection.hpp"
#include "drive/read_stream.hpp"
#include "drive/write_stream.hpp"
#include "emulated/emulated_drive.hpp"
#include "emulated/responses.hpp"
#include "fake_transport.hpp"
#include "scsi/bytes.hpp"

namespace tapestream {
namespace {

using drive::Protection;

TEST(BlockProtection, TheCrcFollowsTheDataBigEndian) {
  std::array<std::uint8_t, 13> buffer{'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  ASSERT_TRUE(drive::append_block_crc(buffer, 9));
  // CRC32C("123456789") = E3069283h, the Castagnoli check value.
  EXPECT_EQ(buffer[9], 0xE3);
  EXPECT_EQ(buffer[10], 0x06);
  EXPECT_EQ(buffer[11], 0x92);
  EXPECT_EQ(buffer[12], 0x83);
  EXPECT_EQ(drive::checked_block_length(buffer), 9U);
}

TEST(BlockProtection, NoRoomForTheCrcIsRefused) {
  std::array<std::uint8_t, 12> buffer{};
  EXPECT_FALSE(drive::append_block_crc(buffer, 9));
}

TEST(BlockProtection, AnyFlippedByteFailsTheCheck) {
  std::vector<std::uint8_t> block(1000 + drive::protection_bytes);
  std::iota(block.begin(), block.end() - 4, std::uint8_t{7});
  ASSERT_TRUE(drive::append_block_crc(block, 1000));
  for (std::size_t at : {0UL, 500UL, 999UL, 1000UL, 1003UL}) {
    auto bad = block;
    bad[at] ^= 0x01;
    EXPECT_FALSE(drive::checked_block_length(bad)) << "flipped byte " << at;
  }
  EXPECT_FALSE(drive::checked_block_length(std::span<const std::uint8_t>{block}.first(3)));
  // An empty block is its CRC alone.
  std::array<std::uint8_t, 4> empty{};
  ASSERT_TRUE(drive::append_block_crc(empty, 0));
  EXPECT_EQ(drive::checked_block_length(empty), 0U);
}

TEST(BlockProtection, OfferedOnlyWhenTheChangeablePageTakesCrc32c) {
  emulated::ModeState state;
  auto changeable = emulated::mode_sense(false, 0x0A, 0xF0, true, true, state);
  ASSERT_TRUE(changeable);
  auto parsed = scsi::parse_mode_sense6(*changeable);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(drive::offers_crc32c(parsed.value()));
  // Current values (method 0) are no offer; neither is a drive without the page.
  auto current = scsi::parse_mode_sense6(*emulated::mode_sense(false, 0x0A, 0xF0, false, true, state));
  ASSERT_TRUE(current);
  EXPECT_FALSE(drive::offers_crc32c(current.value()));
  state.protection_page = false;
  EXPECT_FALSE(emulated::mode_sense(false, 0x0A, 0xF0, true, true, state));
}

TEST(BlockProtection, ParsesTheOption) {
  EXPECT_EQ(drive::parse_protection("auto"), Protection::automatic);
  EXPECT_EQ(drive::parse_protection("off"), Protection::off);
  EXPECT_EQ(drive::parse_protection("on"), Protection::on);
  EXPECT_FALSE(drive::parse_protection("yes"));
  EXPECT_FALSE(drive::parse_protection(""));
}

// Forwards to the drive and keeps every command it was given.
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

struct NullDriveRig {
  uring::Ring ring = uring::Ring::create({});
  uring::BufferPool pool = uring::BufferPool::create(ring, 3, 64 * 1024);
  std::unique_ptr<emulated::EmulatedDrive> drive;
  std::unique_ptr<RecordingTransport> recorder;
  scsi::TimeoutTable timeouts = scsi::TimeoutTable::lto_defaults();

  explicit NullDriveRig(const std::string& options = "") {
    drive = std::make_unique<emulated::EmulatedDrive>(
        ring, emulated::parse_drive_spec("null:?capacity=64M" + options));
    recorder = std::make_unique<RecordingTransport>(*drive);
  }

  // Writes `data` as one stream; the outcome.
  drive::StreamOutcome write(const std::vector<std::uint8_t>& data, Protection protection,
                             std::uint32_t block_size, bool fixed = false) {
    drive::WriteStream::Options options;
    options.block_size = block_size;
    options.fixed = fixed;
    options.protection = protection;
    options.tape_alert_interval = std::chrono::seconds{0};
    std::optional<drive::StreamOutcome> outcome;
    bool ready = false;
    drive::WriteStream stream{*recorder, pool, timeouts, {0, 1}, options,
                              [&](const drive::StreamOutcome& o) { outcome = o; }};
    stream.start([&](std::uint64_t) { ready = true; });
    EXPECT_TRUE(test::run_until(ring, [&] { return ready || outcome.has_value(); }));
    std::size_t sent = 0;
    while (ready && sent < data.size() && !outcome) {
      auto space = stream.writable();
      if (space.empty()) {
        EXPECT_TRUE(ring.run_once(std::chrono::milliseconds{100}));
        continue;
      }
      const auto n = std::min(space.size(), data.size() - sent);
      std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(sent), n, space.begin());
      stream.commit(n);
      sent += n;
    }
    if (ready) {
      stream.finish();
    }
    EXPECT_TRUE(test::run_until(ring, [&] { return outcome.has_value(); }));
    EXPECT_TRUE(test::run_until(ring, [&] { return ring.in_flight() == 0; }));
    return outcome.value_or(drive::StreamOutcome{drive::Ending::internal});
  }

  // Reads file 0 whole; the outcome, and what the consumer was given.
  std::pair<drive::StreamOutcome, std::vector<std::uint8_t>> read(Protection protection) {
    std::optional<drive::StreamOutcome> outcome;
    std::vector<std::uint8_t> given;
    drive::ReadStream stream{*recorder, pool, timeouts, {0, 1}, {},
                             [&](const drive::StreamOutcome& o) { outcome = o; }, protection};
    stream.on_data([&] {
      while (auto block = stream.next()) {
        given.insert(given.end(), block->begin(), block->end());
        stream.consumed();
      }
    });
    stream.start(0, [] {});
    EXPECT_TRUE(test::run_until(ring, [&] { return outcome.has_value(); }));
    return {outcome.value_or(drive::StreamOutcome{drive::Ending::internal}), given};
  }

  std::vector<std::uint64_t> write_transfer_lengths() const {
    std::vector<std::uint64_t> lengths;
    for (const auto& c : recorder->commands) {
      if (c.opcode() == scsi::Opcode::write6) {
        lengths.push_back(c.transfer_length);
      }
    }
    return lengths;
  }
};

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> data(n);
  for (std::size_t i = 0; i < n; ++i) {
    data[i] = static_cast<std::uint8_t>(i * 31 + 7);
  }
  return data;
}

TEST(ProtectedStreams, EachWriteCarriesItsBlockAndTheCrc) {
  NullDriveRig rig;
  const auto outcome = rig.write(pattern(10000), Protection::automatic, 4096);
  ASSERT_TRUE(outcome.complete()) << outcome.message;
  EXPECT_TRUE(outcome.protected_blocks);
  EXPECT_TRUE(outcome.protection_offered);
  EXPECT_EQ(outcome.bytes, 10000U);
  EXPECT_EQ(outcome.blocks, 3U);
  // The drive checked each CRC (LBP_W) and kept the data alone: 4096 + 4, twice, then 1808 + 4.
  EXPECT_EQ(rig.write_transfer_lengths(), (std::vector<std::uint64_t>{4100, 4100, 1812}));
  EXPECT_EQ(rig.drive->image_index().object(0).length, 4096U);
  EXPECT_EQ(rig.drive->image_index().object(2).length, 1808U);
}

TEST(ProtectedStreams, OffSendsTheDataAlone) {
  NullDriveRig rig;
  const auto outcome = rig.write(pattern(10000), Protection::off, 4096);
  ASSERT_TRUE(outcome.complete()) << outcome.message;
  EXPECT_FALSE(outcome.protected_blocks);
  EXPECT_EQ(rig.write_transfer_lengths(), (std::vector<std::uint64_t>{4096, 4096, 1808}));
}

TEST(ProtectedStreams, FixedBlocksGoOnePerWriteWithTheirCrc) {
  NullDriveRig rig;
  const auto outcome = rig.write(pattern(5000), Protection::automatic, 1024, true);
  ASSERT_TRUE(outcome.complete()) << outcome.message;
  EXPECT_TRUE(outcome.protected_blocks);
  EXPECT_EQ(outcome.blocks, 5U);
  // Five WRITE(6) commands in fixed mode, one block each; the drive's block length counts the
  // CRC, and the medium holds 1024-byte blocks (the last one padded).
  const auto writes = rig.write_transfer_lengths();
  ASSERT_EQ(writes.size(), 5U);
  for (const auto& c : rig.recorder->commands) {
    if (c.opcode() == scsi::Opcode::write6) {
      EXPECT_EQ(c.cdb[1] & 0x01, 1);                  // fixed
      EXPECT_EQ(scsi::load_be24(c.cdb, 2), 1U);       // one block
    }
  }
  for (std::uint64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(rig.drive->image_index().object(i).length, 1024U);
  }
}

TEST(ProtectedStreams, OnRefusesADriveWithoutProtection) {
  NullDriveRig rig{"&lbp=0"};
  const auto outcome = rig.write(pattern(100), Protection::on, 4096);
  EXPECT_EQ(outcome.ending, drive::Ending::drive_error);
  EXPECT_NE(outcome.message.find("offers no Logical Block Protection"), std::string::npos)
      << outcome.message;
  EXPECT_TRUE(rig.write_transfer_lengths().empty());
}

TEST(ProtectedStreams, AutoRunsWithoutOnADriveWithoutIt) {
  NullDriveRig rig{"&lbp=0"};
  const auto outcome = rig.write(pattern(5000), Protection::automatic, 4096);
  ASSERT_TRUE(outcome.complete()) << outcome.message;
  EXPECT_FALSE(outcome.protected_blocks);
  EXPECT_FALSE(outcome.protection_offered);
  EXPECT_EQ(rig.write_transfer_lengths(), (std::vector<std::uint64_t>{4096, 904}));
}

TEST(ProtectedStreams, ACorruptedWriteIsRefusedAndCountedExactly) {
  NullDriveRig rig{"&corrupt_write=9000"};  // in the third block of 4096
  const auto outcome = rig.write(pattern(20000), Protection::automatic, 4096);
  EXPECT_EQ(outcome.ending, drive::Ending::drive_error);
  EXPECT_NE(outcome.message.find("block 2 of the stream failed its CRC32C check"),
            std::string::npos) << outcome.message;
  EXPECT_EQ(outcome.blocks, 2U);
  EXPECT_EQ(outcome.bytes, 8192U);
  EXPECT_TRUE(outcome.filemark_written);
}

TEST(ProtectedStreams, ReadChecksAndStripsTheCrc) {
  NullDriveRig rig;
  ASSERT_TRUE(rig.write(pattern(10000), Protection::off, 4096).complete());
  const auto [outcome, given] = rig.read(Protection::automatic);
  ASSERT_TRUE(outcome.complete()) << outcome.message;
  EXPECT_TRUE(outcome.protected_blocks);
  EXPECT_EQ(given.size(), 10000U);  // the null drive keeps no data: zeros, CRCs stripped
  EXPECT_EQ(outcome.blocks, 3U);
}

TEST(ProtectedStreams, ACorruptedReadEndsTheStreamNamingTheBlock) {
  NullDriveRig rig{"&corrupt_read=5000"};  // in the second block
  ASSERT_TRUE(rig.write(pattern(10000), Protection::automatic, 4096).complete());
  const auto [outcome, given] = rig.read(Protection::automatic);
  EXPECT_EQ(outcome.ending, drive::Ending::medium_error);
  EXPECT_NE(outcome.message.find("block 1 of file 0 failed its CRC32C check"), std::string::npos)
      << outcome.message;
  EXPECT_EQ(outcome.bytes, 4096U);  // the consumer had the good block before, nothing more
  EXPECT_EQ(given.size(), 4096U);
}

TEST(ProtectedStreams, ACorruptedReadWithoutProtectionDeliversChangedData) {
  NullDriveRig rig{"&corrupt_read=5000"};
  ASSERT_TRUE(rig.write(pattern(10000), Protection::off, 4096).complete());
  const auto [outcome, given] = rig.read(Protection::off);
  ASSERT_TRUE(outcome.complete()) << outcome.message;
  ASSERT_EQ(given.size(), 10000U);
  EXPECT_EQ(given[5000], 0xFF);  // a zero of the null drive, flipped: only a digest sees it
  EXPECT_EQ(std::count(given.begin(), given.end(), 0xFF), 1);
}

}  // namespace
}  // namespace tapestream
