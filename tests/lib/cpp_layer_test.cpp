// The C++ layer (tapestream.hpp): failures become tapestream::error with the C code, and
// handles close on every path. What it does against a daemon the C tests show (lib_test.py).
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "tapestream/tapestream.hpp"

TEST(CppLayer, AMissingSocketThrowsWithTheErrnoAndTheMessage) {
  try {
    tapestream::client::connect("/nonexistent/tapestream-cpp.sock");
    FAIL() << "connect to a missing socket succeeded";
  } catch (const tapestream::error& e) {
    EXPECT_EQ(e.code(), -ENOENT);
    EXPECT_EQ(e.status(), -1);
    EXPECT_NE(std::string{e.what()}.find("/nonexistent/tapestream-cpp.sock"), std::string::npos)
        << e.what();
  }
}

TEST(CppLayer, AStatusCodeMapsBack) {
  const tapestream::error e{TS_ERROR(TS_VOLUME_FULL), ""};
  EXPECT_EQ(e.status(), TS_VOLUME_FULL);
  EXPECT_EQ(std::string{e.what()}.rfind("volume_full", 0), 0U) << e.what();
}

TEST(CppLayer, InitSetsTheSize) {
  const auto s = tapestream::init<ts_drive_status>();
  EXPECT_EQ(s.struct_size, sizeof(ts_drive_status));
  EXPECT_EQ(s.file_number, 0U);
}
