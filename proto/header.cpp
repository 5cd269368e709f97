// The fixed frame header: which types each side may receive, each type's body bounds (one table,
// PROTOCOL.md "Message types"), and the header of a DATA frame sent without a copy.
#include <algorithm>
#include <array>

#include "codec.hpp"
#include "fields.hpp"

namespace tapestream::proto {
namespace {

using detail::load_le;

// Bounds of each type's body and who may receive it (PROTOCOL.md, "Message types").
struct TypeRule {
  Type type;
  bool to_daemon;
  bool to_client;
  std::uint32_t min;
  std::uint32_t max;  // 0 for DATA: bounded by max_data instead
};
// A FILE_LIST entry: 100 bytes of numbers and digest, then its label and failure text, then
// (TS_FILE_LIST_SPAN) 24 bytes of span fields.
constexpr std::uint32_t file_entry_max = 100 + (2 + TS_MAX_LABEL) + (2 + TS_MAX_FILE_FAILURE) + 24;
// A CHANGER_ELEMENTS entry: 16 bytes of numbers, then its barcode and drive name.
constexpr std::uint32_t element_min = 16 + 2 + 2;
constexpr std::uint32_t element_max = 16 + (2 + TS_MAX_VOLUME_TEXT) + (2 + TS_MAX_DRIVE_NAME);
constexpr std::array<TypeRule, 36> type_rules{{
    {Type::hello, true, false, 14, 140},
    {Type::list_drives, true, false, 0, 0},
    {Type::status, true, false, 3, 34},
    {Type::write, true, false, 25, 311 + 4},
    {Type::read, true, false, 19, 50},
    {Type::control, true, false, 19, 50},
    {Type::list_files, true, false, 9, 4 + (2 + TS_MAX_DRIVE_NAME) + (2 + TS_MAX_VOLUME_TEXT)},
    {Type::verify, true, false, 19, 16 + 2 + TS_MAX_DRIVE_NAME},
    {Type::label, true, false, 13, 8 + (2 + TS_MAX_DRIVE_NAME) + (2 + TS_MAX_LABEL)},
    {Type::catalog_rebuild, true, false, 11, 8 + 2 + TS_MAX_DRIVE_NAME},
    {Type::changer_status, true, false, 6, 4 + 2 + TS_MAX_DRIVE_NAME},
    {Type::changer_move, true, false, 20, 16 + 2 * (2 + TS_MAX_DRIVE_NAME)},
    {Type::data, true, true, 1, 0},
    {Type::end, true, true, 16, 48},
    {Type::abort, true, false, 2, 2 + TS_MAX_MESSAGE},
    {Type::submit, true, false, 8, 8},
    {Type::slot_return, true, false, 8, 8},
    {Type::hello_ok, false, true, 14, 140},
    {Type::drive_list, false, true, 2, 2 + TS_MAX_DRIVES * (2 + TS_MAX_DRIVE_NAME)},
    {Type::drive_status, false, true, 87,
     72 + 7 * (2 + TS_MAX_STATUS_TEXT) + TS_HEALTH_FIXED_SIZE + 2 + TS_MAX_STATUS_TEXT},
    {Type::ready, false, true, 16, 24},
    {Type::slot_free, false, true, 8, 8},
    {Type::filled, false, true, 8, 8},
    {Type::control_done, false, true, 24, 24},
    {Type::file_list, false, true, 32,
     24 + 4 * (2 + TS_MAX_VOLUME_TEXT) + TS_MAX_FILES_PER_FRAME * file_entry_max},
    {Type::committed, false, true, 32, 64},
    {Type::stream_failed, false, true, 34, 34 + TS_MAX_MESSAGE},
    {Type::progress, false, true, 24, 24 + TS_PROGRESS_TELEMETRY_SIZE},
    {Type::labelled, false, true, 12, 8 + 2 * (2 + TS_MAX_VOLUME_TEXT)},
    {Type::verified, false, true, 114, 112 + 2 + TS_MAX_MESSAGE},
    {Type::verify_done, false, true, 40, 40},
    {Type::catalog_rebuilt, false, true, 38, 32 + 3 * (2 + TS_MAX_VOLUME_TEXT)},
    {Type::changer_elements, false, true, 10,
     8 + 2 + TS_MAX_DRIVE_NAME + TS_MAX_ELEMENTS_PER_FRAME * element_max},
    {Type::changer_moved, false, true, 2 * element_min, 2 * element_max},
    {Type::part, false, true, 40 + 2 * 2, 40 + 2 * (2 + TS_MAX_VOLUME_TEXT)},
    {Type::error, false, true, 6, 6 + TS_MAX_MESSAGE},
}};

const TypeRule* rule_for(std::uint16_t type) {
  for (const auto& r : type_rules) {
    if (static_cast<std::uint16_t>(r.type) == type) {
      return &r;
    }
  }
  return nullptr;
}

}  // namespace

Result<Header> decode_header(ByteView bytes, Receiver receiver, std::uint32_t max_data) {
  if (bytes.size() < TS_PROTO_HEADER_SIZE) {
    return Status::bad_length;
  }
  if (bytes[0] != TS_PROTO_MAGIC_0 || bytes[1] != TS_PROTO_MAGIC_1 ||
      bytes[2] != TS_PROTO_MAGIC_2 || bytes[3] != TS_PROTO_MAGIC_3) {
    return Status::bad_magic;
  }
  if (bytes[TS_HDR_VERSION] != TS_PROTO_VERSION || bytes[TS_HDR_FLAGS] != 0) {
    return Status::bad_version;
  }
  const auto type = static_cast<std::uint16_t>(load_le(bytes, TS_HDR_TYPE, 2));
  const auto* rule = rule_for(type);
  if (rule == nullptr || (receiver == Receiver::daemon ? !rule->to_daemon : !rule->to_client)) {
    return Status::bad_type;
  }
  Header h;
  h.type = rule->type;
  h.request_id = static_cast<std::uint32_t>(load_le(bytes, TS_HDR_REQUEST_ID, 4));
  h.length = static_cast<std::uint32_t>(load_le(bytes, TS_HDR_LENGTH, 4));
  const std::uint32_t max = rule->type == Type::data ? std::min(max_data, TS_MAX_DATA) : rule->max;
  if (h.length < rule->min || h.length > max) {
    return Status::bad_length;
  }
  return h;
}

std::array<std::uint8_t, TS_PROTO_HEADER_SIZE> data_header(std::uint32_t request_id,
                                                          std::uint32_t length) {
  std::array<std::uint8_t, TS_PROTO_HEADER_SIZE> h{TS_PROTO_MAGIC_0, TS_PROTO_MAGIC_1,
                                                   TS_PROTO_MAGIC_2, TS_PROTO_MAGIC_3,
                                                   TS_PROTO_VERSION, 0,
                                                   static_cast<std::uint8_t>(TS_MSG_DATA & 0xFF),
                                                   static_cast<std::uint8_t>(TS_MSG_DATA >> 8)};
  for (std::size_t i = 0; i < 4; ++i) {
    h[TS_HDR_REQUEST_ID + i] = static_cast<std::uint8_t>(request_id >> (8 * i));
    h[TS_HDR_LENGTH + i] = static_cast<std::uint8_t>(length >> (8 * i));
  }
  return h;
}

}  // namespace tapestream::proto
