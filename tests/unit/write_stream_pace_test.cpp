// A write stream paced to its producer (Options::min_rate, drive/feed_pacer.hpp): a block the
// pace holds back goes on the owner's tick() when no commit comes, the stream's end goes at
// once whatever the pace, and nothing is sent between ticks without a reason.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "drive/write_stream.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"
#include "fake_transport.hpp"

namespace tapestream {
namespace {

namespace fs = std::filesystem;
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

// Time passes with the ring turning (a ring with nothing in flight does not wait).
void idle(uring::Ring& ring, std::chrono::milliseconds how_long) {
  const auto until = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(ring.run_once(std::chrono::milliseconds{10}));
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

TEST(PacedWriteStream, AHeldBlockGoesOnTheTickAndTheStreamsEndGoesAtOnce) {
  std::string pattern = (fs::temp_directory_path() / "write_stream_pace_test.XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  {
    auto ring = uring::Ring::create({});
    auto pool = uring::BufferPool::create(ring, 9, 2 * block);
    const auto timeouts = scsi::TimeoutTable::lto_defaults();
    emulated::EmulatedDrive emulated{ring, emulated::parse_drive_spec("emulated:" + (dir / "t.tap").string())};
    WriteCounter drive{emulated};
    drive::WriteStream::Options options;
    options.block_size = block;
    options.tape_alert_interval = std::chrono::seconds{0};
    options.command_buffer = 8;
    options.start_watermark = 1;
    options.restart_watermark = 1;
    // Fed at 55 kB/s at least (a tenth above): a 64 KiB block's credit takes 1.2 s to build.
    options.min_rate = 50'000;
    std::optional<drive::StreamOutcome> outcome;
    bool ready = false;
    drive::WriteStream stream{drive, pool, timeouts, {0, 1, 2, 3, 4, 5, 6, 7}, options,
                              [&](const drive::StreamOutcome& o) { outcome = o; }};
    stream.start([&](std::uint64_t) { ready = true; });
    ASSERT_TRUE(test::run_until(ring, [&] { return ready; }));
    const auto fill_one = [&] {
      auto space = stream.writable();
      ASSERT_EQ(space.size(), block);
      stream.commit(space.size());
    };

    fill_one();
    idle(ring, std::chrono::milliseconds{1'300});
    EXPECT_EQ(drive.writes, 0) << "no commit, no tick: nothing may send the held block";
    stream.tick();
    ASSERT_TRUE(test::run_until(ring, [&] { return drive.writes == 1; })) << "the tick sends it";

    // The credit was spent: the next blocks wait about a second for theirs.
    fill_one();
    fill_one();
    fill_one();
    idle(ring, std::chrono::milliseconds{200});
    stream.tick();
    idle(ring, std::chrono::milliseconds{100});
    EXPECT_EQ(drive.writes, 1) << "the pace holds them";

    const auto finishing = std::chrono::steady_clock::now();
    stream.finish();
    ASSERT_TRUE(test::run_until(ring, [&] { return outcome.has_value(); }));
    EXPECT_TRUE(outcome->complete()) << outcome->message;
    EXPECT_EQ(drive.writes, 4);
    EXPECT_EQ(outcome->bytes, 4U * block);
    EXPECT_LT(std::chrono::steady_clock::now() - finishing, std::chrono::seconds{2})
        << "the end went at the drive's speed, not at the pace (3.5 s for three blocks)";
    ASSERT_TRUE(test::run_until(ring, [&] { return ring.in_flight() == 0; }));
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace tapestream
