// The parts of the kernel transports that need no kernel SCSI: decoding what bsg and sg report
// (bounded by what was asked), the SQE a bsg command becomes, sysfs discovery on a tree made
// here, and the one-command-in-flight queue. The transports themselves run in tests/vm.
#include <gtest/gtest.h>

#include <fstream>

#include "transport/bsg_transport.hpp"
#include "transport/discovery.hpp"
#include "transport/serial_transport.hpp"
#include "transport/sg_transport.hpp"

namespace tapestream::transport {
namespace {

TEST(BsgCompletion, UnpacksTheStatusWordAsTheKernelPacksIt) {
  // CHECK CONDITION, DRIVER_SENSE, 18 sense bytes, 1 MiB residue (seen on scsi_debug).
  const std::array<std::uint8_t, 96> sense{0x70, 0, 0x08};
  const auto r = decode_bsg_completion(0x0010'0000'1200'0802ULL, 1 << 20, sense);
  EXPECT_EQ(r.scsi_status, 0x02);
  EXPECT_EQ(r.driver_status, 0x08);
  EXPECT_EQ(r.host_status, 0x00);
  EXPECT_EQ(r.sense_length, 18);
  EXPECT_EQ(r.residue, 1U << 20);
  EXPECT_EQ(r.sense[2], 0x08);
  EXPECT_FALSE(r.timed_out);
}

TEST(BsgCompletion, BoundsResidueAndSenseByWhatWasAsked) {
  const std::array<std::uint8_t, 96> sense{};
  // 255 sense bytes claimed into a 96-byte buffer, a residue larger than the transfer.
  const auto r = decode_bsg_completion(0xFFFF'FFFF'FF03'0000ULL, 4096, sense);
  EXPECT_EQ(r.sense_length, 96);
  EXPECT_EQ(r.residue, 4096U);
  EXPECT_EQ(r.host_status, 0x03);
  EXPECT_TRUE(r.timed_out);
}

TEST(SgCompletion, DecodesAndBoundsTheReplyHeader) {
  sg_io_hdr_t reply{};
  reply.status = 0x02;
  reply.host_status = 0;
  reply.driver_status = 0x08;
  reply.sb_len_wr = 200;
  reply.resid = -5;
  const std::array<std::uint8_t, SG_MAX_SENSE> sense{0x70};
  auto r = decode_sg_completion(reply, 512, sense);
  EXPECT_EQ(r.scsi_status, 0x02);
  EXPECT_EQ(r.sense_length, SG_MAX_SENSE);
  EXPECT_EQ(r.residue, 0U);  // a negative residue is none
  reply.resid = 100000;
  EXPECT_EQ(decode_sg_completion(reply, 512, sense).residue, 512U);
}

TEST(RefusedResult, IsAHostErrorWithTheErrno) {
  const auto r = refused_result(EFAULT);
  EXPECT_EQ(r.submission_errno, EFAULT);
  EXPECT_EQ(r.host_status, 0x07);
  EXPECT_EQ(r.scsi_status, 0);
}

// A transport whose "kernel" is the test: it records what was issued and completes on demand.
class ScriptedTransport final : public SerialTransport {
 public:
  explicit ScriptedTransport(uring::Ring& ring) : SerialTransport{ring} {}
  std::string_view kind() const override { return "scripted"; }
  std::vector<std::uint8_t> issued;  // first CDB byte of each command, in issue order
  int refuse_next = 0;
  void complete() { finished(ScsiResult{}); }

 private:
  Result<void> issue(const ScsiRequest& request) override {
    if (refuse_next > 0) {
      --refuse_next;
      return std::make_error_code(std::errc::bad_address);
    }
    issued.push_back(request.command.cdb[0]);
    return outcome::success();
  }
};

struct Recorder final : ScsiCallback {
  std::vector<int> errors;
  void on_scsi_complete(const ScsiResult& r) override { errors.push_back(r.submission_errno); }
};

ScsiRequest request_with_opcode(std::uint8_t opcode) {
  ScsiRequest r;
  r.command.cdb[0] = opcode;
  r.command.cdb_length = 6;
  return r;
}

TEST(SerialTransport, OneCommandInFlightAndTheRestInSubmissionOrder) {
  auto ring = uring::Ring::create({});
  ScriptedTransport t{ring};
  Recorder done;
  for (int op : {0x0A, 0x0A, 0x10}) {
    ASSERT_TRUE(t.submit(request_with_opcode(static_cast<std::uint8_t>(op)), done));
  }
  EXPECT_EQ(t.issued, (std::vector<std::uint8_t>{0x0A}));  // the others wait
  t.complete();
  EXPECT_EQ(t.issued, (std::vector<std::uint8_t>{0x0A, 0x0A}));
  t.complete();
  t.complete();
  EXPECT_EQ(t.issued, (std::vector<std::uint8_t>{0x0A, 0x0A, 0x10}));
  EXPECT_EQ(done.errors, (std::vector<int>{0, 0, 0}));
}

TEST(SerialTransport, ARefusedQueuedCommandCompletesWithItsErrorAndTheNextGoes) {
  auto ring = uring::Ring::create({});
  ScriptedTransport t{ring};
  Recorder done;
  ASSERT_TRUE(t.submit(request_with_opcode(0x0A), done));
  ASSERT_TRUE(t.submit(request_with_opcode(0x0A), done));
  ASSERT_TRUE(t.submit(request_with_opcode(0x10), done));
  t.refuse_next = 1;
  t.complete();  // the second is refused by the kernel, the third is issued
  EXPECT_EQ(done.errors, (std::vector<int>{0, EFAULT}));
  EXPECT_EQ(t.issued, (std::vector<std::uint8_t>{0x0A, 0x10}));
  // A refusal of the first command is the caller's to hear at once.
  ScriptedTransport idle{ring};
  idle.refuse_next = 1;
  EXPECT_FALSE(idle.submit(request_with_opcode(0x00), done));
}

class Sysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    root = std::filesystem::temp_directory_path() /
           ("tapestream-sysfs-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root);
  }
  void TearDown() override { std::filesystem::remove_all(root); }
  void file(const std::string& path, const std::string& text) {
    std::filesystem::create_directories((root / path).parent_path());
    std::ofstream{root / path, std::ios::binary} << text;
  }
  void dir(const std::string& path) { std::filesystem::create_directories(root / path); }
  std::filesystem::path root;
};

TEST_F(Sysfs, FindsTapesWithTheirNodesAndSerial) {
  const std::string tape = "bus/scsi/devices/2:0:1:0/";
  file(tape + "type", "1\n");
  file(tape + "vendor", "IBM     \n");
  file(tape + "model", "ULT3580-TD9     \n");
  file(tape + "vpd_pg80", std::string{"\x01\x80\x00\x0A", 4} + "1097000123");
  dir(tape + "scsi_tape/st0");
  dir(tape + "scsi_tape/st0a");
  dir(tape + "scsi_tape/nst0");
  dir(tape + "scsi_generic/sg3");
  dir("class/bsg/2:0:1:0");
  file("bus/scsi/devices/0:0:0:0/type", "0\n");  // a disk
  const auto tapes = discover_tapes(root);
  ASSERT_EQ(tapes.size(), 1U);
  const auto& t = tapes.front();
  EXPECT_EQ(t.address, "2:0:1:0");
  EXPECT_EQ(t.vendor, "IBM");
  EXPECT_EQ(t.model, "ULT3580-TD9");
  EXPECT_EQ(t.serial, "1097000123");
  EXPECT_EQ(t.st_node, "/dev/nst0");
  EXPECT_EQ(t.sg_node, "/dev/sg3");
  EXPECT_EQ(t.bsg_node, "/dev/bsg/2:0:1:0");
  for (const auto* name : {"2:0:1:0", "/dev/nst0", "/dev/st0", "/dev/sg3", "/dev/bsg/2:0:1:0",
                           "1097000123"}) {
    EXPECT_TRUE(find_tape(tapes, name).has_value()) << name;
  }
  EXPECT_FALSE(find_tape(tapes, "/dev/nst1").has_value());
  EXPECT_FALSE(find_tape(tapes, "").has_value());
}

TEST_F(Sysfs, ToleratesMissingAndHostileFiles) {
  file("bus/scsi/devices/1:0:0:0/type", "1");
  file("bus/scsi/devices/1:0:0:0/vpd_pg80", std::string{"\x00\x80\x00\xFF\x01", 5});
  const auto tapes = discover_tapes(root);
  ASSERT_EQ(tapes.size(), 1U);
  EXPECT_TRUE(tapes.front().serial.empty());  // a length beyond the page, unprintable bytes
  EXPECT_TRUE(tapes.front().sg_node.empty());
  EXPECT_TRUE(tapes.front().bsg_node.empty());
  EXPECT_FALSE(find_tape(tapes, "").has_value());  // an empty serial names nothing
  EXPECT_TRUE(discover_tapes(root / "nothing-here").empty());
}

}  // namespace
}  // namespace tapestream::transport
