// The C API's streams that span volumes (tapestream.h, 1.3): each PART of a spanning write
// counted on its stream and handed to the caller's callback as it arrives.
#include <cstring>

#include "handle.hpp"

namespace tapestream::lib {

bool take_part(ts_client* client, const proto::Message& message) {
  const auto* part = std::get_if<proto::Part>(&message);
  // A PART out of turn (no spanning write, a gap in the indexes, a total that does not add up)
  // is not taken: the caller then sees it as the unexpected frame it is.
  ts_stream* stream = client->stream;
  if (part == nullptr || stream == nullptr || !stream->span || part->index != stream->parts + 1 ||
      part->stream_bytes != stream->parts_bytes + part->bytes) {
    return false;
  }
  stream->parts += 1;
  stream->parts_bytes = part->stream_bytes;
  if (client->part_callback != nullptr) {
    ts_part p;
    std::memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.index = part->index;
    p.file_number = part->file_number;
    p.bytes = part->bytes;
    p.blocks = part->blocks;
    p.stream_bytes = part->stream_bytes;
    copy_text(p.barcode, part->barcode);
    copy_text(p.medium_serial, part->medium_serial);
    client->part_callback(&p, client->part_context);
  }
  return true;
}

}  // namespace tapestream::lib

extern "C" {

int ts_set_part_callback(ts_client* client, ts_part_fn fn, void* context) {
  if (client == nullptr) {
    return -EINVAL;
  }
  client->part_callback = fn;
  client->part_context = fn != nullptr ? context : nullptr;
  return 0;
}

}  // extern "C"
