#include "codec.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>

namespace tapestream::proto {
namespace {

class StatusCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tapestream-protocol"; }
  std::string message(int value) const override {
    return std::string{status_name(static_cast<Status>(value))};
  }
};

// Bounds of each type's body and who may receive it (PROTOCOL.md, "Message types").
struct TypeRule {
  Type type;
  bool to_daemon;
  bool to_client;
  std::uint32_t min;
  std::uint32_t max;  // 0 for DATA: bounded by max_data instead
};
constexpr std::array<TypeRule, 18> type_rules{{
    {Type::hello, true, false, 14, 140},
    {Type::list_drives, true, false, 0, 0},
    {Type::status, true, false, 3, 34},
    {Type::write, true, false, 25, 311},
    {Type::read, true, false, 19, 50},
    {Type::control, true, false, 19, 50},
    {Type::data, true, true, 1, 0},
    {Type::end, true, true, 16, 48},
    {Type::abort, true, false, 2, 2 + TS_MAX_MESSAGE},
    {Type::hello_ok, false, true, 14, 140},
    {Type::drive_list, false, true, 2, 2 + TS_MAX_DRIVES * (2 + TS_MAX_DRIVE_NAME)},
    {Type::drive_status, false, true, 87, 72 + 7 * (2 + TS_MAX_STATUS_TEXT)},
    {Type::ready, false, true, 16, 16},
    {Type::control_done, false, true, 24, 24},
    {Type::committed, false, true, 32, 64},
    {Type::stream_failed, false, true, 34, 34 + TS_MAX_MESSAGE},
    {Type::progress, false, true, 24, 24},
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

std::uint64_t load_le(ByteView b, std::size_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = width; i > 0; --i) {
    v = (v << 8) | b[at + i - 1];
  }
  return v;
}

// Reads a body field by field; any read past the end, or a string longer than its field,
// marks the body malformed.
class Reader {
 public:
  explicit Reader(ByteView body) : _body{body} {}

  std::uint64_t number(std::size_t width) {
    if (!take(width)) {
      return 0;
    }
    return load_le(_body, _at - width, width);
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(number(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(number(4)); }
  std::uint64_t u64() { return number(8); }
  std::string text(std::size_t max) {
    const auto length = u16();
    if (length > max || !take(length)) {
      _malformed = true;
      return {};
    }
    std::string text{reinterpret_cast<const char*>(_body.data() + _at - length), length};
    if (!valid_utf8(text)) {
      _bad_field = true;
    }
    return text;
  }
  Digest digest() {
    Digest d{};
    if (take(d.size())) {
      std::copy_n(_body.begin() + static_cast<std::ptrdiff_t>(_at - d.size()), d.size(), d.begin());
    }
    return d;
  }
  void reserved(std::size_t width) {
    if (number(width) != 0) {
      _bad_field = true;
    }
  }
  std::size_t remaining() const { return _malformed ? 0 : _body.size() - _at; }
  void flag_bad_field() { _bad_field = true; }
  // What the body amounts to: exact, malformed (length) or with a field out of range.
  Result<void> verdict() const {
    if (_malformed || _at != _body.size()) {
      return Status::bad_length;
    }
    if (_bad_field) {
      return Status::bad_request;
    }
    return outcome::success();
  }

 private:
  bool take(std::size_t n) {
    if (_malformed || n > _body.size() - _at) {
      _malformed = true;
      return false;
    }
    _at += n;
    return true;
  }
  ByteView _body;
  std::size_t _at = 0;
  bool _malformed = false;
  bool _bad_field = false;
};

class Writer {
 public:
  void number(std::uint64_t v, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) {
      _out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  // A string that is not UTF-8 (a drive's INQUIRY text, a message cut in the middle of a
  // character) goes out with '?' for each stray byte: a reply must never fail to encode.
  void text(std::string_view s, std::size_t max) {
    if (s.size() > max) {
      _bad = true;
      return;
    }
    number(s.size(), 2);
    const auto start = _out.size();
    _out.insert(_out.end(), s.begin(), s.end());
    replace_invalid_utf8({_out.data() + start, s.size()});
  }
  void bytes(ByteView b) { _out.insert(_out.end(), b.begin(), b.end()); }
  void drive(std::string_view name) {
    if (!valid_drive_name(name)) {
      _bad = true;
    }
    text(name, TS_MAX_DRIVE_NAME);
  }
  void fail() { _bad = true; }
  bool bad() const { return _bad; }
  std::vector<std::uint8_t>& out() { return _out; }

 private:
  std::vector<std::uint8_t> _out;
  bool _bad = false;
};

bool known_status(std::uint16_t s) { return s <= TS_STALLED; }
bool known_control(std::uint16_t op) { return op >= TS_CTL_REWIND && op <= TS_CTL_COMPRESSION; }

std::string drive_field(Reader& r) {
  auto name = r.text(TS_MAX_DRIVE_NAME);
  if (!valid_drive_name(name)) {
    r.flag_bad_field();
  }
  return name;
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
      if ((m.flags & ~std::uint32_t{0x1F}) != 0 || m.block_size > TS_MAX_DATA) {
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
      if ((m.flags & ~std::uint32_t{TS_READ_FD | TS_READ_PROGRESS}) != 0) {
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
      r.reserved(8);
      m.drive = drive_field(r);
      for (auto* field : {&m.transport, &m.vendor, &m.product, &m.revision, &m.serial,
                          &m.medium_serial}) {
        *field = r.text(TS_MAX_STATUS_TEXT);
      }
      return finish(r, std::move(m));
    }
    case Type::ready: {
      Ready m;
      m.file_number = r.u64();
      m.block_size = r.u32();
      m.flags = r.u32();
      return finish(r, std::move(m));
    }
    case Type::progress: {
      Progress m;
      m.bytes = r.u64();
      m.on_tape = r.u64();
      m.buffers_full = r.u32();
      m.buffers = r.u32();
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
        else return Type::error;
      },
      m);
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
                         m.remaining_mib, m.state_age_ms, std::uint64_t{0}}) {
            w.number(v, 8);
          }
          w.drive(m.drive);
          for (const auto* s : {&m.transport, &m.vendor, &m.product, &m.revision, &m.serial,
                                &m.medium_serial}) {
            w.text(*s, TS_MAX_STATUS_TEXT);
          }
        } else if constexpr (std::is_same_v<T, Ready>) {
          w.number(m.file_number, 8);
          w.number(m.block_size, 4);
          w.number(m.flags, 4);
        } else if constexpr (std::is_same_v<T, Progress>) {
          w.number(m.bytes, 8);
          w.number(m.on_tape, 8);
          w.number(m.buffers_full, 4);
          w.number(m.buffers, 4);
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

const std::error_category& status_category() {
  static const StatusCategory category;
  return category;
}

std::string_view status_name(Status s) {
  static constexpr std::array<std::string_view, 24> names{
      "ok",           "bad_magic",      "bad_version",     "bad_length",     "bad_type",
      "bad_request",  "out_of_sequence", "unknown_drive",  "busy",           "not_permitted",
      "no_medium",    "write_protected", "volume_full",    "medium_error",   "drive_error",
      "timeout",      "medium_changed", "end_of_data",     "client_gone",    "shutting_down",
      "internal",     "unreachable",    "incomplete",      "stalled"};
  const auto i = static_cast<std::size_t>(s);
  return i < names.size() ? names[i] : std::string_view{"unknown status"};
}

bool valid_drive_name(std::string_view name) {
  return !name.empty() && name.size() <= TS_MAX_DRIVE_NAME &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
}

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

Result<Message> decode_body(const Header& header, ByteView body) {
  if (body.size() != header.length) {
    return Status::bad_length;
  }
  return decode_known(header.type, body);
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
