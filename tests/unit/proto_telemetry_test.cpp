// PROGRESS with and without its telemetry, and WRITE with and without the stream's own marks:
// a client decodes both lengths (an old daemon's 24-byte PROGRESS and the 80-byte one), every
// other length is refused, and fields out of range are refused on both sides.
#include <gtest/gtest.h>

#include "codec.hpp"
#include "proto_test_support.hpp"

using namespace tapestream::proto;
using namespace tapestream::proto_test;

namespace {

Status decode_status(const Frame& frame, Receiver receiver) {
  const auto header = decode_header(frame, receiver, max_data);
  if (!header) {
    return static_cast<Status>(header.error().value());
  }
  const auto body = decode_body(header.value(), ByteView{frame}.subspan(TS_PROTO_HEADER_SIZE));
  return body ? Status::ok : static_cast<Status>(body.error().value());
}

Progress with_telemetry() {
  Progress p{1 << 30, 1 << 29, 12, 16, {}};
  p.telemetry = Progress::Telemetry{2'500'000'000, 3, 180'000'000, 150'000'000, 750, 125,
                                    TS_PROGRESS_STREAMING, 0, 0};
  return p;
}

// `frame` with its body cut to `length` bytes (the header's length field says so).
Frame cut_to(Frame frame, std::uint32_t length) {
  frame.resize(TS_PROTO_HEADER_SIZE + length);
  for (std::size_t i = 0; i < 4; ++i) {
    frame[12 + i] = static_cast<std::uint8_t>(length >> (8 * i));
  }
  return frame;
}

}  // namespace

TEST(ProtocolTelemetry, AnOldLengthProgressHasNoTelemetry) {
  const auto frame = encode(Progress{100, 50, 1, 16, {}}, 3).value();
  ASSERT_EQ(frame.size(), TS_PROTO_HEADER_SIZE + 24U);
  const auto back = std::get<Progress>(round_trip(Progress{100, 50, 1, 16, {}}, Receiver::client));
  EXPECT_EQ(back.bytes, 100U);
  EXPECT_EQ(back.buffers, 16U);
  EXPECT_FALSE(back.telemetry.has_value());
}

TEST(ProtocolTelemetry, ANewLengthProgressCarriesEveryField) {
  const auto frame = encode(with_telemetry(), 3).value();
  ASSERT_EQ(frame.size(), TS_PROTO_HEADER_SIZE + 24U + TS_PROGRESS_TELEMETRY_SIZE);
  const auto back = std::get<Progress>(round_trip(with_telemetry(), Receiver::client));
  EXPECT_EQ(back.bytes, 1U << 30);
  ASSERT_TRUE(back.telemetry.has_value());
  EXPECT_EQ(back.telemetry->drive_waited_ns, 2'500'000'000U);
  EXPECT_EQ(back.telemetry->backhitches, 3U);
  EXPECT_EQ(back.telemetry->rate_now, 180'000'000U);
  EXPECT_EQ(back.telemetry->rate_average, 150'000'000U);
  EXPECT_EQ(back.telemetry->fill_now, 750U);
  EXPECT_EQ(back.telemetry->fill_min, 125U);
  EXPECT_EQ(back.telemetry->state, TS_PROGRESS_STREAMING);

  auto waiting = with_telemetry();
  waiting.telemetry->state = TS_PROGRESS_WAITING;
  waiting.telemetry->owner_uid = 1000;
  waiting.telemetry->owner_since = 1'796'112'120;
  waiting.telemetry->backhitches = TS_TELEMETRY_UNKNOWN;
  const auto w = std::get<Progress>(round_trip(waiting, Receiver::client));
  EXPECT_EQ(w.telemetry->state, TS_PROGRESS_WAITING);
  EXPECT_EQ(w.telemetry->owner_uid, 1000U);
  EXPECT_EQ(w.telemetry->owner_since, 1'796'112'120U);
  EXPECT_EQ(w.telemetry->backhitches, TS_TELEMETRY_UNKNOWN);
}

TEST(ProtocolTelemetry, AProgressOfAnyOtherLengthIsBadLength) {
  const auto frame = encode(with_telemetry(), 3).value();
  for (std::uint32_t length : {23U, 25U, 32U, 79U}) {
    EXPECT_EQ(decode_status(cut_to(frame, length), Receiver::client), Status::bad_length)
        << length;
  }
  auto longer = frame;
  longer.push_back(0);
  longer[12] = static_cast<std::uint8_t>(longer.size() - TS_PROTO_HEADER_SIZE);
  EXPECT_EQ(decode_status(longer, Receiver::client), Status::bad_length);
}

TEST(ProtocolTelemetry, FieldsOutOfRangeAreRefused) {
  auto p = with_telemetry();
  p.telemetry->fill_now = TS_PROGRESS_MAX_FILL + 1;
  EXPECT_FALSE(encode(p, 1).has_value());
  auto frame = encode(with_telemetry(), 1).value();
  frame[TS_PROTO_HEADER_SIZE + 56] = 0xE9;  // fill now 1001 per mille
  frame[TS_PROTO_HEADER_SIZE + 57] = 0x03;
  EXPECT_EQ(decode_status(frame, Receiver::client), Status::bad_request);
  frame = encode(with_telemetry(), 1).value();
  frame[TS_PROTO_HEADER_SIZE + 60] = 2;  // no such state
  EXPECT_EQ(decode_status(frame, Receiver::client), Status::bad_request);
  frame = encode(with_telemetry(), 1).value();
  frame[TS_PROTO_HEADER_SIZE + 68] = 1;  // reserved
  EXPECT_EQ(decode_status(frame, Receiver::client), Status::bad_request);
}

TEST(ProtocolTelemetry, WriteCarriesItsMarksOnlyWhenSet) {
  WriteRequest plain{TS_WRITE_PROGRESS, 0, 0, "emu0", "x", 0, 0};
  const auto old_frame = encode(plain, 1).value();
  EXPECT_EQ(old_frame.size(), TS_PROTO_HEADER_SIZE + 20U + 6U + 3U);
  const auto back = std::get<WriteRequest>(round_trip(plain, Receiver::daemon));
  EXPECT_EQ(back.start_mark, 0U);
  EXPECT_EQ(back.restart_mark, 0U);

  WriteRequest marked{TS_WRITE_PROGRESS, 0, 0, "emu0", "x", 100, 5};
  EXPECT_EQ(encode(marked, 1).value().size(), old_frame.size() + 4U);
  const auto m = std::get<WriteRequest>(round_trip(marked, Receiver::daemon));
  EXPECT_EQ(m.start_mark, 100U);
  EXPECT_EQ(m.restart_mark, 5U);

  marked.start_mark = 101;
  EXPECT_FALSE(encode(marked, 1).has_value());
  auto frame = encode(WriteRequest{0, 0, 0, "emu0", "x", 100, 5}, 1).value();
  frame[frame.size() - 4] = 101;
  EXPECT_EQ(decode_status(frame, Receiver::daemon), Status::bad_request);
  EXPECT_EQ(decode_status(cut_to(frame, static_cast<std::uint32_t>(frame.size()) -
                                            TS_PROTO_HEADER_SIZE - 2),
                          Receiver::daemon),
            Status::bad_length);
}
