// PART, the reply for each committed part of a spanning WRITE: it survives encoding and
// decoding at its bounds, only a daemon sends it, and fields out of range are refused on both
// sides.
#include <gtest/gtest.h>

#include "codec.hpp"
#include "proto_test_support.hpp"

using namespace tapestream::proto;
using namespace tapestream::proto_test;

namespace {

Part sample() { return Part{2, 1, 50'000'000, 763, 100'000'000, "VOL002", "EMU-MS-2"}; }

Status decode_status(Frame frame, Receiver receiver) {
  const auto header = decode_header(frame, receiver, max_data);
  if (!header) {
    return static_cast<Status>(header.error().value());
  }
  const auto body = decode_body(header.value(), ByteView{frame}.subspan(TS_PROTO_HEADER_SIZE));
  return body ? Status::ok : static_cast<Status>(body.error().value());
}

// The frame of `part` with the 4 bytes at `at` of its body set to `value` (little-endian).
Frame patched(const Part& part, std::size_t at, std::uint32_t value) {
  auto frame = encode(part, 1).value();
  for (std::size_t i = 0; i < 4; ++i) {
    frame[TS_PROTO_HEADER_SIZE + at + i] = static_cast<std::uint8_t>(value >> (8 * i));
  }
  return frame;
}

}  // namespace

TEST(ProtocolPart, RoundTrip) {
  const auto back = std::get<Part>(round_trip(sample(), Receiver::client));
  EXPECT_EQ(back.index, 2U);
  EXPECT_EQ(back.file_number, 1U);
  EXPECT_EQ(back.bytes, 50'000'000U);
  EXPECT_EQ(back.blocks, 763U);
  EXPECT_EQ(back.stream_bytes, 100'000'000U);
  EXPECT_EQ(back.barcode, "VOL002");
  EXPECT_EQ(back.medium_serial, "EMU-MS-2");
  EXPECT_EQ(encode(sample(), 1).value().size(), TS_PROTO_HEADER_SIZE + 40 + 2 + 6 + 2 + 8);
}

TEST(ProtocolPart, AtItsBounds) {
  auto part = sample();
  part.barcode.clear();
  part.medium_serial.clear();
  EXPECT_EQ(encode(part, 1).value().size(), TS_PROTO_HEADER_SIZE + 44U);
  EXPECT_TRUE(std::get<Part>(round_trip(part, Receiver::client)).barcode.empty());
  part.barcode = std::string(TS_MAX_VOLUME_TEXT, 'B');
  part.medium_serial = std::string(TS_MAX_VOLUME_TEXT, 'S');
  EXPECT_EQ(std::get<Part>(round_trip(part, Receiver::client)).medium_serial.size(),
            std::size_t{TS_MAX_VOLUME_TEXT});
  part.barcode += "B";
  EXPECT_FALSE(encode(part, 1));
}

TEST(ProtocolPart, OnlyADaemonSendsIt) {
  EXPECT_EQ(decode_status(encode(sample(), 1).value(), Receiver::daemon), Status::bad_type);
}

TEST(ProtocolPart, FieldsOutOfRangeAreRefusedOnBothSides) {
  auto part = sample();
  part.index = 0;
  EXPECT_FALSE(encode(part, 1));
  part = sample();
  part.blocks = 0;
  EXPECT_FALSE(encode(part, 1));
  part = sample();
  part.stream_bytes = part.bytes - 1;
  EXPECT_FALSE(encode(part, 1));
  // The same, sent anyway by a daemon that got it wrong.
  EXPECT_EQ(decode_status(patched(sample(), 0, 0), Receiver::client), Status::bad_request);
  EXPECT_EQ(decode_status(patched(sample(), 4, 1), Receiver::client), Status::bad_request)
      << "reserved bytes must be 0";
  EXPECT_EQ(decode_status(patched(sample(), 24, 0), Receiver::client), Status::bad_request);
}

TEST(ProtocolPart, WriteTakesTheSpanFlagAndNoUnknownOne) {
  WriteRequest w;
  w.flags = TS_WRITE_APPEND | TS_WRITE_SPAN;
  w.drive = "la";
  EXPECT_EQ(std::get<WriteRequest>(round_trip(w, Receiver::daemon)).flags,
            TS_WRITE_APPEND | TS_WRITE_SPAN);
  w.flags = 0x100;  // 0x80 is TS_WRITE_NO_DIGEST
  EXPECT_EQ(decode_status(encode(w, 1).value(), Receiver::daemon), Status::bad_request);
}
