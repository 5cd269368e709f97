// The stream's own commands (READ POSITION, MODE SELECT) never use a buffer a producer may still
// be receiving into: a stream cut while a receive is under way reads its count from the drive's
// control buffer, so that bytes landing late cannot change the count the client is told.
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

namespace tapestream {
namespace {


// Forwards to the emulated drive and keeps, per command, the pool buffer its data used.
class BufferRecorder final : public transport::ScsiTransport {
 public:
  explicit BufferRecorder(transport::ScsiTransport& drive) : _drive{drive} {}
  Result<void> submit(const transport::ScsiRequest& request,
                      transport::ScsiCallback& callback) override {
    if (!request.data.bytes.empty()) {
      used.push_back({request.command.bytes()[0], request.data.index});
    }
    return _drive.submit(request, callback);
  }
  std::string_view kind() const override { return "recording"; }
  struct Use {
    std::uint8_t opcode;
    std::uint16_t buffer;
  };
  std::vector<Use> used;

 private:
  transport::ScsiTransport& _drive;
};

constexpr std::uint8_t read_position_opcode = 0x34;

// The producer holds buffer 0 (the first writable() takes it) when the stream is cut: the count's
// READ POSITION must go to the command buffer, not into the producer's buffer.
TEST(WriteStreamCommandBuffer, ACutStreamReadsItsCountIntoTheCommandBuffer) {
  const test::TempDir dir{"command_buffer_test"};
  {
    auto ring = uring::Ring::create({});
    auto pool = uring::BufferPool::create(ring, 5, 128 * 1024);
    const auto timeouts = scsi::TimeoutTable::lto_defaults();
    emulated::EmulatedDrive emulated{
        ring, emulated::parse_drive_spec("emulated:" + (dir / "tape.tap").string())};
    BufferRecorder recorder{emulated};

    drive::WriteStream::Options options;
    options.block_size = 64 * 1024;
    options.tape_alert_interval = std::chrono::seconds{0};
    options.command_buffer = 4;
    std::optional<drive::StreamOutcome> outcome;
    bool ready = false;
    drive::WriteStream stream{recorder, pool, timeouts, {0, 1, 2, 3}, options,
                              [&](const drive::StreamOutcome& o) { outcome = o; }};
    stream.start([&](std::uint64_t) { ready = true; });
    ASSERT_TRUE(test::run_until(ring, [&] { return ready || outcome.has_value(); }));
    ASSERT_TRUE(ready) << (outcome ? outcome->message : "");

    // The producer starts receiving into the first buffer (the one a stream without a command
    // buffer would read its position into) when the stream is cut.
    auto receiving = stream.writable();
    ASSERT_FALSE(receiving.empty());
    const auto held = stream.writable_buffer();
    const auto cut_at = recorder.used.size();

    stream.cut(drive::Ending::shutting_down, "the daemon is stopping");
    ASSERT_TRUE(test::run_until(ring, [&] { return outcome.has_value(); }));
    ASSERT_TRUE(test::run_until(ring, [&] { return ring.in_flight() == 0; }));

    bool position_read = false;
    for (std::size_t i = cut_at; i < recorder.used.size(); ++i) {
      const auto& use = recorder.used[i];
      EXPECT_NE(use.buffer, held) << "command 0x" << std::hex << int{use.opcode}
                                  << " used the buffer the producer is receiving into";
      if (use.opcode == read_position_opcode) {
        position_read = true;
        EXPECT_EQ(use.buffer, 4);
      }
    }
    EXPECT_TRUE(position_read) << "the cut stream never read its position";
    EXPECT_EQ(outcome->bytes, 0u) << outcome->message;
  }
}


// A Drive keeps one of its stream buffers for its streams' commands, apart from its control
// buffer: a STATUS refresh may run its commands (into the control buffer) while a stream starts,
// and must not overwrite the stream's MODE SELECT list or READ POSITION data.
TEST(WriteStreamCommandBuffer, ADrivesStreamsUseNeitherTheControlBufferNorADataBuffer) {
  const test::TempDir dir{"command_buffer_test"};
  {
    auto ring = uring::Ring::create({});
    auto pool = uring::BufferPool::create(ring, 6, 128 * 1024);
    emulated::EmulatedDrive emulated{
        ring, emulated::parse_drive_spec("emulated:" + (dir / "tape.tap").string())};
    auto owned = std::make_unique<BufferRecorder>(emulated);
    auto& recorder = *owned;
    constexpr std::uint16_t control = 5;
    drive::Drive drive{"emu0", std::move(owned), pool, {0, 1, 2, 3, 4}, control,
                       scsi::TimeoutTable::lto_defaults()};
    drive::DriveIdentity identity;
    identity.vendor = "TAPESTRM";
    identity.max_block_length = 0x80'0000;
    drive.set_identity(identity);
    ASSERT_EQ(drive.stream_buffers().size(), 4u) << "one stream buffer is kept for commands";

    drive::WriteStream::Options options;
    options.block_size = 64 * 1024;
    options.fixed = true;  // MODE SELECT of the block length before the data, and back after
    options.tape_alert_interval = std::chrono::seconds{0};
    options.start_watermark = 1;
    std::optional<drive::StreamOutcome> outcome;
    bool ready = false;
    auto stream = drive.write_stream(options, [&](const drive::StreamOutcome& o) { outcome = o; });
    stream->start([&](std::uint64_t) { ready = true; });
    ASSERT_TRUE(test::run_until(ring, [&] { return ready || outcome.has_value(); }));
    ASSERT_TRUE(ready) << (outcome ? outcome->message : "");
    auto space = stream->writable();
    ASSERT_FALSE(space.empty());
    std::fill(space.begin(), space.end(), std::uint8_t{0x33});
    stream->commit(space.size());
    stream->finish();
    ASSERT_TRUE(test::run_until(ring, [&] { return outcome.has_value(); }));
    ASSERT_TRUE(test::run_until(ring, [&] { return ring.in_flight() == 0; }));
    EXPECT_TRUE(outcome->complete()) << outcome->message;

    constexpr std::uint8_t mode_select_opcode = 0x15;
    int commands = 0;
    for (const auto& use : recorder.used) {
      if (use.opcode == read_position_opcode || use.opcode == mode_select_opcode) {
        ++commands;
        EXPECT_EQ(use.buffer, 4) << "command 0x" << std::hex << int{use.opcode};
      }
      EXPECT_NE(use.buffer, control) << "command 0x" << std::hex << int{use.opcode}
                                     << " used the drive's control buffer";
    }
    EXPECT_GE(commands, 3) << "READ POSITION and the two MODE SELECTs of a fixed-block stream";
  }
}

}  // namespace
}  // namespace tapestream
