// The codec's changer messages: CHANGER_STATUS, CHANGER_MOVE, CHANGER_ELEMENTS and
// CHANGER_MOVED survive encoding and decoding at their bounds, and every field out of range is
// refused on both sides.
#include <gtest/gtest.h>

#include "codec.hpp"
#include "proto_test_support.hpp"

using namespace tapestream::proto;
using namespace tapestream::proto_test;

namespace {

ChangerElement full_slot(std::uint32_t number) {
  return {TS_ELEMENT_SLOT, TS_ELEMENT_FULL, number, static_cast<std::uint16_t>(0x1000 + number - 1), 0,
          "VOL00" + std::to_string(number), ""};
}

// A body whose header the codec accepts, decoded: the status a daemon or client would answer.
Status decode_status(Frame frame, Receiver receiver) {
  const auto header = decode_header(frame, receiver, max_data);
  if (!header) {
    return static_cast<Status>(header.error().value());
  }
  const auto body = decode_body(header.value(), ByteView{frame}.subspan(TS_PROTO_HEADER_SIZE));
  return body ? Status::ok : static_cast<Status>(body.error().value());
}

}  // namespace

TEST(ProtocolChanger, StatusRequestRoundTrip) {
  EXPECT_EQ(std::get<ChangerStatus>(round_trip(ChangerStatus{"lib0"}, Receiver::daemon)).library, "lib0");
  EXPECT_EQ(std::get<ChangerStatus>(round_trip(ChangerStatus{""}, Receiver::daemon)).library, "");
  EXPECT_FALSE(encode(ChangerStatus{"no/slash"}, 1));
  EXPECT_FALSE(encode(ChangerStatus{std::string(33, 'a')}, 1));
}

TEST(ProtocolChanger, MoveRoundTripForEachOperation) {
  const auto load = std::get<ChangerMove>(
      round_trip(ChangerMove{TS_CHANGER_LOAD, 3, 0, "lib0", "la"}, Receiver::daemon));
  EXPECT_EQ(load.op, TS_CHANGER_LOAD);
  EXPECT_EQ(load.slot, 3U);
  EXPECT_EQ(load.drive, "la");
  EXPECT_EQ(load.library, "lib0");
  const auto unload = std::get<ChangerMove>(
      round_trip(ChangerMove{TS_CHANGER_UNLOAD, 0, 0, "", "lb"}, Receiver::daemon));
  EXPECT_EQ(unload.slot, 0U);  // its source
  const auto transfer = std::get<ChangerMove>(
      round_trip(ChangerMove{TS_CHANGER_TRANSFER, 1, 25, "", ""}, Receiver::daemon));
  EXPECT_EQ(transfer.to_slot, 25U);
}

TEST(ProtocolChanger, MoveOutOfRangeRefused) {
  EXPECT_FALSE(encode(ChangerMove{0, 1, 0, "", "la"}, 1));                    // no such operation
  EXPECT_FALSE(encode(ChangerMove{TS_CHANGER_LOAD, 0, 0, "", "la"}, 1));     // slot 0
  EXPECT_FALSE(encode(ChangerMove{TS_CHANGER_LOAD, 1, 0, "", ""}, 1));       // no drive
  EXPECT_FALSE(encode(ChangerMove{TS_CHANGER_LOAD, 1, 2, "", "la"}, 1));     // a second slot
  EXPECT_FALSE(encode(ChangerMove{TS_CHANGER_TRANSFER, 1, 0, "", ""}, 1));   // nowhere to go
  EXPECT_FALSE(encode(ChangerMove{TS_CHANGER_TRANSFER, 1, 2, "", "la"}, 1)); // a drive too
  // The decoder refuses what the encoder would not send: operation 4, patched into a frame.
  auto frame = encode(ChangerMove{TS_CHANGER_TRANSFER, 1, 2, "", ""}, 1).value();
  frame[TS_PROTO_HEADER_SIZE] = 4;
  EXPECT_EQ(decode_status(frame, Receiver::daemon), Status::bad_request);
  // A reserved byte set.
  frame[TS_PROTO_HEADER_SIZE] = TS_CHANGER_TRANSFER;
  frame[TS_PROTO_HEADER_SIZE + 13] = 1;
  EXPECT_EQ(decode_status(frame, Receiver::daemon), Status::bad_request);
  // A request is not a reply: the client does not accept one.
  EXPECT_EQ(decode_status(encode(ChangerStatus{""}, 1).value(), Receiver::client), Status::bad_type);
}

TEST(ProtocolChanger, ElementsRoundTripAtTheFrameLimit) {
  ChangerElements frame{TS_ELEMENTS_MORE, std::string(TS_MAX_DRIVE_NAME, 'L'), {}};
  for (std::uint32_t i = 1; i <= TS_MAX_ELEMENTS_PER_FRAME; ++i) {
    auto e = full_slot(i);
    e.barcode = std::string(TS_MAX_VOLUME_TEXT, 'B');
    e.source = i;
    frame.elements.push_back(e);
  }
  frame.elements.back() = {TS_ELEMENT_DRIVE, TS_ELEMENT_FULL | TS_ELEMENT_EXCEPTION, 0, 0x100, 7,
                           "VOL007", std::string(TS_MAX_DRIVE_NAME, 'd')};
  const auto back = std::get<ChangerElements>(round_trip(frame, Receiver::client));
  EXPECT_EQ(back.flags, TS_ELEMENTS_MORE);
  ASSERT_EQ(back.elements.size(), TS_MAX_ELEMENTS_PER_FRAME);
  EXPECT_EQ(back.elements[4].number, 5U);
  EXPECT_EQ(back.elements[4].address, 0x1004);
  EXPECT_EQ(back.elements[4].source, 5U);
  EXPECT_EQ(back.elements.back().kind, TS_ELEMENT_DRIVE);
  EXPECT_EQ(back.elements.back().drive, std::string(TS_MAX_DRIVE_NAME, 'd'));
  EXPECT_EQ(back.elements.back().flags, TS_ELEMENT_FULL | TS_ELEMENT_EXCEPTION);

  frame.elements.push_back(full_slot(1));
  EXPECT_FALSE(encode(frame, 1));  // one entry more than a frame holds
}

TEST(ProtocolChanger, ElementsOutOfRangeRefused) {
  auto encodes = [](ChangerElement e) { return encode(ChangerElements{0, "", {e}}, 1).has_value(); };
  EXPECT_TRUE(encodes(full_slot(1)));
  auto e = full_slot(1);
  e.kind = 4;
  EXPECT_FALSE(encodes(e));
  e = full_slot(1);
  e.number = 0;  // slots count from 1
  EXPECT_FALSE(encodes(e));
  e = full_slot(1);
  e.drive = "la";  // only a drive has a drive name
  EXPECT_FALSE(encodes(e));
  e = full_slot(1);
  e.flags = 0;  // empty, yet with a barcode
  EXPECT_FALSE(encodes(e));
  e.flags = 0x4;
  EXPECT_FALSE(encodes(e));
  EXPECT_FALSE(encode(ChangerElements{0x2, "", {}}, 1));
  // A count that promises more entries than the body holds.
  auto frame = encode(ChangerElements{0, "", {full_slot(1)}}, 1).value();
  frame[TS_PROTO_HEADER_SIZE + 4] = 2;
  EXPECT_EQ(decode_status(frame, Receiver::client), Status::bad_length);
}

TEST(ProtocolChanger, MovedRoundTrip) {
  ChangerElement from{TS_ELEMENT_SLOT, 0, 2, 0x1001, 0, "", ""};
  ChangerElement to{TS_ELEMENT_DRIVE, TS_ELEMENT_FULL, 0, 0x100, 2, "VOL002", "la"};
  const auto back = std::get<ChangerMoved>(round_trip(ChangerMoved{from, to}, Receiver::client));
  EXPECT_EQ(back.from.number, 2U);
  EXPECT_EQ(back.from.flags, 0);
  EXPECT_EQ(back.to.drive, "la");
  EXPECT_EQ(back.to.barcode, "VOL002");
  EXPECT_EQ(back.to.source, 2U);
  EXPECT_EQ(decode_status(encode(ChangerMoved{from, to}, 1).value(), Receiver::daemon), Status::bad_type);
}
