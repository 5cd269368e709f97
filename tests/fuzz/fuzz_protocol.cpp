// The protocol decoder on arbitrary bytes from a client or a daemon: the first input byte picks
// the receiver and the DATA limit, the rest is a stream of frames. Whatever decodes must
// encode back to exactly the same bytes, so the encoder and decoder cannot drift apart.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "codec.hpp"

using namespace tapestream::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const auto receiver = (data[0] & 1) != 0 ? Receiver::client : Receiver::daemon;
  const std::uint32_t max_data = (data[0] & 2) != 0 ? 64 : TS_MAX_DATA;
  ByteView rest{data + 1, size - 1};
  while (rest.size() >= TS_PROTO_HEADER_SIZE) {
    auto header = decode_header(rest, receiver, max_data);
    if (!header || rest.size() - TS_PROTO_HEADER_SIZE < header.value().length) {
      return 0;
    }
    const auto frame_size = TS_PROTO_HEADER_SIZE + header.value().length;
    const auto body = rest.subspan(TS_PROTO_HEADER_SIZE, header.value().length);
    if (auto message = decode_body(header.value(), body)) {
      auto again = encode(message.value(), header.value().request_id);
      if (!again || again.value().size() != frame_size ||
          std::memcmp(again.value().data(), rest.data(), frame_size) != 0) {
        std::abort();  // decoded but does not re-encode to the same frame
      }
    }
    rest = rest.subspan(frame_size);
  }
  return 0;
}
