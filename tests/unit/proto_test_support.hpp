// What the codec's unit tests share: a frame encoded and decoded back, and digests to carry.
#pragma once

#include <gtest/gtest.h>

#include "codec.hpp"

namespace tapestream::proto_test {

using namespace tapestream::proto;

inline constexpr std::uint32_t max_data = 1 << 20;

inline Message round_trip(const Message& m, Receiver receiver, std::uint32_t id = 7) {
  const auto frame = encode(m, id).value();
  const auto header = decode_header(frame, receiver, max_data).value();
  EXPECT_EQ(header.request_id, id);
  EXPECT_EQ(header.length, frame.size() - TS_PROTO_HEADER_SIZE);
  return decode_body(header, ByteView{frame}.subspan(TS_PROTO_HEADER_SIZE)).value();
}

inline Digest digest_of(std::uint8_t seed) {
  Digest d{};
  for (std::size_t i = 0; i < d.size(); ++i) {
    d[i] = static_cast<std::uint8_t>(seed + i);
  }
  return d;
}

}  // namespace tapestream::proto_test
