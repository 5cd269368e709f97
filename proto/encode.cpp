// Encoding a whole frame: the header, then each type's body field by field; a field that cannot
// be sent makes the frame bad_request instead of a malformed frame on the wire.
#include <type_traits>
#include <utility>

#include "codec.hpp"
#include "changer_fields.hpp"
#include "fields.hpp"

namespace tapestream::proto {
namespace {

using detail::Writer;

Type type_of(const Message& m) {
  return std::visit(
      [](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Hello>) return Type::hello;
        else if constexpr (std::is_same_v<T, HelloOk>) return Type::hello_ok;
        else if constexpr (std::is_same_v<T, ListDrives>) return Type::list_drives;
        else if constexpr (std::is_same_v<T, StatusRequest>) return Type::status;
        else if constexpr (std::is_same_v<T, WriteRequest>) return Type::write;
        else if constexpr (std::is_same_v<T, ReadRequest>) return Type::read;
        else if constexpr (std::is_same_v<T, ControlRequest>) return Type::control;
        else if constexpr (std::is_same_v<T, Data>) return Type::data;
        else if constexpr (std::is_same_v<T, End>) return Type::end;
        else if constexpr (std::is_same_v<T, Abort>) return Type::abort;
        else if constexpr (std::is_same_v<T, DriveList>) return Type::drive_list;
        else if constexpr (std::is_same_v<T, DriveStatus>) return Type::drive_status;
        else if constexpr (std::is_same_v<T, Ready>) return Type::ready;
        else if constexpr (std::is_same_v<T, ControlDone>) return Type::control_done;
        else if constexpr (std::is_same_v<T, Committed>) return Type::committed;
        else if constexpr (std::is_same_v<T, StreamFailed>) return Type::stream_failed;
        else if constexpr (std::is_same_v<T, Progress>) return Type::progress;
        else if constexpr (std::is_same_v<T, ListFiles>) return Type::list_files;
        else if constexpr (std::is_same_v<T, FileList>) return Type::file_list;
        else if constexpr (std::is_same_v<T, LabelRequest>) return Type::label;
        else if constexpr (std::is_same_v<T, Labelled>) return Type::labelled;
        else if constexpr (std::is_same_v<T, VerifyRequest>) return Type::verify;
        else if constexpr (std::is_same_v<T, Verified>) return Type::verified;
        else if constexpr (std::is_same_v<T, VerifyDone>) return Type::verify_done;
        else if constexpr (std::is_same_v<T, CatalogRebuild>) return Type::catalog_rebuild;
        else if constexpr (std::is_same_v<T, CatalogRebuilt>) return Type::catalog_rebuilt;
        else if constexpr (std::is_same_v<T, ChangerStatus>) return Type::changer_status;
        else if constexpr (std::is_same_v<T, ChangerMove>) return Type::changer_move;
        else if constexpr (std::is_same_v<T, ChangerElements>) return Type::changer_elements;
        else if constexpr (std::is_same_v<T, ChangerMoved>) return Type::changer_moved;
        else if constexpr (std::is_same_v<T, Submit>) return Type::submit;
        else if constexpr (std::is_same_v<T, SlotFree>) return Type::slot_free;
        else if constexpr (std::is_same_v<T, Filled>) return Type::filled;
        else if constexpr (std::is_same_v<T, SlotReturn>) return Type::slot_return;
        else if constexpr (std::is_same_v<T, Part>) return Type::part;
        else return Type::error;
      },
      m);
}

void encode_health(Writer& w, const DriveHealth& h) {
  if ((h.known & ~TS_HEALTH_ALL) != 0 || h.cleaning > 1) {
    w.fail();
  }
  w.number(h.known, 4);
  w.number(0, 4);
  for (auto v : {h.loads, h.mb_written_load, h.mb_read_load, h.mb_written_life, h.mb_read_life,
                 h.write_retries, h.read_retries, h.write_errors, h.read_errors, h.block_in_file,
                 h.cleaning}) {
    w.number(v, 8);
  }
  w.text(h.density_name, TS_MAX_STATUS_TEXT);
}

void encode_body(Writer& w, const Message& message) {
  std::visit(
      [&w](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Hello>) {
          w.number(m.min_version, 2);
          w.number(m.max_version, 2);
          w.number(m.features, 4);
          w.number(0, 4);
          w.text(m.client, TS_MAX_PEER_NAME);
        } else if constexpr (std::is_same_v<T, HelloOk>) {
          w.number(m.version, 2);
          w.number(0, 2);
          w.number(m.features, 4);
          w.number(m.max_data, 4);
          w.text(m.server, TS_MAX_PEER_NAME);
        } else if constexpr (std::is_same_v<T, ListDrives>) {
        } else if constexpr (std::is_same_v<T, StatusRequest>) {
          w.drive(m.drive);
        } else if constexpr (std::is_same_v<T, WriteRequest>) {
          w.number(m.flags, 4);
          w.number(m.block_size, 4);
          w.number(m.expected_length, 8);
          w.number(0, 4);
          w.drive(m.drive);
          w.text(m.label, TS_MAX_LABEL);
          // Only when asked for: a daemon before `telemetry` refuses the longer WRITE.
          if (m.start_mark != 0 || m.restart_mark != 0) {
            if (m.start_mark > TS_MAX_MARK_PERCENT || m.restart_mark > TS_MAX_MARK_PERCENT) {
              w.fail();
            }
            w.number(m.start_mark, 2);
            w.number(m.restart_mark, 2);
          }
        } else if constexpr (std::is_same_v<T, ReadRequest>) {
          w.number(m.flags, 4);
          w.number(0, 4);
          w.number(m.file_number, 8);
          w.drive(m.drive);
        } else if constexpr (std::is_same_v<T, ControlRequest>) {
          w.number(static_cast<std::uint16_t>(m.op), 2);
          w.number(m.flags, 2);
          w.number(0, 4);
          w.number(static_cast<std::uint64_t>(m.argument), 8);
          w.drive(m.drive);
        } else if constexpr (std::is_same_v<T, Data>) {
          if (m.bytes.empty() || m.bytes.size() > TS_MAX_DATA) {
            w.fail();
          }
          w.bytes(m.bytes);
        } else if constexpr (std::is_same_v<T, End>) {
          w.number(m.bytes, 8);
          w.number(m.blocks, 8);
          if (m.digest) {
            w.bytes(*m.digest);
          }
        } else if constexpr (std::is_same_v<T, Abort>) {
          w.text(m.reason, TS_MAX_MESSAGE);
        } else if constexpr (std::is_same_v<T, DriveList>) {
          if (m.drives.size() > TS_MAX_DRIVES) {
            w.fail();
          }
          w.number(m.drives.size(), 2);
          for (const auto& d : m.drives) {
            w.drive(d);
          }
        } else if constexpr (std::is_same_v<T, DriveStatus>) {
          for (auto v : {m.state, m.block_size, m.max_block_length, m.density_code}) {
            w.number(v, 4);
          }
          for (auto v : {m.block_number, m.file_number, m.tape_alerts, m.capacity_mib,
                         m.remaining_mib, m.state_age_ms}) {
            w.number(v, 8);
          }
          if (m.drive_state > TS_DRIVE_STATE_MAX) {
            w.fail();
          }
          w.number(m.drive_state, 1);
          if ((m.known & ~TS_KNOWN_ALL) != 0) {
            w.fail();
          }
          w.number(m.known, 1);
          w.number(0, 6);
          w.drive(m.drive);
          for (const auto* s : {&m.transport, &m.vendor, &m.product, &m.revision, &m.serial,
                                &m.medium_serial}) {
            w.text(*s, TS_MAX_STATUS_TEXT);
          }
          if (m.health) {
            encode_health(w, *m.health);
          }
        } else if constexpr (std::is_same_v<T, ListFiles>) {
          w.number(0, 4);
          w.drive(m.drive);
          w.text(m.volume, TS_MAX_VOLUME_TEXT);
        } else if constexpr (std::is_same_v<T, FileList>) {
          if (m.files.size() > TS_MAX_FILES_PER_FRAME ||
              (m.flags & ~(TS_FILE_LIST_MORE | TS_FILE_LIST_SPAN)) != 0) {
            w.fail();
          }
          w.number(m.flags, 4);
          w.number(m.files.size(), 2);
          w.number(0, 2);
          w.number(m.first_seen_ms, 8);
          w.number(m.last_seen_ms, 8);
          for (const auto* s : {&m.medium_serial, &m.label, &m.uuid, &m.barcode}) {
            w.text(*s, TS_MAX_VOLUME_TEXT);
          }
          for (const auto& f : m.files) {
            for (auto v : {f.file_number, f.bytes, f.blocks, f.padding, f.start_ms, f.end_ms, f.rate}) {
              w.number(v, 8);
            }
            w.number(f.block_size, 4);
            w.number(f.client_uid, 4);
            if (f.status == 0 || f.status > TS_FILE_STATUS_MAX || (f.flags & ~TS_FILE_FIXED) != 0) {
              w.fail();
            }
            w.number(f.status, 1);
            w.number(f.flags | (f.digest ? TS_FILE_HAS_DIGEST : 0U), 1);
            w.number(0, 2);
            w.bytes(f.digest ? *f.digest : Digest{});
            w.text(f.label, TS_MAX_LABEL);
            w.text(f.failure, TS_MAX_FILE_FAILURE);
            if ((m.flags & TS_FILE_LIST_SPAN) != 0) {
              if (!detail::valid_span_fields(f)) {
                w.fail();
              }
              w.number(f.span_stream, 8);
              w.number(f.span_part, 4);
              w.number(f.span_flags, 4);
              w.number(f.span_offset, 8);
            } else if (f.span_part != 0 || f.span_stream != 0 || f.span_offset != 0 ||
                       f.span_flags != 0) {
              w.fail();  // fields a client without `span_list` could not be sent
            }
          }
        } else if constexpr (std::is_same_v<T, LabelRequest>) {
          if ((m.flags & ~TS_LABEL_FORCE) != 0) {
            w.fail();
          }
          w.number(m.flags, 4);
          w.number(0, 4);
          w.drive(m.drive);
          w.text(m.name, TS_MAX_LABEL);
        } else if constexpr (std::is_same_v<T, Labelled>) {
          if ((m.flags & ~TS_LABELLED_VOIDED) != 0) {
            w.fail();
          }
          w.number(m.flags, 4);
          w.number(0, 4);
          w.text(m.uuid, TS_MAX_VOLUME_TEXT);
          w.text(m.name, TS_MAX_VOLUME_NAME);
        } else if constexpr (std::is_same_v<T, VerifyRequest>) {
          if ((m.flags & ~std::uint32_t{TS_VERIFY_ALL | TS_VERIFY_PROGRESS}) != 0 ||
              ((m.flags & TS_VERIFY_ALL) != 0 && m.file_number != 0) ||
              m.file_number == TS_READ_CURRENT_FILE) {
            w.fail();
          }
          w.number(m.flags, 4);
          w.number(0, 4);
          w.number(m.file_number, 8);
          w.drive(m.drive);
        } else if constexpr (std::is_same_v<T, Verified>) {
          const auto condition = static_cast<std::uint16_t>(m.condition);
          if (m.verdict == 0 || m.verdict > TS_VERDICT_MAX || m.catalog_status > TS_FILE_STATUS_MAX ||
              condition > TS_STALLED || (condition != TS_OK) != (m.verdict == TS_VERDICT_UNREADABLE)) {
            w.fail();
          }
          for (auto v : {m.file_number, m.bytes, m.blocks, m.catalog_bytes, m.catalog_blocks}) {
            w.number(v, 8);
          }
          w.number(m.verdict, 1);
          w.number(m.catalog_status, 1);
          w.number((m.digest ? TS_VERIFIED_READ_DIGEST : 0U) |
                       (m.catalog_digest ? TS_VERIFIED_CATALOG_DIGEST : 0U),
                   2);
          w.number(condition, 2);
          w.number(0, 2);
          w.bytes(m.digest ? *m.digest : Digest{});
          w.bytes(m.catalog_digest ? *m.catalog_digest : Digest{});
          w.text(m.message, TS_MAX_MESSAGE);
        } else if constexpr (std::is_same_v<T, VerifyDone>) {
          if ((m.flags & ~std::uint32_t{TS_VERIFY_DONE_END_OF_DATA | TS_VERIFY_DONE_CUT}) != 0 ||
              m.ok > m.checked || m.unrecorded > m.checked - m.ok ||
              m.bad != m.checked - m.ok - m.unrecorded) {
            w.fail();
          }
          for (auto v : {m.checked, m.ok, m.unrecorded, m.bad}) {
            w.number(v, 8);
          }
          w.number(m.flags, 4);
          w.number(0, 4);
        } else if constexpr (std::is_same_v<T, CatalogRebuild>) {
          if ((m.flags & ~std::uint32_t{TS_REBUILD_PROGRESS}) != 0) {
            w.fail();
          }
          w.number(m.flags, 4);
          w.number(0, 4);
          w.drive(m.drive);
        } else if constexpr (std::is_same_v<T, CatalogRebuilt>) {
          if ((m.flags & ~std::uint32_t{TS_REBUILT_LABELLED | TS_REBUILT_CUT}) != 0 ||
              m.data_files > m.files || m.confirmed > m.data_files) {
            w.fail();
          }
          w.number(m.files, 8);
          w.number(m.data_files, 8);
          w.number(m.confirmed, 8);
          w.number(m.flags, 4);
          w.number(0, 4);
          for (const auto* s : {&m.medium_serial, &m.label, &m.uuid}) {
            w.text(*s, TS_MAX_VOLUME_TEXT);
          }
        } else if constexpr (std::is_same_v<T, ChangerStatus> || std::is_same_v<T, ChangerMove> ||
                             std::is_same_v<T, ChangerElements> ||
                             std::is_same_v<T, ChangerMoved>) {
          detail::encode_changer(w, m);
        } else if constexpr (std::is_same_v<T, Part>) {
          detail::encode_part(w, m);
        } else if constexpr (std::is_same_v<T, Ready>) {
          w.number(m.file_number, 8);
          w.number(m.block_size, 4);
          w.number(m.flags, 4);
          if ((m.flags & TS_READY_SHARED) != 0) {
            w.number(m.slot_count, 4);
            w.number(m.slot_stride, 4);
          }
        } else if constexpr (std::is_same_v<T, Submit>) {
          w.number(m.slot, 4);
          w.number(m.length, 4);
        } else if constexpr (std::is_same_v<T, SlotFree> || std::is_same_v<T, SlotReturn>) {
          w.number(m.slot, 4);
          w.number(0, 4);
        } else if constexpr (std::is_same_v<T, Filled>) {
          w.number(m.slot, 4);
          w.number(m.length, 4);
        } else if constexpr (std::is_same_v<T, Progress>) {
          w.number(m.bytes, 8);
          w.number(m.on_tape, 8);
          w.number(m.buffers_full, 4);
          w.number(m.buffers, 4);
          if (const auto& t = m.telemetry) {
            if (t->fill_now > TS_PROGRESS_MAX_FILL || t->fill_min > TS_PROGRESS_MAX_FILL ||
                t->state > TS_PROGRESS_WAITING) {
              w.fail();
            }
            for (auto v : {t->drive_waited_ns, t->backhitches, t->rate_now, t->rate_average}) {
              w.number(v, 8);
            }
            w.number(t->fill_now, 2);
            w.number(t->fill_min, 2);
            w.number(t->state, 4);
            w.number(t->owner_uid, 4);
            w.number(0, 4);
            w.number(t->owner_since, 8);
          }
        } else if constexpr (std::is_same_v<T, ControlDone>) {
          w.number(m.block_number, 8);
          w.number(m.file_number, 8);
          w.number(m.state, 4);
          w.number(0, 4);
        } else if constexpr (std::is_same_v<T, Committed>) {
          w.number(m.bytes, 8);
          w.number(m.blocks, 8);
          w.number(m.file_number, 8);
          w.number(m.block_size, 4);
          w.number(m.flags, 4);
          if (m.digest) {
            w.bytes(*m.digest);
          }
        } else if constexpr (std::is_same_v<T, StreamFailed>) {
          w.number(static_cast<std::uint16_t>(m.status), 2);
          w.number(m.flags, 2);
          w.number(0, 4);
          w.number(m.bytes, 8);
          w.number(m.blocks, 8);
          w.number(m.file_number, 8);
          w.text(m.message, TS_MAX_MESSAGE);
        } else {
          w.number(static_cast<std::uint16_t>(m.status), 2);
          w.number(0, 2);
          w.text(m.message, TS_MAX_MESSAGE);
        }
      },
      message);
}

}  // namespace

Result<Frame> encode(const Message& message, std::uint32_t request_id) {
  Writer w;
  w.number(TS_PROTO_MAGIC_0, 1);
  w.number(TS_PROTO_MAGIC_1, 1);
  w.number(TS_PROTO_MAGIC_2, 1);
  w.number(TS_PROTO_MAGIC_3, 1);
  w.number(TS_PROTO_VERSION, 1);
  w.number(0, 1);
  w.number(static_cast<std::uint16_t>(type_of(message)), 2);
  w.number(request_id, 4);
  w.number(0, 4);  // the length, filled in below
  encode_body(w, message);
  if (w.bad()) {
    return Status::bad_request;
  }
  auto& out = w.out();
  const auto length = out.size() - TS_PROTO_HEADER_SIZE;
  for (std::size_t i = 0; i < 4; ++i) {
    out[TS_HDR_LENGTH + i] = static_cast<std::uint8_t>(length >> (8 * i));
  }
  return std::move(out);
}

}  // namespace tapestream::proto
