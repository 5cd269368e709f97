// The changer's messages field by field, with the same checks on both sides: what the encoder
// refuses to send, the decoder refuses to accept.
#include <utility>

#include "changer_fields.hpp"

namespace tapestream::proto::detail {
namespace {

// A library is named like a drive, or left empty for the daemon's only library.
bool valid_library_field(std::string_view name) { return name.empty() || valid_drive_name(name); }

bool valid_move(const ChangerMove& m) {
  switch (m.op) {
    case TS_CHANGER_LOAD:
      return m.slot >= 1 && m.to_slot == 0 && valid_drive_name(m.drive);
    case TS_CHANGER_UNLOAD:
      return m.to_slot == 0 && valid_drive_name(m.drive);
    case TS_CHANGER_TRANSFER:
      return m.slot >= 1 && m.to_slot >= 1 && m.drive.empty();
    default:
      return false;
  }
}

bool valid_element(const ChangerElement& e) {
  return e.kind >= TS_ELEMENT_SLOT && e.kind <= TS_ELEMENT_DRIVE &&
         (e.flags & ~std::uint8_t{TS_ELEMENT_FULL | TS_ELEMENT_EXCEPTION}) == 0 &&
         (e.kind == TS_ELEMENT_DRIVE || e.number >= 1) &&
         (e.kind == TS_ELEMENT_DRIVE || e.drive.empty()) &&
         (e.drive.empty() || valid_drive_name(e.drive)) &&
         ((e.flags & TS_ELEMENT_FULL) != 0 || (e.barcode.empty() && e.source == 0));
}

void encode_element(Writer& w, const ChangerElement& e) {
  if (!valid_element(e)) {
    w.fail();
  }
  w.number(e.kind, 1);
  w.number(e.flags, 1);
  w.number(0, 2);
  w.number(e.number, 4);
  w.number(e.address, 2);
  w.number(0, 2);
  w.number(e.source, 4);
  w.text(e.barcode, TS_MAX_VOLUME_TEXT);
  w.text(e.drive, TS_MAX_DRIVE_NAME);
}

ChangerElement decode_element(Reader& r) {
  ChangerElement e;
  e.kind = static_cast<std::uint8_t>(r.number(1));
  e.flags = static_cast<std::uint8_t>(r.number(1));
  r.reserved(2);
  e.number = r.u32();
  e.address = r.u16();
  r.reserved(2);
  e.source = r.u32();
  e.barcode = r.text(TS_MAX_VOLUME_TEXT);
  e.drive = r.text(TS_MAX_DRIVE_NAME);
  if (!valid_element(e)) {
    r.flag_bad_field();
  }
  return e;
}

template <class T>
Result<Message> finish(const Reader& r, T&& message) {
  BOOST_OUTCOME_TRY(r.verdict());
  return Message{std::forward<T>(message)};
}

}  // namespace

void encode_changer(Writer& w, const ChangerStatus& m) {
  if (!valid_library_field(m.library)) {
    w.fail();
  }
  w.number(0, 4);
  w.text(m.library, TS_MAX_DRIVE_NAME);
}

void encode_changer(Writer& w, const ChangerMove& m) {
  if (!valid_move(m) || !valid_library_field(m.library)) {
    w.fail();
  }
  w.number(m.op, 2);
  w.number(0, 2);
  w.number(m.slot, 4);
  w.number(m.to_slot, 4);
  w.number(0, 4);
  w.text(m.library, TS_MAX_DRIVE_NAME);
  w.text(m.drive, TS_MAX_DRIVE_NAME);
}

void encode_changer(Writer& w, const ChangerElements& m) {
  if ((m.flags & ~TS_ELEMENTS_MORE) != 0 || m.elements.size() > TS_MAX_ELEMENTS_PER_FRAME ||
      !valid_library_field(m.library)) {
    w.fail();
  }
  w.number(m.flags, 4);
  w.number(m.elements.size(), 2);
  w.number(0, 2);
  w.text(m.library, TS_MAX_DRIVE_NAME);
  for (const auto& e : m.elements) {
    encode_element(w, e);
  }
}

void encode_changer(Writer& w, const ChangerMoved& m) {
  encode_element(w, m.from);
  encode_element(w, m.to);
}

Result<Message> decode_changer(Type type, ByteView body) {
  Reader r{body};
  switch (type) {
    case Type::changer_status: {
      ChangerStatus m;
      r.reserved(4);
      m.library = r.text(TS_MAX_DRIVE_NAME);
      if (!valid_library_field(m.library)) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::changer_move: {
      ChangerMove m;
      m.op = r.u16();
      r.reserved(2);
      m.slot = r.u32();
      m.to_slot = r.u32();
      r.reserved(4);
      m.library = r.text(TS_MAX_DRIVE_NAME);
      m.drive = r.text(TS_MAX_DRIVE_NAME);
      if (!valid_move(m) || !valid_library_field(m.library)) {
        r.flag_bad_field();
      }
      return finish(r, std::move(m));
    }
    case Type::changer_elements: {
      ChangerElements m;
      m.flags = r.u32();
      const auto count = r.u16();
      r.reserved(2);
      m.library = r.text(TS_MAX_DRIVE_NAME);
      if ((m.flags & ~TS_ELEMENTS_MORE) != 0 || count > TS_MAX_ELEMENTS_PER_FRAME ||
          !valid_library_field(m.library)) {
        r.flag_bad_field();
      }
      for (std::uint16_t i = 0; i < count && r.remaining() > 0; ++i) {
        m.elements.push_back(decode_element(r));
      }
      if (m.elements.size() != count) {
        return Status::bad_length;
      }
      return finish(r, std::move(m));
    }
    case Type::changer_moved: {
      ChangerMoved m;
      m.from = decode_element(r);
      m.to = decode_element(r);
      return finish(r, std::move(m));
    }
    default:
      return Status::bad_type;
  }
}

}  // namespace tapestream::proto::detail
