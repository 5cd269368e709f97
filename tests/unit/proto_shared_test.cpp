// The codec's shared-buffer frames (PROTOCOL.md "Shared buffers"): SUBMIT, SLOT_FREE, FILLED and
// RETURN have exactly 8 bytes, READY grows to 24 only with TS_READY_SHARED, and neither a WRITE
// nor a READ may ask for shared buffers and fd passing at once.
#include <gtest/gtest.h>

#include "codec.hpp"
#include "proto_test_support.hpp"

using namespace tapestream::proto;
using namespace tapestream::proto_test;

namespace {

tapestream::Result<Message> decode_frame(const Frame& frame, Receiver receiver) {
  auto header = decode_header(frame, receiver, max_data);
  if (!header) {
    return header.error();
  }
  return decode_body(header.value(), ByteView{frame}.subspan(TS_PROTO_HEADER_SIZE));
}

TEST(SharedBuffers, FramesRoundTrip) {
  const auto submit = std::get<Submit>(round_trip(Submit{7, 65536}, Receiver::daemon));
  EXPECT_EQ(submit.slot, 7U);
  EXPECT_EQ(submit.length, 65536U);
  EXPECT_EQ(std::get<SlotFree>(round_trip(SlotFree{3}, Receiver::client)).slot, 3U);
  const auto filled = std::get<Filled>(round_trip(Filled{2, 1000}, Receiver::client));
  EXPECT_EQ(filled.slot, 2U);
  EXPECT_EQ(filled.length, 1000U);
  EXPECT_EQ(std::get<SlotReturn>(round_trip(SlotReturn{9}, Receiver::daemon)).slot, 9U);
  const auto ready = std::get<Ready>(
      round_trip(Ready{4, 65536, TS_READY_SHARED, 16, 69632}, Receiver::client));
  EXPECT_EQ(ready.slot_count, 16U);
  EXPECT_EQ(ready.slot_stride, 69632U);
  EXPECT_EQ(encode(Ready{4, 65536, 0, 16, 69632}, 1).value().size(), 16U + 16U)
      << "without TS_READY_SHARED, READY keeps its v1 16 bytes";
}

TEST(SharedBuffers, EachSideReceivesOnlyItsFrames) {
  EXPECT_EQ(decode_frame(encode(Submit{0, 1}, 1).value(), Receiver::client).error(),
            Status::bad_type);
  EXPECT_EQ(decode_frame(encode(SlotFree{0}, 1).value(), Receiver::daemon).error(),
            Status::bad_type);
  EXPECT_EQ(decode_frame(encode(Filled{0, 1}, 1).value(), Receiver::daemon).error(),
            Status::bad_type);
  EXPECT_EQ(decode_frame(encode(SlotReturn{0}, 1).value(), Receiver::client).error(),
            Status::bad_type);
}

TEST(SharedBuffers, BadBodiesAreRefused) {
  auto submit = encode(Submit{0, 1}, 1).value();
  submit.push_back(0);
  submit[TS_HDR_LENGTH] = 9;
  EXPECT_EQ(decode_frame(submit, Receiver::daemon).error(), Status::bad_length);
  // Slots with a READY that does not say so, or too many, or narrower than the block.
  auto ready = encode(Ready{0, 4096, TS_READY_SHARED, 1, 4096}, 1).value();
  ready[TS_PROTO_HEADER_SIZE + 12] = 0;  // flags without TS_READY_SHARED: 8 bytes too many
  EXPECT_EQ(decode_frame(ready, Receiver::client).error(), Status::bad_length);
  EXPECT_FALSE(decode_frame(encode(Ready{0, 4096, TS_READY_SHARED, TS_MAX_SHARED_SLOTS + 1, 4096}, 1)
                                .value(),
                            Receiver::client));
  EXPECT_FALSE(decode_frame(encode(Ready{0, 8192, TS_READY_SHARED, 4, 4096}, 1).value(),
                            Receiver::client));
  auto slot_free = encode(SlotFree{1}, 1).value();
  slot_free.back() = 1;  // the reserved word
  EXPECT_EQ(decode_frame(slot_free, Receiver::client).error(), Status::bad_request);
  const auto both = encode(WriteRequest{TS_WRITE_SHARED | TS_WRITE_FD, 0, 0, "emu0", ""}, 1).value();
  EXPECT_EQ(decode_frame(both, Receiver::daemon).error(), Status::bad_request);
  EXPECT_TRUE(decode_frame(encode(WriteRequest{TS_WRITE_SHARED, 0, 0, "emu0", ""}, 1).value(),
                           Receiver::daemon));
  const auto read_both = encode(ReadRequest{TS_READ_SHARED | TS_READ_FD, 0, "emu0"}, 1).value();
  EXPECT_EQ(decode_frame(read_both, Receiver::daemon).error(), Status::bad_request);
  auto returned = encode(SlotReturn{1}, 1).value();
  returned.back() = 1;  // the reserved word
  EXPECT_EQ(decode_frame(returned, Receiver::daemon).error(), Status::bad_request);
}

}  // namespace
