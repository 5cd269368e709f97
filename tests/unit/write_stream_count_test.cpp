// How a write stream counts what is on the medium after its filemark (WriteStream::settle):
// READ POSITION gives the count, unless the tape no longer stands after the filemark.
#include <gtest/gtest.h>

#include <optional>
#include <span>
#include <string>
#include <utility>

#include "drive/write_stream.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"
#include "fake_transport.hpp"
#include "temp_dir.hpp"

namespace tapestream {
namespace {

constexpr std::uint32_t block = 64 * 1024;

// Forwards to the emulated drive; once a WRITE FILEMARKS has gone by, READ POSITION answers
// (the long form, which the stream uses by default) say the tape is at its beginning, as after
// a reset that rewound it.
class RewoundAfterFilemark final : public transport::ScsiTransport, private transport::ScsiCallback {
 public:
  explicit RewoundAfterFilemark(transport::ScsiTransport& drive) : _drive{drive} {}
  Result<void> submit(const transport::ScsiRequest& request,
                      transport::ScsiCallback& callback) override {
    const auto opcode = request.command.bytes()[0];
    if (opcode == 0x10) {  // WRITE FILEMARKS(6)
      _filemark_sent = true;
    }
    if (opcode != 0x34 || !_filemark_sent) {
      return _drive.submit(request, callback);
    }
    _caller = &callback;
    _data = request.data.bytes;
    return _drive.submit(request, *this);
  }
  std::string_view kind() const override { return "rewound"; }

 private:
  void on_scsi_complete(const transport::ScsiResult& result) override {
    if (result.scsi_status == 0 && _data.size() >= 32) {
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

// Three blocks through a drive with `faults`, READ POSITION after the filemark rewound.
drive::StreamOutcome write_three(const std::string& faults) {
  const test::TempDir dir{"write_stream_count_test"};
  auto ring = uring::Ring::create({});
  auto pool = uring::BufferPool::create(ring, 9, 2 * block);
  const auto timeouts = scsi::TimeoutTable::lto_defaults();
  emulated::EmulatedDrive emulated{
      ring, emulated::parse_drive_spec("emulated:" + (dir / "t.tap").string() + faults)};
  RewoundAfterFilemark drive{emulated};
  drive::WriteStream::Options options;
  options.block_size = block;
  options.tape_alert_interval = std::chrono::seconds{0};
  options.command_buffer = 8;
  options.start_watermark = 1;
  std::optional<drive::StreamOutcome> outcome;
  bool ready = false;
  drive::WriteStream stream{drive, pool, timeouts, {0, 1, 2, 3, 4, 5, 6, 7}, options,
                            [&](const drive::StreamOutcome& o) { outcome = o; }};
  stream.start([&](std::uint64_t) { ready = true; });
  EXPECT_TRUE(test::run_until(ring, [&] { return ready; }));
  for (int i = 0; i < 3 && !stream.closed(); ++i) {
    EXPECT_TRUE(test::run_until(ring, [&] { return !stream.writable().empty() || stream.closed(); }));
    auto space = stream.writable();
    if (space.empty()) {
      break;
    }
    stream.commit(space.size());
  }
  stream.finish();
  EXPECT_TRUE(test::run_until(ring, [&] { return outcome.has_value(); }));
  EXPECT_TRUE(test::run_until(ring, [&] { return ring.in_flight() == 0; }));
  return outcome.value_or(drive::StreamOutcome{});
}

// The filemark's GOOD (Immed=0) put every accepted block on the medium: the stream is
// committed with its whole count, as the position would have said before the reset.
TEST(WriteStreamCount, ACommittedStreamWhoseTapeWasRewoundAfterItsFilemarkStaysCommitted) {
  const auto o = write_three("");
  EXPECT_TRUE(o.filemark_written);
  EXPECT_TRUE(o.complete()) << o.message;
  EXPECT_EQ(o.blocks, 3U);
  EXPECT_EQ(o.bytes, 3U * block);
}

// The third WRITE fails: the stream counts its blocks on the medium (READ POSITION: two),
// closes them with a filemark, and reads the position again, which a reset rewound. The count
// is the two counted before the filemark; before, 0 - 1 wrapped and the cap at the blocks
// sent (three, the failed one among them) was reported: one block the tape does not hold.
TEST(WriteStreamCount, AFailedStreamWhoseTapeWasRewoundAfterItsFilemarkKeepsItsCount) {
  const auto o = write_three("?medium_error_write=3");
  EXPECT_TRUE(o.filemark_written);
  EXPECT_EQ(o.ending, drive::Ending::medium_error) << o.message;
  EXPECT_EQ(o.blocks, 2U);
  EXPECT_EQ(o.bytes, 2U * block);
}

}  // namespace
}  // namespace tapestream
