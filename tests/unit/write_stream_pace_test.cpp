// A write stream paced to its producer (Options::min_rate, drive/feed_pacer.hpp): a block the
// pace holds back goes on the owner's tick() when no commit comes, the stream's end goes at
// once whatever the pace, a pool three quarters full is never held back, nothing is sent
// between ticks without a reason, and a drive with no configured rate is paced from the
// medium's density code where its generation's speeds are known.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "drive/write_stream.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"
#include "fake_transport.hpp"
#include "temp_dir.hpp"
#include "write_stream_driver.hpp"

namespace tapestream {
namespace {

constexpr std::uint32_t block = 64 * 1024;

// Forwards to the emulated drive and counts its WRITEs.
class WriteCounter final : public transport::ScsiTransport {
 public:
  explicit WriteCounter(transport::ScsiTransport& drive) : _drive{drive} {}
  Result<void> submit(const transport::ScsiRequest& request,
                      transport::ScsiCallback& callback) override {
    if (request.command.bytes()[0] == 0x0A) {  // WRITE(6)
      ++writes;
    }
    return _drive.submit(request, callback);
  }
  std::string_view kind() const override { return "counting"; }
  int writes = 0;

 private:
  transport::ScsiTransport& _drive;
};

// Forwards to the emulated drive (whose own density code is the vendor-unique 80h) and makes
// its MODE SENSE(6) answers for page 0Fh (the one the stream asks for its medium's density)
// report `density` as a real drive reports its medium's, or refuses them with ILLEGAL REQUEST
// when `refuse` is set.
class DensityReporter final : public transport::ScsiTransport,
                              private transport::ScsiCallback,
                              private uring::Completion {
 public:
  DensityReporter(uring::Ring& ring, transport::ScsiTransport& drive) : _ring{ring}, _drive{drive} {}
  Result<void> submit(const transport::ScsiRequest& request,
                      transport::ScsiCallback& callback) override {
    const auto cdb = request.command.bytes();
    if (cdb[0] != 0x1A || (cdb[2] & 0x3F) != 0x0F) {  // MODE SENSE(6) of the compression page
      return _drive.submit(request, callback);
    }
    ++mode_senses;
    _caller = &callback;
    _data = request.data.bytes;
    if (refuse) {
      _refusal = transport::ScsiResult{};
      _refusal.scsi_status = 0x02;  // CHECK CONDITION
      _refusal.sense_length = 18;
      _refusal.sense[0] = 0x70;
      _refusal.sense[2] = 0x05;  // ILLEGAL REQUEST
      _refusal.sense[7] = 10;
      _refusal.sense[12] = 0x24;  // INVALID FIELD IN CDB
      return _ring.prepare(uring::Nop{}, this);
    }
    return _drive.submit(request, *this);
  }
  std::string_view kind() const override { return "density"; }
  std::uint8_t density = 0x60;
  bool refuse = false;
  int mode_senses = 0;

 private:
  void on_scsi_complete(const transport::ScsiResult& result) override {
    if (result.scsi_status == 0 && _data.size() > 4 && _data[3] >= 8) {
      _data[4] = density;  // the first block descriptor follows the 4-byte header
    }
    std::exchange(_caller, nullptr)->on_scsi_complete(result);
  }
  void on_complete(const io_uring_cqe&) override {
    std::exchange(_caller, nullptr)->on_scsi_complete(_refusal);
  }

  uring::Ring& _ring;
  transport::ScsiTransport& _drive;
  transport::ScsiCallback* _caller = nullptr;
  std::span<std::uint8_t> _data;
  transport::ScsiResult _refusal;
};

struct MediumPace {
  std::optional<std::uint64_t> paced_from;
  int mode_senses = 0;
  drive::StreamOutcome outcome;
};

// 64 KiB blocks, 8 buffers and a command buffer, writing from the first block on.
drive::WriteStream::Options stream_options() {
  drive::WriteStream::Options o;
  o.block_size = block;
  o.tape_alert_interval = std::chrono::seconds{0};
  o.command_buffer = 8;
  o.start_watermark = 1;
  o.restart_watermark = 1;
  return o;
}

class PaceTest : public ::testing::Test {
 protected:
  std::string image() { return "emulated:" + (_dir / ("t" + std::to_string(++_images) + ".tap")).string(); }
  // One block through a drive whose MODE SENSE reports `density` (or refuses), the stream
  // asking for the medium's speed or not (`of_medium`).
  MediumPace write_with_medium(std::uint8_t density, bool refuse, bool of_medium);

  test::TempDir _dir{"write_stream_pace_test"};
  int _images = 0;
};

// Time passes with the ring turning (a ring with nothing in flight does not wait).
void idle(uring::Ring& ring, std::chrono::milliseconds how_long) {
  const auto until = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(ring.run_once(std::chrono::milliseconds{10}));
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

// A paced stream on an emulated drive whose WRITEs are counted, started: READY came.
struct PacedStream {
  PacedStream(const std::string& image, std::uint64_t min_rate)
      : emulated{ring, emulated::parse_drive_spec(image)}, drive{emulated}, stream{[&] {
          auto options = stream_options();
          options.min_rate = min_rate;
          return drive::WriteStream{drive, pool, timeouts, {0, 1, 2, 3, 4, 5, 6, 7}, options,
                                    [this](const drive::StreamOutcome& o) { outcome = o; }};
        }()} {
    bool ready = false;
    stream.start([&](std::uint64_t) { ready = true; });
    EXPECT_TRUE(test::run_until(ring, [&] { return ready; }));
  }
  ~PacedStream() { EXPECT_TRUE(test::run_until(ring, [&] { return ring.in_flight() == 0; })); }
  void fill_one() {
    auto space = stream.writable();
    ASSERT_EQ(space.size(), block);
    stream.commit(space.size());
  }

  uring::Ring ring = uring::Ring::create({});
  uring::BufferPool pool = uring::BufferPool::create(ring, 9, 2 * block);
  scsi::TimeoutTable timeouts = scsi::TimeoutTable::lto_defaults();
  emulated::EmulatedDrive emulated;
  WriteCounter drive;
  std::optional<drive::StreamOutcome> outcome;
  drive::WriteStream stream;
};

TEST_F(PaceTest, AHeldBlockGoesOnTheTickAndTheStreamsEndGoesAtOnce) {
  // Fed at 55 kB/s at least (a tenth above): a 64 KiB block's credit takes 1.2 s to build.
  PacedStream p{image(), 50'000};
  p.fill_one();
  idle(p.ring, std::chrono::milliseconds{1'300});
  EXPECT_EQ(p.drive.writes, 0) << "no commit, no tick: nothing may send the held block";
  p.stream.tick();
  ASSERT_TRUE(test::run_until(p.ring, [&] { return p.drive.writes == 1; })) << "the tick sends it";

  // The credit was spent: the next blocks wait about a second for theirs.
  p.fill_one();
  p.fill_one();
  p.fill_one();
  idle(p.ring, std::chrono::milliseconds{200});
  p.stream.tick();
  idle(p.ring, std::chrono::milliseconds{100});
  EXPECT_EQ(p.drive.writes, 1) << "the pace holds them";

  const auto finishing = std::chrono::steady_clock::now();
  p.stream.finish();
  ASSERT_TRUE(test::run_until(p.ring, [&] { return p.outcome.has_value(); }));
  EXPECT_TRUE(p.outcome->complete()) << p.outcome->message;
  EXPECT_EQ(p.drive.writes, 4);
  EXPECT_EQ(p.outcome->bytes, 4U * block);
  EXPECT_LT(std::chrono::steady_clock::now() - finishing, std::chrono::seconds{2})
      << "the end went at the drive's speed, not at the pace (3.5 s for three blocks)";
}

// However slow the pace, a pool three quarters full goes to the drive on the commit that
// filled it, with no tick: holding it longer would stall the producer, the one thing worse
// for the drive than an early WRITE.
TEST_F(PaceTest, APoolThreeQuartersFullIsNeverHeldBack) {
  PacedStream p{image(), 1'000};  // a 64 KiB block's credit would take a minute
  for (int i = 0; i < 5; ++i) {   // 5 of the 8 buffers: below three quarters
    p.fill_one();
  }
  idle(p.ring, std::chrono::milliseconds{300});
  EXPECT_EQ(p.drive.writes, 0) << "below three quarters the pace holds";
  p.fill_one();  // the sixth: three quarters
  EXPECT_TRUE(test::run_until(p.ring, [&] { return p.drive.writes >= 1; }))
      << "three quarters full, sent without a tick";
  p.stream.finish();
  ASSERT_TRUE(test::run_until(p.ring, [&] { return p.outcome.has_value(); }));
  EXPECT_TRUE(p.outcome->complete()) << p.outcome->message;
  EXPECT_EQ(p.outcome->bytes, 6U * block);
}

MediumPace PaceTest::write_with_medium(std::uint8_t density, bool refuse, bool of_medium) {
  auto ring = uring::Ring::create({});
  auto pool = uring::BufferPool::create(ring, 9, 2 * block);
  const auto timeouts = scsi::TimeoutTable::lto_defaults();
  emulated::EmulatedDrive emulated{ring, emulated::parse_drive_spec(image())};
  DensityReporter drive{ring, emulated};
  drive.density = density;
  drive.refuse = refuse;
  auto options = stream_options();
  options.min_rate_of_medium = of_medium;
  std::optional<drive::StreamOutcome> outcome;
  drive::WriteStream stream{drive, pool, timeouts, {0, 1, 2, 3, 4, 5, 6, 7}, options,
                            [&](const drive::StreamOutcome& o) { outcome = o; }};
  MediumPace result;
  result.outcome = test::write_blocks(ring, stream, outcome, 1, {},
                                      [&] { result.paced_from = stream.progress().paced_from; });
  result.mode_senses = drive.mode_senses;
  return result;
}

TEST_F(PaceTest, WithoutAConfiguredRateTheMediumsGenerationSetsThePace) {
  const auto lto9 = write_with_medium(0x60, false, true);
  EXPECT_TRUE(lto9.outcome.complete()) << lto9.outcome.message;
  EXPECT_EQ(lto9.mode_senses, 1);
  EXPECT_EQ(lto9.paced_from, std::optional<std::uint64_t>{177'000'000});

  const auto lto7 = write_with_medium(0x5C, false, true);
  EXPECT_EQ(lto7.paced_from, std::optional<std::uint64_t>{101'460'000});

  // A medium of no known generation, or a drive that will not say: written, not paced.
  const auto unknown = write_with_medium(0x80, false, true);
  EXPECT_TRUE(unknown.outcome.complete()) << unknown.outcome.message;
  EXPECT_FALSE(unknown.paced_from);
  const auto refused = write_with_medium(0x60, true, true);
  EXPECT_TRUE(refused.outcome.complete()) << refused.outcome.message;
  EXPECT_EQ(refused.outcome.bytes, block);
  EXPECT_FALSE(refused.paced_from);

  // A configured rate (0 included: --min-rate 0) asks nothing.
  const auto configured = write_with_medium(0x60, false, false);
  EXPECT_EQ(configured.mode_senses, 0);
  EXPECT_FALSE(configured.paced_from);
}

}  // namespace
}  // namespace tapestream
