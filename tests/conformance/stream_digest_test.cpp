// Issue 12, item 2: the SHA-256 a stream's outcome carries, on the emulated drive through
// daemon/drive. The rig commits in odd, growing pieces, so a digest that skipped, repeated or
// reordered a commit would differ from the one of the data taken whole. A write's digest is of
// the client's bytes (never the padding of a fixed last block); a read's is of what was given
// (the padding included); a stream that did not end complete carries none, since nobody may
// take a digest of part of a stream for the whole.
#include "base/sha256.hpp"
#include "stream_rig.hpp"

using namespace tapestream;
using test::block;
using test::Rig;
using test::stream_data;

namespace {

base::Sha256Digest sha256_of(const std::vector<std::uint8_t>& data) {
  base::Sha256 hash;
  hash.update(data);
  return hash.finish();
}

TEST(StreamDigest, AWriteAndItsReadCarryTheDigestOfTheData) {
  Rig rig{""};
  const auto data = stream_data(5 * block + 12345, 41);
  const auto o = rig.write(data);
  ASSERT_EQ(o.ending, drive::Ending::complete) << o.message;
  ASSERT_TRUE(o.sha256.has_value());
  EXPECT_EQ(*o.sha256, sha256_of(data));
  const auto [r, back] = rig.read_stream(o.file_number);
  ASSERT_EQ(r.ending, drive::Ending::complete) << r.message;
  ASSERT_EQ(back, data);
  ASSERT_TRUE(r.sha256.has_value());
  EXPECT_EQ(*r.sha256, sha256_of(data));
}

TEST(StreamDigest, AFixedWriteLeavesThePaddingOutAndItsReadTakesItIn) {
  Rig rig{""};
  auto fixed = rig.options();
  fixed.fixed = true;
  fixed.block_size = 512;
  const auto data = stream_data(1000, 42);
  const auto o = rig.write_with(fixed, data);
  ASSERT_EQ(o.ending, drive::Ending::complete) << o.message;
  ASSERT_TRUE(o.sha256.has_value());
  EXPECT_EQ(*o.sha256, sha256_of(data));
  const auto [r, back] = rig.read_stream(o.file_number);
  ASSERT_EQ(r.ending, drive::Ending::complete) << r.message;
  auto padded = data;
  padded.resize(1024, 0);
  ASSERT_EQ(back, padded);
  ASSERT_TRUE(r.sha256.has_value());
  EXPECT_EQ(*r.sha256, sha256_of(padded));
}

TEST(StreamDigest, AnEmptyWriteCarriesTheDigestOfNothing) {
  Rig rig{""};
  const auto o = rig.write({});
  ASSERT_EQ(o.ending, drive::Ending::complete) << o.message;
  ASSERT_TRUE(o.sha256.has_value());
  EXPECT_EQ(base::to_hex(*o.sha256),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(StreamDigest, StreamsThatDidNotEndCompleteCarryNone) {
  Rig rig{""};
  auto options = rig.options();
  options.expected_length = 3 * block;
  const auto shorter = rig.write_with(options, stream_data(2 * block + 1, 43));
  EXPECT_EQ(shorter.ending, drive::Ending::incomplete) << shorter.message;
  EXPECT_FALSE(shorter.sha256.has_value());
  const auto abandoned = rig.write(stream_data(4 * block, 44), 2 * block);
  EXPECT_EQ(abandoned.ending, drive::Ending::client_gone) << abandoned.message;
  EXPECT_FALSE(abandoned.sha256.has_value());
  const auto data = stream_data(6 * block, 45);
  const auto whole = rig.write(data);
  ASSERT_EQ(whole.ending, drive::Ending::complete) << whole.message;
  const auto [cut, part] = rig.read_stream(whole.file_number, 2);
  EXPECT_EQ(cut.ending, drive::Ending::client_gone) << cut.message;
  EXPECT_FALSE(cut.sha256.has_value());
}

}  // namespace
