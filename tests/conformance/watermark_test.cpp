// The start and restart watermarks of a write stream (issue 13, item 2), on the emulated drive:
// the first WRITE waits for the start mark; when the pool runs dry mid-stream the next WRITE
// waits for the restart mark, or for the producer's end; with a restart mark of one buffer
// whatever arrives is written at once (the behaviour before restart marks).
#include <gtest/gtest.h>

#include "stream_rig.hpp"

namespace tapestream::test {
namespace {

class TurnedStream {
 public:
  TurnedStream(Rig& rig, drive::WriteStream::Options options)
      : _rig{rig},
        _stream{rig.drive(), rig.pool(), rig.timeouts(), Rig::buffers(), options,
                [this](const drive::StreamOutcome& o) { outcome = o; }} {
    _stream.start([this](std::uint64_t) { _ready = true; });
    settle([this] { return _ready; });
  }

  // Fills `blocks` whole blocks, in two commits each (a block is sent once it is full).
  void fill(unsigned blocks) {
    for (unsigned i = 0; i < blocks; ++i) {
      for (int half = 0; half < 2; ++half) {
        auto space = _stream.writable();
        ASSERT_FALSE(space.empty());
        const auto n = half == 0 ? space.size() / 2 : space.size();
        const auto data = stream_data(n, static_cast<std::uint32_t>(_sent));
        std::copy(data.begin(), data.end(), space.begin());
        _stream.commit(n);
        _sent += n;
        all.insert(all.end(), data.begin(), data.end());
      }
    }
  }

  // Turns the ring until `done` or for `patience`, which is long for the emulated drive: a
  // WRITE the stream may send goes within it.
  template <typename Done>
  void settle(Done done, std::chrono::milliseconds patience = std::chrono::milliseconds{300}) {
    const auto until = std::chrono::steady_clock::now() + patience;
    while (!done() && std::chrono::steady_clock::now() < until) {
      EXPECT_TRUE(_rig.ring().run_once(std::chrono::milliseconds{20}));
    }
  }

  std::uint64_t on_tape() const { return _stream.progress().on_tape; }
  void wait_written(std::uint64_t bytes) {
    settle([&] { return on_tape() >= bytes; }, std::chrono::seconds{10});
  }
  drive::WriteStream& stream() { return _stream; }
  void finish() {
    _stream.finish();
    settle([this] { return outcome.has_value(); }, std::chrono::seconds{10});
  }

  std::optional<drive::StreamOutcome> outcome;
  std::vector<std::uint8_t> all;

 private:
  Rig& _rig;
  drive::WriteStream _stream;
  bool _ready = false;
  std::size_t _sent = 0;
};

TEST(Watermarks, TheDriveWaitsForTheRestartMarkAfterThePoolRanDry) {
  Rig rig{""};
  auto options = rig.options();
  options.start_watermark = 3;
  options.restart_watermark = 5;
  TurnedStream s{rig, options};
  s.fill(2);
  s.settle([&] { return s.on_tape() > 0; });
  EXPECT_EQ(s.on_tape(), 0U) << "below the start mark nothing is written";
  s.fill(1);
  s.wait_written(3 * block);
  ASSERT_EQ(s.on_tape(), 3 * block) << "the start mark sends what is buffered";
  // The pool is dry now: four blocks stay below the restart mark of five.
  s.fill(4);
  s.settle([&] { return s.on_tape() > 3 * block; });
  EXPECT_EQ(s.on_tape(), 3 * block) << "below the restart mark the drive is not fed a trickle";
  EXPECT_EQ(s.stream().pool_ran_dry(), 1U);
  s.fill(1);
  s.wait_written(8 * block);
  EXPECT_EQ(s.on_tape(), 8 * block) << "the restart mark sends the run";
  // Dry again: the producer's end sends what is left, however little.
  s.fill(1);
  s.settle([&] { return s.on_tape() > 8 * block; });
  EXPECT_EQ(s.on_tape(), 8 * block);
  s.finish();
  ASSERT_TRUE(s.outcome && s.outcome->complete()) << (s.outcome ? s.outcome->message : "no outcome");
  EXPECT_EQ(s.outcome->bytes, 9 * block);
  EXPECT_EQ(s.stream().pool_ran_dry(), 2U);
  EXPECT_EQ(rig.read_file(0), s.all);
}

TEST(Watermarks, ARestartMarkOfOneBufferWritesWhateverArrives) {
  Rig rig{""};
  auto options = rig.options();
  options.start_watermark = 2;
  options.restart_watermark = 1;
  TurnedStream s{rig, options};
  s.fill(2);
  s.wait_written(2 * block);
  ASSERT_EQ(s.on_tape(), 2 * block);
  s.fill(1);
  s.wait_written(3 * block);
  EXPECT_EQ(s.on_tape(), 3 * block) << "one full buffer goes at once";
  s.finish();
  ASSERT_TRUE(s.outcome && s.outcome->complete());
  EXPECT_EQ(rig.read_file(0), s.all);
}

TEST(Watermarks, PercentagesOfThePoolAndTheirDefaults) {
  Rig rig{""};
  auto options = rig.options();  // 8 buffers
  options.start_percent = 25;
  options.restart_percent = 90;
  TurnedStream marked{rig, options};
  EXPECT_EQ(marked.stream().start_watermark(), 2U);
  EXPECT_EQ(marked.stream().restart_watermark(), 8U);  // rounded up
  marked.finish();
  TurnedStream plain{rig, rig.options()};
  EXPECT_EQ(plain.stream().start_watermark(), 4U) << "half the pool";
  EXPECT_EQ(plain.stream().restart_watermark(), 4U) << "the start mark";
  plain.finish();
}

}  // namespace
}  // namespace tapestream::test
