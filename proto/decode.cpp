// Decoding a message body whose header was accepted: each type's layout field by field, then
// the verdict (exact length, fields in range).
#include <utility>

#include "codec.hpp"
#include "changer_fields.hpp"
#include "fields.hpp"

namespace tapestream::proto {
namespace {

using detail::Reader;

bool known_status(std::uint16_t s) { return s <= TS_STALLED; }
bool known_control(std::uint16_t op) { return op >= TS_CTL_REWIND && op <= TS_CTL_COMPRESSION; }

std::string drive_field(Reader& r) {
  auto name = r.text(TS_MAX_DRIVE_NAME);
  if (!valid_drive_name(name)) {
    r.flag_bad_field();
  }
  return name;
}

// The health extension after DRIVE_STATUS's strings (feature `health`, PROTOCOL.md).
DriveHealth decode_health(Reader& r) {
  DriveHealth h;
  h.known = r.u32();
  if ((h.known & ~TS_HEALTH_ALL) != 0) {
    r.flag_bad_field();
  }
  r.reserved(4);
  for (auto* field : {&h.loads, &h.mb_written_load, &h.mb_read_load, &h.mb_written_life,
                      &h.mb_read_life, &h.write_retries, &h.read_retries, &h.write_errors,
                      &h.read_errors, &h.block_in_file, &h.cleaning}) {
    *field = r.u64();
  }
  if (h.cleaning > 1) {
    r.flag_bad_field();
  }
  h.density_name = r.text(TS_MAX_STATUS_TEXT);
  return h;
}

template <class T>
Result<Message> finish(const Reader& r, T&& message) {
  BOOST_OUTCOME_TRY(r.verdict());
  return Message{std::forward<T>(message)};
}

Result<Message> decode_known(Type type, ByteView body) {
  Reader r{body};
  switch (type) {
    case Type::hello: {
      Hello m;
      m.min_version = r.u16();
      m.max_version = r.u16();
      m.features = r.u32();
      r.reserved(4);
      m.client = r.text(TS_MAX_PEER_NAME);
      if (m.min_version > m.max_version) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::hello_ok: {
      HelloOk m;
      m.version = r.u16();
      r.reserved(2);
      m.features = r.u32();
      m.max_data = r.u32();
      m.server = r.text(TS_MAX_PEER_NAME);
      if (m.max_data == 0 || m.max_data > TS_MAX_DATA) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::list_drives:
      return finish(r, ListDrives{});
    case Type::status:
      return finish(r, StatusRequest{drive_field(r)});
    case Type::write: {
      WriteRequest m;
      m.flags = r.u32();
      m.block_size = r.u32();
      m.expected_length = r.u64();
      r.reserved(4);
      m.drive = drive_field(r);
      m.label = r.text(TS_MAX_LABEL);
      if (r.remaining() > 0) {  // the stream's own marks (`telemetry`)
        m.start_mark = r.u16();
        m.restart_mark = r.u16();
        if (m.start_mark > TS_MAX_MARK_PERCENT || m.restart_mark > TS_MAX_MARK_PERCENT) {
          r.flag_bad_field();
        }
      }
      const bool shared_and_fd = (m.flags & TS_WRITE_SHARED) != 0 && (m.flags & TS_WRITE_FD) != 0;
      // A spanning stream carries its queued blocks over to the next volume in the daemon's own
      // buffers; slots a client holds are not carried (not supported together).
      const bool shared_and_span =
          (m.flags & TS_WRITE_SHARED) != 0 && (m.flags & TS_WRITE_SPAN) != 0;
      if ((m.flags & ~std::uint32_t{TS_WRITE_FIXED | TS_WRITE_NO_WAIT | TS_WRITE_FD |
                                    TS_WRITE_APPEND | TS_WRITE_PROGRESS | TS_WRITE_SPAN |
                                    TS_WRITE_SHARED | TS_WRITE_NO_DIGEST}) != 0 ||
          m.block_size > TS_MAX_DATA || shared_and_fd || shared_and_span) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::read: {
      ReadRequest m;
      m.flags = r.u32();
      r.reserved(4);
      m.file_number = r.u64();
      m.drive = drive_field(r);
      const bool shared_and_fd = (m.flags & TS_READ_SHARED) != 0 && (m.flags & TS_READ_FD) != 0;
      if ((m.flags & ~std::uint32_t{TS_READ_FD | TS_READ_PROGRESS | TS_READ_SHARED}) != 0 ||
          shared_and_fd) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::control: {
      ControlRequest m;
      const auto op = r.u16();
      m.op = static_cast<ControlOp>(op);
      m.flags = r.u16();
      r.reserved(4);
      m.argument = static_cast<std::int64_t>(r.u64());
      m.drive = drive_field(r);
      if (!known_control(op) || (m.flags & ~std::uint16_t{TS_CONTROL_IMMEDIATE}) != 0) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::data:
      return Message{Data{body}};
    case Type::end: {
      End m;
      m.bytes = r.u64();
      m.blocks = r.u64();
      if (r.remaining() > 0) {
        m.digest = r.digest();
      }
      return finish(r, std::move(m));
    }
    case Type::abort:
      return finish(r, Abort{r.text(TS_MAX_MESSAGE)});
    case Type::submit: {
      // Range and ownership are the stream's to judge (it knows its slots).
      Submit m;
      m.slot = r.u32();
      m.length = r.u32();
      return finish(r, std::move(m));
    }
    case Type::drive_list: {
      DriveList m;
      const auto count = r.u16();
      if (count > TS_MAX_DRIVES) {
        r.flag_bad_field();
      }
      for (std::uint16_t i = 0; i < count && r.remaining() > 0; ++i) {
        m.drives.push_back(drive_field(r));
      }
      if (m.drives.size() != count) {
        return Status::bad_length;
      }
      return finish(r, std::move(m));
    }
    case Type::drive_status: {
      DriveStatus m;
      m.state = r.u32();
      m.block_size = r.u32();
      m.max_block_length = r.u32();
      m.density_code = r.u32();
      m.block_number = r.u64();
      m.file_number = r.u64();
      m.tape_alerts = r.u64();
      m.capacity_mib = r.u64();
      m.remaining_mib = r.u64();
      m.state_age_ms = r.u64();
      m.drive_state = static_cast<std::uint8_t>(r.number(1));
      if (m.drive_state > TS_DRIVE_STATE_MAX) {
        r.flag_bad_field();
      }
      m.known = static_cast<std::uint8_t>(r.number(1));
      if ((m.known & ~TS_KNOWN_ALL) != 0) {
        r.flag_bad_field();
      }
      r.reserved(6);
      m.drive = drive_field(r);
      for (auto* field : {&m.transport, &m.vendor, &m.product, &m.revision, &m.serial,
                          &m.medium_serial}) {
        *field = r.text(TS_MAX_STATUS_TEXT);
      }
      if (r.remaining() > 0) {
        m.health = decode_health(r);
      }
      return finish(r, std::move(m));
    }
    case Type::list_files: {
      ListFiles m;
      r.reserved(4);
      m.drive = drive_field(r);
      m.volume = r.text(TS_MAX_VOLUME_TEXT);
      return finish(r, std::move(m));
    }
    case Type::file_list: {
      FileList m;
      m.flags = r.u32();
      if ((m.flags & ~(TS_FILE_LIST_MORE | TS_FILE_LIST_SPAN)) != 0) {
        r.flag_bad_field();
      }
      const auto count = r.u16();
      if (count > TS_MAX_FILES_PER_FRAME) {
        r.flag_bad_field();
      }
      r.reserved(2);
      m.first_seen_ms = r.u64();
      m.last_seen_ms = r.u64();
      for (auto* s : {&m.medium_serial, &m.label, &m.uuid, &m.barcode}) {
        *s = r.text(TS_MAX_VOLUME_TEXT);
      }
      for (std::uint16_t i = 0; i < count && r.remaining() > 0; ++i) {
        FileEntry f;
        for (auto* v : {&f.file_number, &f.bytes, &f.blocks, &f.padding, &f.start_ms, &f.end_ms,
                        &f.rate}) {
          *v = r.u64();
        }
        f.block_size = r.u32();
        f.client_uid = r.u32();
        f.status = static_cast<std::uint8_t>(r.number(1));
        const auto flags = static_cast<std::uint8_t>(r.number(1));
        if (f.status == 0 || f.status > TS_FILE_STATUS_MAX ||
            (flags & ~(TS_FILE_FIXED | TS_FILE_HAS_DIGEST)) != 0) {
          r.flag_bad_field();
        }
        f.flags = flags & TS_FILE_FIXED;
        r.reserved(2);
        const auto digest = r.digest();
        if ((flags & TS_FILE_HAS_DIGEST) != 0) {
          f.digest = digest;
        }
        f.label = r.text(TS_MAX_LABEL);
        f.failure = r.text(TS_MAX_FILE_FAILURE);
        if ((m.flags & TS_FILE_LIST_SPAN) != 0) {
          f.span_stream = r.u64();
          f.span_part = r.u32();
          f.span_flags = r.u32();
          f.span_offset = r.u64();
          if (!detail::valid_span_fields(f)) {
            r.flag_bad_field();
          }
        }
        m.files.push_back(std::move(f));
      }
      if (m.files.size() != count) {
        return Status::bad_length;
      }
      return finish(r, std::move(m));
    }
    case Type::label: {
      LabelRequest m;
      m.flags = r.u32();
      r.reserved(4);
      m.drive = drive_field(r);
      m.name = r.text(TS_MAX_LABEL);
      if ((m.flags & ~TS_LABEL_FORCE) != 0) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::labelled: {
      Labelled m;
      m.flags = r.u32();
      r.reserved(4);
      m.uuid = r.text(TS_MAX_VOLUME_TEXT);
      m.name = r.text(TS_MAX_VOLUME_NAME);
      if ((m.flags & ~TS_LABELLED_VOIDED) != 0) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::verify: {
      VerifyRequest m;
      m.flags = r.u32();
      r.reserved(4);
      m.file_number = r.u64();
      m.drive = drive_field(r);
      if ((m.flags & ~std::uint32_t{TS_VERIFY_ALL | TS_VERIFY_PROGRESS}) != 0 ||
          ((m.flags & TS_VERIFY_ALL) != 0 && m.file_number != 0) ||
          m.file_number == TS_READ_CURRENT_FILE) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::verified: {
      Verified m;
      for (auto* v : {&m.file_number, &m.bytes, &m.blocks, &m.catalog_bytes, &m.catalog_blocks}) {
        *v = r.u64();
      }
      m.verdict = static_cast<std::uint8_t>(r.number(1));
      m.catalog_status = static_cast<std::uint8_t>(r.number(1));
      const auto flags = r.u16();
      const auto condition = r.u16();
      m.condition = static_cast<Status>(condition);
      r.reserved(2);
      const auto digest = r.digest();
      const auto catalog_digest = r.digest();
      m.message = r.text(TS_MAX_MESSAGE);
      if (m.verdict == 0 || m.verdict > TS_VERDICT_MAX || m.catalog_status > TS_FILE_STATUS_MAX ||
          (flags & ~std::uint16_t{TS_VERIFIED_READ_DIGEST | TS_VERIFIED_CATALOG_DIGEST}) != 0 ||
          !known_status(condition) || (condition != TS_OK) != (m.verdict == TS_VERDICT_UNREADABLE)) {
        r.flag_bad_field();
      }
      // A digest the flags do not give must be zeros, so that every frame has one encoding.
      if ((flags & TS_VERIFIED_READ_DIGEST) != 0) {
        m.digest = digest;
      } else if (digest != Digest{}) {
        r.flag_bad_field();
      }
      if ((flags & TS_VERIFIED_CATALOG_DIGEST) != 0) {
        m.catalog_digest = catalog_digest;
      } else if (catalog_digest != Digest{}) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::verify_done: {
      VerifyDone m;
      for (auto* v : {&m.checked, &m.ok, &m.unrecorded, &m.bad}) {
        *v = r.u64();
      }
      m.flags = r.u32();
      r.reserved(4);
      if ((m.flags & ~std::uint32_t{TS_VERIFY_DONE_END_OF_DATA | TS_VERIFY_DONE_CUT}) != 0 ||
          m.ok > m.checked || m.unrecorded > m.checked - m.ok ||
          m.bad != m.checked - m.ok - m.unrecorded) {  // a sum that cannot wrap
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::catalog_rebuild: {
      CatalogRebuild m;
      m.flags = r.u32();
      r.reserved(4);
      m.drive = drive_field(r);
      if ((m.flags & ~std::uint32_t{TS_REBUILD_PROGRESS}) != 0) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::catalog_rebuilt: {
      CatalogRebuilt m;
      m.files = r.u64();
      m.data_files = r.u64();
      m.confirmed = r.u64();
      m.flags = r.u32();
      r.reserved(4);
      for (auto* s : {&m.medium_serial, &m.label, &m.uuid}) {
        *s = r.text(TS_MAX_VOLUME_TEXT);
      }
      if ((m.flags & ~std::uint32_t{TS_REBUILT_LABELLED | TS_REBUILT_CUT}) != 0 ||
          m.data_files > m.files || m.confirmed > m.data_files) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::changer_status:
    case Type::changer_move:
    case Type::changer_elements:
    case Type::changer_moved:
      return detail::decode_changer(type, body);
    case Type::part:
      return detail::decode_part(body);
    case Type::ready: {
      Ready m;
      m.file_number = r.u64();
      m.block_size = r.u32();
      m.flags = r.u32();
      // The slots come only with TS_READY_SHARED, and always with it.
      if ((m.flags & TS_READY_SHARED) != 0) {
        m.slot_count = r.u32();
        m.slot_stride = r.u32();
        if (m.slot_count == 0 || m.slot_count > TS_MAX_SHARED_SLOTS || m.slot_stride < m.block_size) {
          r.flag_bad_field();
        }
      }
      return finish(r, std::move(m));
    }
    case Type::filled: {
      Filled m;
      m.slot = r.u32();
      m.length = r.u32();
      return finish(r, std::move(m));
    }
    case Type::slot_return: {
      SlotReturn m;
      m.slot = r.u32();
      r.reserved(4);
      return finish(r, std::move(m));
    }
    case Type::slot_free: {
      SlotFree m;
      m.slot = r.u32();
      r.reserved(4);
      return finish(r, std::move(m));
    }
    case Type::progress: {
      Progress m;
      m.bytes = r.u64();
      m.on_tape = r.u64();
      m.buffers_full = r.u32();
      m.buffers = r.u32();
      if (r.remaining() > 0) {  // an old daemon's PROGRESS ends here; bytes beyond are bad_length
        Progress::Telemetry t;
        t.drive_waited_ns = r.u64();
        t.backhitches = r.u64();
        t.rate_now = r.u64();
        t.rate_average = r.u64();
        t.fill_now = r.u16();
        t.fill_min = r.u16();
        t.state = r.u32();
        t.owner_uid = r.u32();
        r.reserved(4);
        t.owner_since = r.u64();
        if (t.fill_now > TS_PROGRESS_MAX_FILL || t.fill_min > TS_PROGRESS_MAX_FILL ||
            t.state > TS_PROGRESS_WAITING) {
          r.flag_bad_field();
        }
        m.telemetry = t;
      }
      return finish(r, std::move(m));
    }
    case Type::control_done: {
      ControlDone m;
      m.block_number = r.u64();
      m.file_number = r.u64();
      m.state = r.u32();
      r.reserved(4);
      return finish(r, std::move(m));
    }
    case Type::committed: {
      Committed m;
      m.bytes = r.u64();
      m.blocks = r.u64();
      m.file_number = r.u64();
      m.block_size = r.u32();
      m.flags = r.u32();
      if (r.remaining() > 0) {
        m.digest = r.digest();
      }
      return finish(r, std::move(m));
    }
    case Type::stream_failed: {
      StreamFailed m;
      const auto status = r.u16();
      m.status = static_cast<Status>(status);
      m.flags = r.u16();
      r.reserved(4);
      m.bytes = r.u64();
      m.blocks = r.u64();
      m.file_number = r.u64();
      m.message = r.text(TS_MAX_MESSAGE);
      if (!known_status(status) || status == TS_OK) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::error: {
      Error m;
      const auto status = r.u16();
      m.status = static_cast<Status>(status);
      r.reserved(2);
      m.message = r.text(TS_MAX_MESSAGE);
      if (!known_status(status) || status == TS_OK) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
  }
  return Status::bad_type;
}

}  // namespace

Result<Message> decode_body(const Header& header, ByteView body) {
  if (body.size() != header.length) {
    return Status::bad_length;
  }
  return decode_known(header.type, body);
}

}  // namespace tapestream::proto
