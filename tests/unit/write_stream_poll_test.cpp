// A write stream's LOG SENSE polls between its WRITEs are commands of the stream (regression:
// with telemetry, reliability.fault_matrix.ua_write/ua_filemark found no unit_attention=N
// landing on a middle WRITE, main reverted the merge). A reset or a timeout that a poll meets
// ends the stream as on a WRITE, with the exact count; the drive-model poll comes after a
// given amount of data, not on a timer, so that the Nth command of a stream is the same one
// every run; and a drive without log page 3Ch is asked for it once, not twice per stream.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drive/drive.hpp"
#include "drive/write_stream.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"
#include "fake_transport.hpp"
#include "temp_dir.hpp"
#include "write_stream_driver.hpp"

namespace tapestream {
namespace {


constexpr std::uint8_t log_sense_opcode = 0x4D;
constexpr std::uint8_t model_page = 0x3C;
constexpr std::uint8_t tape_alert_page = 0x2E;
constexpr std::uint32_t block = 64 * 1024;

// Forwards to the emulated drive and keeps each command's opcode and page; the `fail_poll`th
// LOG SENSE of page 3Ch (1-based) does not reach the drive and times out instead, and the
// `defer_alert`th of page 2Eh gets a deferred MEDIUM ERROR (a buffered WRITE the drive had
// acknowledged did not reach the medium).
class Recorder final : public transport::ScsiTransport, private uring::Completion {
 public:
  Recorder(uring::Ring& ring, transport::ScsiTransport& drive) : _ring{ring}, _drive{drive} {}
  Result<void> submit(const transport::ScsiRequest& request,
                      transport::ScsiCallback& callback) override {
    const auto cdb = request.command.bytes();
    const bool model_poll = cdb[0] == log_sense_opcode && (cdb[2] & 0x3F) == model_page;
    commands.push_back({cdb[0], model_poll});
    if (model_poll && ++_model_polls == fail_poll) {
      _failing = &callback;
      _failure = transport::ScsiResult{};
      _failure.host_status = 0x03;  // DID_TIME_OUT
      _failure.timed_out = true;
      return _ring.prepare(uring::Nop{}, this);
    }
    const bool alert_poll = cdb[0] == log_sense_opcode && (cdb[2] & 0x3F) == tape_alert_page;
    if (alert_poll && ++_alert_polls == defer_alert) {
      _failing = &callback;
      _failure = transport::ScsiResult{};
      _failure.scsi_status = 0x02;  // CHECK CONDITION
      _failure.sense_length = 18;
      _failure.sense[0] = 0x71;  // fixed format, deferred
      _failure.sense[2] = 0x03;  // MEDIUM ERROR
      _failure.sense[7] = 10;
      _failure.sense[12] = 0x0C;  // WRITE ERROR
      return _ring.prepare(uring::Nop{}, this);
    }
    return _drive.submit(request, callback);
  }
  std::string_view kind() const override { return "recording"; }

  struct Sent {
    std::uint8_t opcode;
    bool model_poll;
  };
  std::vector<Sent> commands;
  std::size_t fail_poll = 0;
  std::size_t defer_alert = 0;

  // Where (0-based) the second poll of page 3Ch went: the first one after the first WRITE.
  std::optional<std::size_t> mid_stream_poll() const {
    int seen = 0;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      if (commands[i].model_poll && ++seen == 2) {
        return i;
      }
    }
    return std::nullopt;
  }
  std::size_t writes_before(std::size_t at) const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < at; ++i) {
      if (commands[i].opcode == 0x0A) {  // WRITE(6)
        ++n;
      }
    }
    return n;
  }
  std::size_t model_polls() const {
    std::size_t n = 0;
    for (const auto& c : commands) {
      if (c.model_poll) {
        ++n;
      }
    }
    return n;
  }

 private:
  void on_complete(const io_uring_cqe&) override {
    std::exchange(_failing, nullptr)->on_scsi_complete(_failure);
  }

  uring::Ring& _ring;
  transport::ScsiTransport& _drive;
  std::size_t _model_polls = 0;
  std::size_t _alert_polls = 0;
  transport::ScsiCallback* _failing = nullptr;
  transport::ScsiResult _failure;
};

class PollTest : public ::testing::Test {
 protected:

  struct Run {
    drive::StreamOutcome outcome;
    std::vector<Recorder::Sent> commands;
    std::optional<std::size_t> mid_stream_poll;
    std::size_t writes_before_poll = 0;
  };

  // One stream of `blocks` whole blocks on a fresh tape of an emulated drive with its model
  // (which has page 3Ch), polled every 4 blocks, with the drive's `faults`.
  Run write(std::size_t blocks, const std::string& faults, std::size_t fail_poll = 0,
            std::size_t defer_alert = 0) {
    const auto image = _dir / ("tape" + std::to_string(++_runs) + ".tap");
    auto ring = uring::Ring::create({});
    auto pool = uring::BufferPool::create(ring, 9, 2 * block);
    const auto timeouts = scsi::TimeoutTable::lto_defaults();
    emulated::EmulatedDrive emulated{
        ring, emulated::parse_drive_spec("emulated:" + image.string() + "?buffer=16M&backhitch=1ms" + faults)};
    Recorder recorder{ring, emulated};
    recorder.fail_poll = fail_poll;
    recorder.defer_alert = defer_alert;

    drive::WriteStream::Options options;
    options.block_size = block;
    options.tape_alert_interval = std::chrono::seconds{0};
    options.command_buffer = 8;
    options.start_watermark = 1;
    options.model_page = true;
    options.model_poll_bytes = 4 * block;
    std::optional<drive::StreamOutcome> outcome;
    drive::WriteStream stream{recorder, pool, timeouts, {0, 1, 2, 3, 4, 5, 6, 7}, options,
                              [&](const drive::StreamOutcome& o) { outcome = o; }};
    const auto ended = test::write_blocks(ring, stream, outcome, blocks, [](std::size_t i, auto space) {
      std::fill(space.begin(), space.end(), static_cast<std::uint8_t>(i));
    });
    Run run{ended, recorder.commands, recorder.mid_stream_poll(), 0};
    if (run.mid_stream_poll) {
      run.writes_before_poll = recorder.writes_before(*run.mid_stream_poll);
    }
    return run;
  }

  test::TempDir _dir{"write_stream_poll_test"};
  int _runs = 0;
};

// The mid-stream poll comes after the same WRITE every run, and a power-on reset that lands on
// it ends the stream (exit 74 at the CLI) with exactly the blocks written before it on tape.
TEST_F(PollTest, AResetOnTheMidStreamModelPollEndsTheStreamWithItsExactCount) {
  const auto clean = write(16, "");
  ASSERT_TRUE(clean.outcome.complete()) << clean.outcome.message;
  ASSERT_TRUE(clean.mid_stream_poll.has_value()) << "no page 3Ch poll between the WRITEs";
  EXPECT_EQ(clean.writes_before_poll, 4U) << "the poll comes after model_poll_bytes of blocks";

  // unit_attention=N: the reset comes with the drive's command N + 1 (the first is number 1).
  const auto n = *clean.mid_stream_poll;
  const auto reset = write(16, "&unit_attention=" + std::to_string(n));
  ASSERT_TRUE(reset.mid_stream_poll.has_value());
  EXPECT_EQ(*reset.mid_stream_poll, n) << "the same commands as the run without the reset";
  EXPECT_EQ(reset.outcome.ending, drive::Ending::medium_changed) << reset.outcome.message;
  EXPECT_NE(reset.outcome.message.find("LOG SENSE (drive model)"), std::string::npos)
      << reset.outcome.message;
  EXPECT_EQ(reset.outcome.blocks, 4U);
  EXPECT_EQ(reset.outcome.bytes, 4U * block);
  EXPECT_TRUE(reset.outcome.filemark_written) << "the four blocks are closed as a file";
}

// A poll that times out is a timed-out command of the stream: the stream ends (timeout), is
// counted at end of data, and gets no filemark from a drive that did not answer.
TEST_F(PollTest, AModelPollThatTimesOutEndsTheStreamAsATimedOutWrite) {
  const auto run = write(16, "", 2);
  EXPECT_EQ(run.outcome.ending, drive::Ending::timeout) << run.outcome.message;
  EXPECT_NE(run.outcome.message.find("timed out"), std::string::npos) << run.outcome.message;
  EXPECT_EQ(run.outcome.blocks, 4U);
  EXPECT_EQ(run.outcome.bytes, 4U * block);
  EXPECT_FALSE(run.outcome.filemark_written);
}

// The TapeAlert poll after the last WRITE (the second, after the baseline) meets a deferred
// error: a WRITE the drive acknowledged from its buffer never reached the medium, so the
// stream must not commit (regression: the poll's answer was read for flags only, and the
// filemark that followed made the stream COMMITTED).
TEST_F(PollTest, ADeferredErrorOnTheTapeAlertPollKeepsTheStreamFromCommitting) {
  const auto clean = write(8, "");
  ASSERT_TRUE(clean.outcome.complete()) << clean.outcome.message;

  const auto run = write(8, "", 0, 2);
  EXPECT_FALSE(run.outcome.complete());
  EXPECT_EQ(run.outcome.ending, drive::Ending::medium_error) << run.outcome.message;
  EXPECT_NE(run.outcome.message.find("LOG SENSE (TapeAlert)"), std::string::npos)
      << run.outcome.message;
  EXPECT_NE(run.outcome.message.find("earlier WRITE"), std::string::npos) << run.outcome.message;
}

// A Drive whose emulated drive has no model (so no page 3Ch): the first stream asks once
// (ILLEGAL REQUEST), the next stream does not ask at all.
TEST_F(PollTest, ADriveWithoutTheModelPageIsAskedForItOnce) {
  auto ring = uring::Ring::create({});
  auto pool = uring::BufferPool::create(ring, 6, 2 * block);
  emulated::EmulatedDrive emulated{
      ring, emulated::parse_drive_spec("emulated:" + (_dir / "plain.tap").string())};
  auto owned = std::make_unique<Recorder>(ring, emulated);
  auto& recorder = *owned;
  drive::Drive drive{"emu0", std::move(owned), pool, {0, 1, 2, 3, 4}, 5,
                     scsi::TimeoutTable::lto_defaults()};
  drive::DriveIdentity identity;
  identity.vendor = "TAPESTRM";
  identity.max_block_length = 0x80'0000;
  drive.set_identity(identity);

  for (int i = 0; i < 2; ++i) {
    drive::WriteStream::Options options;
    options.block_size = block;
    options.tape_alert_interval = std::chrono::seconds{0};
    options.start_watermark = 1;
    std::optional<drive::StreamOutcome> outcome;
    bool ready = false;
    auto stream = drive.write_stream(options, [&](const drive::StreamOutcome& o) { outcome = o; });
    stream->start([&](std::uint64_t) { ready = true; });
    ASSERT_TRUE(test::run_until(ring, [&] { return ready || outcome.has_value(); }));
    auto space = stream->writable();
    ASSERT_FALSE(space.empty());
    stream->commit(space.size());
    stream->finish();
    ASSERT_TRUE(test::run_until(ring, [&] { return outcome.has_value(); }));
    ASSERT_TRUE(test::run_until(ring, [&] { return ring.in_flight() == 0; }));
    EXPECT_TRUE(outcome->complete()) << outcome->message;
    EXPECT_EQ(recorder.model_polls(), 1U) << "after stream " << i;
  }
}

}  // namespace
}  // namespace tapestream
