// The C API's changer calls: a library's elements and the moves of its cartridges (tapestream.h,
// TAPESTREAM_1.1).
#include <cstring>

#include "handle.hpp"

using namespace tapestream;
using lib::fail;
using lib::guarded;

namespace {

void fill_element(ts_element* out, std::size_t size, const proto::ChangerElement& e) {
  std::memset(out, 0, sizeof *out);
  out->struct_size = size;
  out->kind = e.kind;
  out->flags = e.flags;
  out->address = e.address;
  out->number = e.number;
  out->source = e.source;
  lib::copy_text(out->barcode, e.barcode);
  lib::copy_text(out->drive, e.drive);
}

// A library or drive name argument: NULL is "", anything else a name of at most 32 bytes.
std::optional<std::string> name_argument(const char* text) {
  auto name = lib::text_argument(text, TS_MAX_DRIVE_NAME);
  if (name && !name->empty() && !proto::valid_drive_name(*name)) {
    return std::nullopt;
  }
  return name;
}

}  // namespace

extern "C" {

int ts_changer_status(ts_client* client, const char* library, ts_element_fn each, void* context) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    const auto name = name_argument(library);
    if (!name) {
      return fail(client, proto::Status::bad_request, "ts_changer_status: not a library name");
    }
    if (auto sent = client->connection.send(proto::ChangerStatus{*name}); !sent) {
      return fail(client, sent.error());
    }
    int count = 0;
    int stopped = 0;
    for (;;) {
      auto reply = client->connection.receive();
      if (!reply) {
        return fail(client, reply.error());
      }
      const auto* frame = std::get_if<proto::ChangerElements>(&reply.value().message);
      if (frame == nullptr) {
        return fail(client, lib::unexpected(reply.value().message, "the changer's status"));
      }
      for (const auto& e : frame->elements) {
        ++count;
        if (each != nullptr && stopped == 0) {
          ts_element element;
          fill_element(&element, sizeof element, e);
          stopped = each(frame->library.c_str(), &element, context);
        }
      }
      if ((frame->flags & TS_ELEMENTS_MORE) == 0) {
        return stopped != 0 ? stopped : count;
      }
    }
  });
}

int ts_changer_move(ts_client* client, const char* library, unsigned operation, uint32_t slot,
                    uint32_t to_slot, const char* drive, struct ts_element* from,
                    struct ts_element* to) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    if ((from != nullptr && !lib::sized(from)) || (to != nullptr && !lib::sized(to))) {
      return fail(client, proto::Status::bad_request, "ts_changer_move: set struct_size with TS_INIT");
    }
    const auto library_name = name_argument(library);
    const auto drive_name = name_argument(drive);
    if (!library_name || !drive_name || operation < TS_CHANGER_LOAD ||
        operation > TS_CHANGER_TRANSFER) {
      return fail(client, proto::Status::bad_request,
                  "ts_changer_move: an operation TS_CHANGER_*, a library and a drive name");
    }
    const proto::ChangerMove move{static_cast<std::uint16_t>(operation), slot, to_slot,
                                  *library_name, *drive_name};
    // The codec refuses what the protocol does not allow (a load without a drive, slot 0).
    if (auto sent = client->connection.send(move); !sent) {
      return fail(client, sent.error());
    }
    auto reply = client->connection.receive();
    if (!reply) {
      return fail(client, reply.error());
    }
    const auto* moved = std::get_if<proto::ChangerMoved>(&reply.value().message);
    if (moved == nullptr) {
      return fail(client, lib::unexpected(reply.value().message, "the move"));
    }
    if (from != nullptr) {
      fill_element(from, from->struct_size, moved->from);
    }
    if (to != nullptr) {
      fill_element(to, to->struct_size, moved->to);
    }
    return 0;
  });
}

}  // extern "C"
