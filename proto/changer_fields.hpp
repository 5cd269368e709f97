// The changer's messages (PROTOCOL.md, CHANGER_STATUS and CHANGER_MOVE), encoded and decoded in
// a file of their own so that encode.cpp and decode.cpp stay one concept each. Internal to the
// codec.
#pragma once

#include "codec.hpp"
#include "fields.hpp"

namespace tapestream::proto::detail {

void encode_changer(Writer& w, const ChangerStatus& m);
void encode_changer(Writer& w, const ChangerMove& m);
void encode_changer(Writer& w, const ChangerElements& m);
void encode_changer(Writer& w, const ChangerMoved& m);

// One of the four changer types; bad_type for any other.
Result<Message> decode_changer(Type type, ByteView body);

// PART (part_codec.cpp), a reply of a spanning WRITE.
void encode_part(Writer& w, const Part& m);
Result<Message> decode_part(ByteView body);

}  // namespace tapestream::proto::detail
