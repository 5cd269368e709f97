// What only a kernel transport does, checked where one is the target (the VM tests).
#include <gtest/gtest.h>

#include "fixture.hpp"
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

}  // namespace
}  // namespace tapestream::test
