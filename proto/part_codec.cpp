// PART, the reply that says one part of a spanning stream is committed, field by field; what the
// encoder refuses to send the decoder refuses to accept.
#include <utility>

#include "changer_fields.hpp"

namespace tapestream::proto::detail {
namespace {

// A part holds at least one block (a part that wrote nothing is no part), and the stream's
// count so far includes it.
bool valid_part(const Part& m) {
  return m.index >= 1 && m.blocks >= 1 && m.stream_bytes >= m.bytes &&
         m.barcode.size() <= TS_MAX_VOLUME_TEXT && m.medium_serial.size() <= TS_MAX_VOLUME_TEXT;
}

}  // namespace

void encode_part(Writer& w, const Part& m) {
  if (!valid_part(m)) {
    w.fail();
  }
  w.number(m.index, 4);
  w.number(0, 4);
  w.number(m.file_number, 8);
  w.number(m.bytes, 8);
  w.number(m.blocks, 8);
  w.number(m.stream_bytes, 8);
  w.text(m.barcode, TS_MAX_VOLUME_TEXT);
  w.text(m.medium_serial, TS_MAX_VOLUME_TEXT);
}

Result<Message> decode_part(ByteView body) {
  Reader r{body};
  Part m;
  m.index = r.u32();
  r.reserved(4);
  m.file_number = r.u64();
  m.bytes = r.u64();
  m.blocks = r.u64();
  m.stream_bytes = r.u64();
  m.barcode = r.text(TS_MAX_VOLUME_TEXT);
  m.medium_serial = r.text(TS_MAX_VOLUME_TEXT);
  if (!valid_part(m)) {
    r.flag_bad_field();
  }
  BOOST_OUTCOME_TRY(r.verdict());
  return Message{std::move(m)};
}

}  // namespace tapestream::proto::detail
