// The stream jobs (server/write_job.hpp) against a fake host (the connection's side) and a
// drive on a scripted transport: a job in the drive's line, a stream that fails before READY,
// and an outcome that waits while a receive into the stream's buffers is in flight.
#include <gtest/gtest.h>

#include <optional>
#include <variant>
#include <vector>

#include "drive_test_rig.hpp"
#include "server/drive_slot.hpp"
#include "server/send_queue.hpp"
#include "server/write_job.hpp"

using namespace tapestream;
using namespace tapestream::test;
using server::DriveSlot;
using server::WriteJob;

namespace {

struct FakeHost final : server::JobHost {
  explicit FakeHost(uring::Ring& ring) : _ring{ring}, queue{-1, ring, {}} {}
  void reply(const proto::Message& message) override { replies.push_back(message); }
  void reply_with_fd(const proto::Message& message, UniqueFd) override { replies.push_back(message); }
  void refuse(proto::Status status, std::string message) override {
    refused = {status, std::move(message)};
    ++over;
  }
  server::SendQueue& send_queue() override { return queue; }
  uring::Ring& ring() override { return _ring; }
  void read_more() override {}
  bool receiving_payload() const override { return receiving; }
  bool client_gone() const override { return gone; }
  void hang_up() override { gone = true; }
  void request_over(bool send_away) override {
    ++over;
    sent_away = send_away;
  }
  std::uint64_t id() const override { return 1; }
  std::uint32_t uid() const override { return 1000; }
  bool digest_granted() const override { return false; }

  template <typename T>
  const T* last() const {
    return replies.empty() ? nullptr : std::get_if<T>(&replies.back());
  }

  uring::Ring& _ring;
  server::SendQueue queue;
  std::vector<proto::Message> replies;
  std::optional<std::pair<proto::Status, std::string>> refused;
  int over = 0;
  bool sent_away = false;
  bool receiving = false;
  bool gone = false;
};

// A drive whose every command succeeds; READ POSITION says: beginning of the tape.
class StreamJobTest : public ::testing::Test {
 protected:
  StreamJobTest() {
    auto transport = std::make_unique<FakeTransport>(ring);
    fake = transport.get();
    fake->respond = [](const scsi::Command& c) {
      return c.cdb[0] == 0x34 ? good(long_position({.bop = true})) : good();
    };
    auto drive = std::make_unique<drive::Drive>("fake0", std::move(transport), pool,
                                                std::vector<std::uint16_t>{0}, 1, timeouts);
    drive->set_identity(lto_identity());
    slot.emplace(std::move(drive));
  }
  ~StreamJobTest() override {
    EXPECT_TRUE(run_until(ring, [&] { return ring.in_flight() == 0; }));
  }

  WriteJob& job() {
    proto::WriteRequest request;
    request.flags = TS_WRITE_APPEND;
    request.block_size = 4096;
    request.drive = "fake0";
    write.emplace(host, *slot, request, nullptr);
    return *write;
  }

  uring::Ring ring = uring::Ring::create({});
  uring::BufferPool pool = uring::BufferPool::create(ring, 2, 64 * 1024);
  scsi::TimeoutTable timeouts = distinct_timeouts();
  FakeTransport* fake = nullptr;
  std::optional<DriveSlot> slot;
  FakeHost host{ring};
  std::optional<WriteJob> write;
};

TEST_F(StreamJobTest, AJobInLineAtTheStopDeadlineIsRefusedAndNeverTakesTheDrive) {
  auto holder = slot->join(DriveSlot::Owner::control);  // someone else holds the drive
  auto& w = job();
  w.begin();
  EXPECT_EQ(w.phase(), WriteJob::Phase::waiting);
  w.cut_for_stop();
  ASSERT_TRUE(host.refused);
  EXPECT_EQ(host.refused->first, proto::Status::shutting_down);
  EXPECT_NE(host.refused->second.find("before the drive was free"), std::string::npos);
  EXPECT_TRUE(w.done());
  EXPECT_EQ(host.over, 1);
  (void)holder.end();
  EXPECT_FALSE(slot->busy()) << "the drive went to a job that had left the line";
  EXPECT_TRUE(fake->log.empty());
}

TEST_F(StreamJobTest, AClientThatLeavesTheLineEndsTheRequestSilently) {
  auto holder = slot->join(DriveSlot::Owner::control);
  auto& w = job();
  w.begin();
  host.gone = true;
  w.client_gone();
  EXPECT_TRUE(w.done());
  EXPECT_EQ(host.over, 1);
  EXPECT_TRUE(host.replies.empty());
  (void)holder.end();
  EXPECT_FALSE(slot->busy());
}

// Regression: a write by the socket that failed before READY waited for an END that no client
// sends, so its connection never read another request.
TEST_F(StreamJobTest, AStreamThatFailsBeforeReadyEndsItsRequest) {
  fake->respond = [](const scsi::Command&) { return check({.key = 0x4, .asc = 0x44}); };
  auto& w = job();
  w.begin();
  ASSERT_TRUE(run_until(ring, [&] { return host.over > 0; }));
  ASSERT_NE(host.last<proto::StreamFailed>(), nullptr);
  for (const auto& r : host.replies) {
    EXPECT_FALSE(std::holds_alternative<proto::Ready>(r));
  }
  EXPECT_TRUE(w.done());
  EXPECT_FALSE(w.takes_data());
  EXPECT_EQ(host.over, 1);
  EXPECT_FALSE(slot->busy());
  EXPECT_EQ(slot->drive().state(), drive::DriveState::failed);
}

TEST_F(StreamJobTest, TheOutcomeWaitsWhileAReceiveIntoTheStreamsBuffersIsInFlight) {
  auto& w = job();
  w.begin();
  ASSERT_TRUE(run_until(ring, [&] { return host.last<proto::Ready>() != nullptr; }));
  EXPECT_TRUE(w.takes_data());
  host.receiving = true;  // the socket's bytes are on their way into a registered buffer
  ASSERT_TRUE(w.abort(proto::Abort{"the producer failed"}));
  ASSERT_TRUE(run_until(ring, [&] { return ring.in_flight() == 0; }));
  EXPECT_EQ(host.over, 0) << "the stream was reported while its buffers were still in use";
  EXPECT_TRUE(slot->busy()) << "the drive (and its buffers) went on while a receive was in flight";
  host.receiving = false;
  w.settle();
  ASSERT_NE(host.last<proto::StreamFailed>(), nullptr);
  EXPECT_EQ(host.last<proto::StreamFailed>()->status, proto::Status::incomplete);
  EXPECT_EQ(host.over, 1);
  EXPECT_FALSE(host.sent_away);
  EXPECT_TRUE(w.done());
  EXPECT_FALSE(slot->busy());
}

TEST_F(StreamJobTest, EndAndAbortOutOfSequenceAreRefused) {
  auto holder = slot->join(DriveSlot::Owner::control);
  auto& w = job();
  w.begin();  // in line: no READY yet
  EXPECT_FALSE(w.end_of_data(proto::End{0, 0, {}}));
  EXPECT_FALSE(w.abort(proto::Abort{"early"}));
  EXPECT_EQ(host.over, 0);
  w.client_gone();
  (void)holder.end();
}

}  // namespace
