// How a write stream counts what is on the medium after its filemark (WriteStream::settle):
// READ POSITION gives the count; a reset that the count's READ POSITION meets (and that
// rewound the tape, as a power-on reset does) leaves the count to what the filemark vouches
// for; a position before the stream's own filemark with no reset counts nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "drive/write_stream.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"
#include "fake_transport.hpp"
#include "temp_dir.hpp"
#include "write_stream_driver.hpp"

namespace tapestream {
namespace {

constexpr std::uint32_t block = 64 * 1024;
constexpr std::uint8_t write_filemarks = 0x10;
constexpr std::uint8_t read_position = 0x34;

// Forwards to the emulated drive and keeps each command's opcode; with `zero_after_filemark`,
// READ POSITION answers after a WRITE FILEMARKS say the tape is at its beginning although no
// reset came (a drive that answers nonsense).
class Recorder final : public transport::ScsiTransport, private transport::ScsiCallback {
 public:
  explicit Recorder(transport::ScsiTransport& drive) : _drive{drive} {}
  Result<void> submit(const transport::ScsiRequest& request,
                      transport::ScsiCallback& callback) override {
    const auto opcode = request.command.bytes()[0];
    opcodes.push_back(opcode);
    _filemark_sent = _filemark_sent || opcode == write_filemarks;
    if (!zero_after_filemark || opcode != read_position || !_filemark_sent) {
      return _drive.submit(request, callback);
    }
    _caller = &callback;
    _data = request.data.bytes;
    return _drive.submit(request, *this);
  }
  std::string_view kind() const override { return "recording"; }

  // The index (from 0) of the first READ POSITION after the first WRITE FILEMARKS.
  std::optional<std::size_t> count_after_filemark() const {
    bool filemark = false;
    for (std::size_t i = 0; i < opcodes.size(); ++i) {
      filemark = filemark || opcodes[i] == write_filemarks;
      if (filemark && opcodes[i] == read_position) {
        return i;
      }
    }
    return std::nullopt;
  }

  // READ POSITIONs after the first WRITE FILEMARKS: two when the count's met a reset (it is
  // sent again after the unit attention).
  std::size_t positions_after_filemark() const {
    const auto from = count_after_filemark();
    return from ? static_cast<std::size_t>(std::count(opcodes.begin() + static_cast<long>(*from),
                                                      opcodes.end(), read_position))
                : 0;
  }

  std::vector<std::uint8_t> opcodes;
  bool zero_after_filemark = false;

 private:
  void on_scsi_complete(const transport::ScsiResult& result) override {
    if (result.scsi_status == 0 && _data.size() >= 32) {  // the long form, the stream's default
      _data[0] = static_cast<std::uint8_t>(_data[0] | 0x80);  // BOP
      for (std::size_t i = 8; i < 24; ++i) {
        _data[i] = 0;  // logical object and logical file: 0
      }
    }
    std::exchange(_caller, nullptr)->on_scsi_complete(result);
  }

  transport::ScsiTransport& _drive;
  bool _filemark_sent = false;
  transport::ScsiCallback* _caller = nullptr;
  std::span<std::uint8_t> _data;
};

struct Run {
  drive::StreamOutcome outcome;
  std::optional<std::size_t> count_after_filemark;
  std::size_t positions_after_filemark = 0;
};

// Three blocks on a fresh tape through a drive with `faults`.
Run write_three(const std::string& faults, bool zero_after_filemark = false) {
  const test::TempDir dir{"write_stream_count_test"};
  auto ring = uring::Ring::create({});
  auto pool = uring::BufferPool::create(ring, 9, 2 * block);
  const auto timeouts = scsi::TimeoutTable::lto_defaults();
  emulated::EmulatedDrive emulated{
      ring, emulated::parse_drive_spec("emulated:" + (dir / "t.tap").string() + faults)};
  Recorder drive{emulated};
  drive.zero_after_filemark = zero_after_filemark;
  drive::WriteStream::Options options;
  options.block_size = block;
  options.tape_alert_interval = std::chrono::seconds{0};
  options.command_buffer = 8;
  options.start_watermark = 1;
  std::optional<drive::StreamOutcome> outcome;
  drive::WriteStream stream{drive, pool, timeouts, {0, 1, 2, 3, 4, 5, 6, 7}, options,
                            [&](const drive::StreamOutcome& o) { outcome = o; }};
  const auto ended = test::write_blocks(ring, stream, outcome, 3);
  return {ended, drive.count_after_filemark(), drive.positions_after_filemark()};
}

// unit_attention=N: a power-on reset (which rewinds the emulated tape) with command N + 1.
std::string reset_on_the_count(const std::string& faults) {
  const auto clean = write_three(faults);
  EXPECT_TRUE(clean.count_after_filemark.has_value()) << "no READ POSITION after the filemark";
  return faults + (faults.empty() ? "?" : "&") + "unit_attention=" +
         std::to_string(clean.count_after_filemark.value_or(0));
}

// The filemark's GOOD (Immed=0) put every accepted block on the medium: the stream stays
// committed with its whole count, though the position after the reset says 0.
TEST(WriteStreamCount, ACommittedStreamWhoseTapeAResetRewoundAfterItsFilemarkStaysCommitted) {
  const auto run = write_three(reset_on_the_count(""));
  EXPECT_EQ(run.positions_after_filemark, 2U) << "the reset landed on the count";
  const auto& o = run.outcome;
  EXPECT_TRUE(o.filemark_written);
  EXPECT_TRUE(o.complete()) << o.message;
  EXPECT_EQ(o.blocks, 3U);
  EXPECT_EQ(o.bytes, 3U * block);
}

// The third WRITE fails: the stream counts its blocks on the medium (READ POSITION: two),
// closes them with a filemark, and reads the position again, which a reset rewound. The count
// is the two counted before the filemark. Before, 0 - 1 wrapped and the cap at the blocks sent
// (three, the refused one among them) was reported: one block the tape does not hold.
TEST(WriteStreamCount, AFailedStreamWhoseTapeAResetRewoundAfterItsFilemarkKeepsItsCount) {
  const auto run = write_three(reset_on_the_count("?medium_error_write=3"));
  EXPECT_EQ(run.positions_after_filemark, 2U) << "the reset landed on the count";
  const auto& o = run.outcome;
  EXPECT_TRUE(o.filemark_written);
  EXPECT_EQ(o.ending, drive::Ending::medium_error) << o.message;
  EXPECT_EQ(o.blocks, 2U);
  EXPECT_EQ(o.bytes, 2U * block);
}

// With no reset, a position before the stream's own filemark is the drive's error: nothing of
// the stream is counted there, and the stream is not committed (before, a position of 0
// wrapped to every block sent and the stream was reported committed).
TEST(WriteStreamCount, APositionBeforeItsOwnFilemarkWithoutAResetIsNoCommit) {
  const auto o = write_three("", true).outcome;
  EXPECT_TRUE(o.filemark_written);
  EXPECT_EQ(o.ending, drive::Ending::drive_error) << o.message;
  EXPECT_EQ(o.blocks, 0U);
  EXPECT_NE(o.message.find("0 of 196608 bytes"), std::string::npos) << o.message;
}

}  // namespace
}  // namespace tapestream
