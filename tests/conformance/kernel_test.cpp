// What only a kernel transport does, checked where one is the target (the VM tests).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "fixture.hpp"
#include "scsi/status.hpp"
#include "transport/sg_transport.hpp"

namespace tapestream::test {
namespace {

// With the sg module's allow_dio=1 the driver maps the registered buffer instead of copying
// through its own; the completion's info field says which it did.
TEST_F(Conformance, SgMovesDataDirectlyWhenTheModuleAllowsIt) {
  auto* sg = dynamic_cast<transport::SgTransport*>(&h().transport());
  if (sg == nullptr) {
    GTEST_SKIP() << "the target is not the sg transport";
  }
  write_stream(1, 2, 65536);
  rewind();
  expect_data(read(65536).data, pattern_block(1, 0, 65536));
  if (transport::sg_allows_direct_io()) {
    EXPECT_TRUE(sg->direct_io());
    EXPECT_GE(sg->direct_transfers(), 3U) << "indirect: " << sg->indirect_transfers();
  } else {
    EXPECT_FALSE(sg->direct_io());
    EXPECT_EQ(sg->direct_transfers(), 0U);
    EXPECT_GE(sg->indirect_transfers(), 3U);
  }
}

// scsi_debug's response delay, in jiffies (/sys/bus/pseudo/drivers/scsi_debug/delay).
class ScsiDebugDelay {
 public:
  explicit ScsiDebugDelay(const std::string& jiffies) {
    std::ifstream{path} >> _saved;
    std::ofstream{path} << jiffies;
  }
  ~ScsiDebugDelay() { std::ofstream{path} << _saved; }
  ScsiDebugDelay(const ScsiDebugDelay&) = delete;
  ScsiDebugDelay& operator=(const ScsiDebugDelay&) = delete;

 private:
  static constexpr const char* path = "/sys/bus/pseudo/drivers/scsi_debug/delay";
  std::string _saved = "1";
};

// The kernel enforces the timeout the transport passes: a command that outlives it is aborted
// by the SCSI midlayer and completes with DID_TIME_OUT, and the drive serves the next one.
TEST_F(Conformance, ACommandThatOutlivesItsTimeoutEndsTimedOut) {
  if (!real_target() || !target_is_scsi_debug()) {
    GTEST_SKIP() << "needs scsi_debug, whose response delay can be set";
  }
  {
    const ScsiDebugDelay slow{"1000"};  // 4 s at HZ=250, 1 s at HZ=1000
    const auto e = h().run(scsi::cdb::test_unit_ready(), {}, 0, std::chrono::milliseconds{300});
    EXPECT_TRUE(e.result.timed_out);
    EXPECT_EQ(e.result.host_status, static_cast<std::uint8_t>(scsi::HostStatus::time_out));
    EXPECT_EQ(e.classification.condition, scsi::TapeCondition::transport_failure);
  }
  // After the abort: a unit attention may report the reset, then the drive answers.
  auto next = h().run(scsi::cdb::test_unit_ready());
  for (int i = 0; i < 3 && next.classification.condition != scsi::TapeCondition::good; ++i) {
    next = h().run(scsi::cdb::test_unit_ready());
  }
  EXPECT_EQ(next.classification.condition, scsi::TapeCondition::good);
}

}  // namespace
}  // namespace tapestream::test
