// The C++ layer (tapestream.hpp): failures become tapestream::error with the C code, and
// handles close on every path. What it does against a daemon the C tests show (lib_test.py).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <string>
#include <vector>

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

// Against a real daemon (lib_test.py cpp_layer sets TAPESTREAM_TEST_SOCKET; skipped without).
class CppLayerOnline : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* socket = std::getenv("TAPESTREAM_TEST_SOCKET");
    if (socket == nullptr) {
      GTEST_SKIP() << "TAPESTREAM_TEST_SOCKET not set (lib_test.py cpp_layer sets it)";
    }
    _socket = socket;
  }
  std::string _socket;
};

TEST_F(CppLayerOnline, WritesReadsBackAndAbortsAnUncommittedStream) {
  auto c = tapestream::client::connect(_socket, "cpp_layer_test");
  ASSERT_EQ(c.drives(), std::vector<std::string>{"emu0"});
  std::vector<unsigned char> data(1 << 20);
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<unsigned char>(i % 251);
  }
  auto options = tapestream::init<ts_write_options>();
  options.flags = TS_WRITE_APPEND;
  {
    auto abandoned = c.write(options);
    abandoned.write(data.data(), 4096);
  }  // destroyed without commit: aborted, and the handle serves the next stream
  auto w = c.write(options);
  w.write(data.data(), data.size());
  const auto committed = w.commit();
  EXPECT_EQ(committed.bytes, data.size());
  auto r = c.read(committed.file_number);
  std::vector<unsigned char> back;
  std::vector<unsigned char> piece(100000);
  while (const auto n = r.read(piece.data(), piece.size())) {
    back.insert(back.end(), piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(n));
  }
  const auto end = r.finish();
  EXPECT_EQ(back, data);
  EXPECT_EQ(0, std::memcmp(end.sha256, committed.sha256, sizeof end.sha256));
  EXPECT_GE(c.files().size(), 1U);
  try {
    c.status("nosuchdrive");
    FAIL() << "status of an unknown drive succeeded";
  } catch (const tapestream::error& e) {
    EXPECT_EQ(e.status(), TS_UNKNOWN_DRIVE) << e.what();
    // 1.1: the daemon's own words, which the error's message ends with.
    const auto said = c.daemon_message();
    EXPECT_FALSE(said.empty());
    EXPECT_NE(std::string{e.what()}.find(said), std::string::npos) << e.what();
  }
}

// 1.2: a write produced in shared slots, read back through the socket; 1.4: and through
// shared slots.
TEST_F(CppLayerOnline, ProducesInSharedSlotsAndReadsBack) {
  auto c = tapestream::client::connect(_socket, "cpp_layer_test");
  ASSERT_NE(c.features() & TS_FEATURE_SHARED_BUFFERS, 0U);
  auto options = tapestream::init<ts_write_options>();
  options.flags = TS_WRITE_APPEND | TS_WRITE_SHARED;
  options.block_size = 65536;
  std::vector<unsigned char> produced;
  auto w = c.write(options);
  EXPECT_NE(w.ready_flags() & TS_READY_SHARED, 0U);
  EXPECT_GT(w.slot_count(), 0U);
  for (int i = 0; i < 50; ++i) {
    const auto slot = w.acquire();
    ASSERT_TRUE(slot.has_value());
    ASSERT_EQ(slot->capacity, 65536U);
    const std::size_t n = i < 49 ? slot->capacity : 1000;  // the last one short
    auto* bytes = static_cast<unsigned char*>(slot->data);
    for (std::size_t k = 0; k < n; ++k) {
      bytes[k] = static_cast<unsigned char>((k * 7 + static_cast<std::size_t>(i)) % 253);
    }
    produced.insert(produced.end(), bytes, bytes + n);
    w.submit(*slot, n);
  }
  // A slot not acquired is refused by the library, and never reaches the daemon.
  EXPECT_THROW(w.submit(ts_slot{sizeof(ts_slot), 0, nullptr, 0}, 10), tapestream::error);
  const auto committed = w.commit();
  EXPECT_EQ(committed.bytes, produced.size());
  auto r = c.read(committed.file_number);
  std::vector<unsigned char> back(produced.size() + 1);
  std::size_t have = 0;
  while (const auto n = r.read(back.data() + have, back.size() - have)) {
    have += n;
  }
  r.finish();
  back.resize(have);
  EXPECT_EQ(back, produced);

  // And back through shared slots: each block where the drive read it, given back after use.
  auto shared = c.read_shared(committed.file_number);
  std::vector<unsigned char> in_place;
  while (const auto block = shared.next(30'000)) {
    const auto* bytes = static_cast<const unsigned char*>(block->data);
    in_place.insert(in_place.end(), bytes, bytes + block->length);
    shared.give_back(*block);
    EXPECT_THROW(shared.give_back(*block), tapestream::error) << "given back twice";
  }
  const auto end = shared.finish();
  EXPECT_EQ(end.bytes, produced.size());
  EXPECT_EQ(in_place, produced);
}

// 1.1: a socket write from a pipe: wait for the pipe, splice what it holds, commit.
TEST_F(CppLayerOnline, SplicesAPipeIntoAWrite) {
  auto c = tapestream::client::connect(_socket, "cpp_layer_test");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string data(50000, 'p');
  ASSERT_EQ(::write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fds[1]);
  auto options = tapestream::init<ts_write_options>();
  options.flags = TS_WRITE_APPEND;
  auto w = c.write(options);
  EXPECT_EQ(w.ready_flags(), 0U);
  std::size_t moved = 0;
  while (w.wait(fds[0], 5000) == TS_WAIT_FD) {
    const auto n = w.splice(fds[0], 1U << 20);
    if (n == 0) {
      break;  // nothing buffered and the write end closed: the pipe's end
    }
    moved += n;
  }
  ::close(fds[0]);
  EXPECT_EQ(moved, data.size());
  EXPECT_EQ(w.commit().bytes, data.size());
}
