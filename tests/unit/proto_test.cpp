// The protocol codec: every message survives encoding and decoding, and every malformed frame
// is refused with the status code PROTOCOL.md gives, before any body byte is trusted.
#include <gtest/gtest.h>

#include "codec.hpp"

using namespace tapestream::proto;

namespace {

constexpr std::uint32_t max_data = 1 << 20;

Message round_trip(const Message& m, Receiver receiver, std::uint32_t id = 7) {
  const auto frame = encode(m, id).value();
  const auto header = decode_header(frame, receiver, max_data).value();
  EXPECT_EQ(header.request_id, id);
  EXPECT_EQ(header.length, frame.size() - TS_PROTO_HEADER_SIZE);
  return decode_body(header, ByteView{frame}.subspan(TS_PROTO_HEADER_SIZE)).value();
}

Digest digest_of(std::uint8_t seed) {
  Digest d{};
  for (std::size_t i = 0; i < d.size(); ++i) {
    d[i] = static_cast<std::uint8_t>(seed + i);
  }
  return d;
}

TEST(Protocol, HeaderLayout) {
  const auto frame = encode(StatusRequest{"emu0"}, 0x01020304).value();
  ASSERT_EQ(frame.size(), 16U + 6U);
  const std::vector<std::uint8_t> header(frame.begin(), frame.begin() + 16);
  EXPECT_EQ(header, (std::vector<std::uint8_t>{0x54, 0x50, 0x53, 0x01, 1, 0, 0x03, 0x00, 0x04, 0x03,
                                               0x02, 0x01, 6, 0, 0, 0}));
  EXPECT_EQ(std::string(frame.begin() + 16, frame.end()), std::string("\x04\x00" "emu0", 6));
}

TEST(Protocol, RequestsRoundTrip) {
  const auto hello = std::get<Hello>(round_trip(Hello{1, 1, TS_FEATURE_FD_PASSING, "tapestream 0.1"},
                                                Receiver::daemon));
  EXPECT_EQ(hello.features, TS_FEATURE_FD_PASSING);
  EXPECT_EQ(hello.client, "tapestream 0.1");
  EXPECT_TRUE(std::holds_alternative<ListDrives>(round_trip(ListDrives{}, Receiver::daemon)));
  const auto write = std::get<WriteRequest>(round_trip(
      WriteRequest{TS_WRITE_NO_WAIT | TS_WRITE_APPEND, 262144, 1 << 30, "lto1", "nightly /srv"},
      Receiver::daemon));
  EXPECT_EQ(write.flags, TS_WRITE_NO_WAIT | TS_WRITE_APPEND);
  EXPECT_EQ(write.block_size, 262144U);
  EXPECT_EQ(write.expected_length, 1U << 30);
  EXPECT_EQ(write.drive, "lto1");
  EXPECT_EQ(write.label, "nightly /srv");
  const auto read = std::get<ReadRequest>(round_trip(ReadRequest{TS_READ_FD, 3, "emu0"},
                                                     Receiver::daemon));
  EXPECT_EQ(read.file_number, 3U);
  const auto control = std::get<ControlRequest>(
      round_trip(ControlRequest{ControlOp::bsf, 0, 2, "emu0"}, Receiver::daemon));
  EXPECT_EQ(control.op, ControlOp::bsf);
  EXPECT_EQ(control.argument, 2);
  const auto seek = std::get<ControlRequest>(
      round_trip(ControlRequest{ControlOp::seek, TS_CONTROL_IMMEDIATE, -1, "emu0"},
                 Receiver::daemon));
  EXPECT_EQ(seek.argument, -1);  // signed on the wire; the daemon judges the range
}

TEST(Protocol, RepliesRoundTrip) {
  const auto ok = std::get<HelloOk>(round_trip(HelloOk{1, 0, max_data, "tapestreamd 0.1"},
                                               Receiver::client));
  EXPECT_EQ(ok.max_data, max_data);
  const auto list = std::get<DriveList>(round_trip(DriveList{{"emu0", "lto1", "lto.2_b"}},
                                                   Receiver::client));
  EXPECT_EQ(list.drives, (std::vector<std::string>{"emu0", "lto1", "lto.2_b"}));
  DriveStatus status;
  status.state = TS_STATE_LOADED | TS_STATE_BOP;
  status.max_block_length = 8 << 20;
  status.block_number = 12;
  status.file_number = 2;
  status.tape_alerts = 1ULL << 19;
  status.drive = "emu0";
  status.transport = "emulated";
  status.vendor = "TAPESTRM";
  status.serial = "EMU0000001";
  const auto s = std::get<DriveStatus>(round_trip(status, Receiver::client));
  EXPECT_EQ(s.state, status.state);
  EXPECT_EQ(s.block_number, 12U);
  EXPECT_EQ(s.tape_alerts, 1ULL << 19);
  EXPECT_EQ(s.serial, "EMU0000001");
  EXPECT_EQ(s.product, "");
  const auto ready = std::get<Ready>(round_trip(Ready{4, 262144, 0}, Receiver::client));
  EXPECT_EQ(ready.file_number, 4U);
  const auto done = std::get<ControlDone>(round_trip(ControlDone{100, 3, TS_STATE_LOADED},
                                                     Receiver::client));
  EXPECT_EQ(done.block_number, 100U);
  const auto committed = std::get<Committed>(
      round_trip(Committed{1000, 1, 4, 262144, 0, digest_of(9)}, Receiver::client));
  EXPECT_EQ(committed.bytes, 1000U);
  EXPECT_EQ(committed.digest, digest_of(9));
  EXPECT_FALSE(std::get<Committed>(round_trip(Committed{1, 1, 0, 512, 0, {}}, Receiver::client))
                   .digest.has_value());
  const auto failed = std::get<StreamFailed>(round_trip(
      StreamFailed{Status::volume_full, TS_FAILED_FILEMARK_WRITTEN, 5000, 2, 1, "end of medium"},
      Receiver::client));
  EXPECT_EQ(failed.status, Status::volume_full);
  EXPECT_EQ(failed.bytes, 5000U);
  EXPECT_EQ(failed.message, "end of medium");
  const auto error = std::get<Error>(round_trip(Error{Status::busy, "emu0 is writing"},
                                                Receiver::client));
  EXPECT_EQ(error.status, Status::busy);
  const auto progress = std::get<Progress>(round_trip(Progress{1 << 30, 1 << 29, 12, 16},
                                                      Receiver::client));
  EXPECT_EQ(progress.bytes, 1U << 30);
  EXPECT_EQ(progress.on_tape, 1U << 29);
  EXPECT_EQ(progress.buffers_full, 12U);
  EXPECT_EQ(progress.buffers, 16U);
  // A reply type: the daemon refuses it from a client.
  EXPECT_EQ(decode_header(encode(Progress{}, 1).value(), Receiver::daemon, max_data).error(),
            Status::bad_type);
}

TEST(Protocol, DataAndEndTravelBothWays) {
  const std::vector<std::uint8_t> payload(1000, 0x5A);
  for (auto receiver : {Receiver::daemon, Receiver::client}) {
    const auto frame = encode(Data{payload}, 9).value();
    const auto header = decode_header(frame, receiver, max_data).value();
    const auto body = ByteView{frame}.subspan(TS_PROTO_HEADER_SIZE);
    const auto data = std::get<Data>(decode_body(header, body).value());
    EXPECT_EQ(std::vector<std::uint8_t>(data.bytes.begin(), data.bytes.end()), payload);
    const auto end = std::get<End>(round_trip(End{1000, 1, digest_of(1)}, receiver));
    EXPECT_EQ(end.bytes, 1000U);
    EXPECT_EQ(end.digest, digest_of(1));
  }
}

TEST(Protocol, HeaderChecksComeFirst) {
  auto frame = encode(StatusRequest{"emu0"}, 1).value();
  auto broken = frame;
  broken[0] = 'X';
  EXPECT_EQ(decode_header(broken, Receiver::daemon, max_data).error(), Status::bad_magic);
  broken = frame;
  broken[4] = 2;
  EXPECT_EQ(decode_header(broken, Receiver::daemon, max_data).error(), Status::bad_version);
  broken = frame;
  broken[5] = 1;
  EXPECT_EQ(decode_header(broken, Receiver::daemon, max_data).error(), Status::bad_version);
  broken = frame;
  broken[6] = 0x77;
  EXPECT_EQ(decode_header(broken, Receiver::daemon, max_data).error(), Status::bad_type);
  // A reply sent to the daemon, a request sent to the client: the wrong direction.
  EXPECT_EQ(decode_header(encode(Ready{}, 1).value(), Receiver::daemon, max_data).error(),
            Status::bad_type);
  EXPECT_EQ(decode_header(frame, Receiver::client, max_data).error(), Status::bad_type);
  EXPECT_EQ(decode_header(ByteView{frame}.first(15), Receiver::daemon, max_data).error(),
            Status::bad_length);
}

TEST(Protocol, LengthsOutsideTheTypeBoundsAreRefused) {
  auto frame = encode(StatusRequest{"emu0"}, 1).value();
  frame[12] = 35;  // STATUS bodies are at most 34 bytes
  EXPECT_EQ(decode_header(frame, Receiver::daemon, max_data).error(), Status::bad_length);
  frame[12] = 2;  // and at least 3
  EXPECT_EQ(decode_header(frame, Receiver::daemon, max_data).error(), Status::bad_length);
  auto data = encode(Data{std::vector<std::uint8_t>(100, 1)}, 1).value();
  EXPECT_EQ(decode_header(data, Receiver::daemon, 99).error(), Status::bad_length);
  data[12] = 0xFF;
  data[13] = 0xFF;
  data[14] = 0xFF;
  data[15] = 0xFF;  // 4 GiB: no allocation ever follows such a length
  EXPECT_EQ(decode_header(data, Receiver::daemon, 0xFFFFFFFF).error(), Status::bad_length);
  EXPECT_EQ(decode_header(encode(ListDrives{}, 1).value(), Receiver::daemon, max_data)
                .value()
                .length,
            0U);
}

TEST(Protocol, BodiesMustBeExact) {
  const auto frame = encode(WriteRequest{0, 0, 0, "emu0", "label"}, 1).value();
  auto header = decode_header(frame, Receiver::daemon, max_data).value();
  auto body = std::vector<std::uint8_t>(frame.begin() + 16, frame.end());
  body.push_back(0);  // one byte too many
  header.length = static_cast<std::uint32_t>(body.size());
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_length);
  body.resize(body.size() - 3);  // the label's string runs past the end
  header.length = static_cast<std::uint32_t>(body.size());
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_length);
  // The header promises a length the body does not have.
  EXPECT_EQ(decode_body(header, ByteView{body}.first(body.size() - 1)).error(),
            Status::bad_length);
}

TEST(Protocol, FieldsOutOfRangeAreBadRequests) {
  auto decode_request = [](const Frame& frame) {
    const auto header = decode_header(frame, Receiver::daemon, max_data).value();
    return decode_body(header, ByteView{frame}.subspan(16));
  };
  auto frame = encode(StatusRequest{"emu0"}, 1).value();
  frame[18] = '/';  // "/mu0"
  EXPECT_EQ(decode_request(frame).error(), Status::bad_request);
  auto control = encode(ControlRequest{ControlOp::rewind, 0, 0, "emu0"}, 1).value();
  control[16] = 99;  // no such operation
  EXPECT_EQ(decode_request(control).error(), Status::bad_request);
  auto reserved = encode(ReadRequest{0, 1, "emu0"}, 1).value();
  reserved[20] = 1;  // reserved bytes must be 0
  EXPECT_EQ(decode_request(reserved).error(), Status::bad_request);
  auto flags = encode(WriteRequest{0, 0, 0, "emu0", ""}, 1).value();
  flags[17] = 0x80;  // an unknown WRITE flag
  EXPECT_EQ(decode_request(flags).error(), Status::bad_request);
  auto read_flags = encode(ReadRequest{TS_READ_FD | TS_READ_PROGRESS, 1, "emu0"}, 1).value();
  EXPECT_TRUE(decode_request(read_flags).has_value());
  read_flags[16] = 0x08;  // not a READ flag
  EXPECT_EQ(decode_request(read_flags).error(), Status::bad_request);
  auto hello = encode(Hello{2, 1, 0, "x"}, 1).value();  // min above max
  EXPECT_EQ(decode_request(hello).error(), Status::bad_request);
}

TEST(Protocol, EncoderRefusesWhatCannotBeSent) {
  EXPECT_EQ(encode(StatusRequest{""}, 1).error(), Status::bad_request);
  EXPECT_EQ(encode(StatusRequest{std::string(33, 'a')}, 1).error(), Status::bad_request);
  EXPECT_EQ(encode(StatusRequest{"a b"}, 1).error(), Status::bad_request);
  EXPECT_EQ(encode(WriteRequest{0, 0, 0, "emu0", std::string(256, 'x')}, 1).error(),
            Status::bad_request);
  EXPECT_EQ(encode(Data{}, 1).error(), Status::bad_request);
  EXPECT_EQ(encode(Error{Status::internal, std::string(1025, 'x')}, 1).error(),
            Status::bad_request);
}

TEST(Protocol, StatusNamesAndCodes) {
  EXPECT_EQ(status_name(Status::volume_full), "volume_full");
  EXPECT_EQ(status_name(Status::unreachable), "unreachable");
  EXPECT_EQ(status_name(Status::incomplete), "incomplete");
  EXPECT_EQ(status_name(Status::stalled), "stalled");
  EXPECT_EQ(static_cast<int>(Status::incomplete), 22);
  EXPECT_EQ(static_cast<int>(Status::stalled), 23);
  const std::error_code ec = Status::busy;
  EXPECT_EQ(ec.message(), "busy");
  EXPECT_EQ(ec.category().name(), std::string{"tapestream-protocol"});
}

// Issue 9: a client whose producer failed ends its stream with ABORT, which only a daemon
// receives; its reason is a string like any other.
TEST(Protocol, AbortCarriesItsReason) {
  const auto abort = std::get<Abort>(round_trip(Abort{"tar exited with status 2"}, Receiver::daemon));
  EXPECT_EQ(abort.reason, "tar exited with status 2");
  const auto frame = encode(Abort{"x"}, 1).value();
  EXPECT_EQ(decode_header(frame, Receiver::client, max_data).error(), Status::bad_type);
  auto empty = frame;
  empty.resize(16);
  empty[12] = 0;  // a body shorter than its string's length field
  EXPECT_EQ(decode_header(empty, Receiver::daemon, max_data).error(), Status::bad_length);
}

// Issue 9, defect 5: STATUS of a hung drive answers from the last known state, and says so.
TEST(Protocol, StaleStatusCarriesItsAge) {
  DriveStatus s;
  s.state = TS_STATE_LOADED | TS_STATE_STALE;
  s.state_age_ms = 12345;
  s.drive = "emu0";
  const auto back = std::get<DriveStatus>(round_trip(s, Receiver::client));
  EXPECT_EQ(back.state, TS_STATE_LOADED | TS_STATE_STALE);
  EXPECT_EQ(back.state_age_ms, 12345U);
}

// Issue 10: DRIVE_STATUS byte 64 says what the drive is doing; the rest of the old reserved
// field stays 0, and a state the protocol does not name is refused.
TEST(Protocol, DriveStateTravelsInByte64) {
  DriveStatus s;
  s.drive = "emu0";
  s.drive_state = TS_DRIVE_WRITING;
  auto frame = encode(s, 3).value();
  EXPECT_EQ(frame[TS_PROTO_HEADER_SIZE + 64], TS_DRIVE_WRITING);
  EXPECT_EQ(std::get<DriveStatus>(round_trip(s, Receiver::client)).drive_state, TS_DRIVE_WRITING);
  const auto header = decode_header(frame, Receiver::client, TS_MAX_DATA).value();
  frame[TS_PROTO_HEADER_SIZE + 64] = TS_DRIVE_STATE_MAX + 1;
  EXPECT_EQ(decode_body(header, ByteView{frame}.subspan(TS_PROTO_HEADER_SIZE)).error(),
            make_error_code(Status::bad_request));
  frame[TS_PROTO_HEADER_SIZE + 64] = TS_DRIVE_FAILED;
  frame[TS_PROTO_HEADER_SIZE + 66] = 1;  // still reserved
  EXPECT_EQ(decode_body(header, ByteView{frame}.subspan(TS_PROTO_HEADER_SIZE)).error(),
            make_error_code(Status::bad_request));
  s.drive_state = TS_DRIVE_STATE_MAX + 1;
  EXPECT_FALSE(encode(s, 3));
}

// Issue 9, defect 9: names and labels that are not UTF-8 are refused; the daemon's own replies
// never fail to encode because a drive's text is not UTF-8.
TEST(Protocol, StringsMustBeUtf8) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("sauvegarde \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xbc"));
  for (const std::string bad : {"\xff", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                                "\xf4\x90\x80\x80", "a\x80" "b"}) {
    EXPECT_FALSE(valid_utf8(bad)) << "accepted a malformed sequence";
  }
  auto decode_request = [](const Frame& frame) {
    const auto header = decode_header(frame, Receiver::daemon, max_data).value();
    return decode_body(header, ByteView{frame}.subspan(16));
  };
  auto label = encode(WriteRequest{0, 0, 0, "emu0", "ok"}, 1).value();
  label.back() = 0xFF;
  EXPECT_EQ(decode_request(label).error(), Status::bad_request);
  auto hello = encode(Hello{1, 1, 0, "client"}, 1).value();
  hello.back() = 0xC3;
  EXPECT_EQ(decode_request(hello).error(), Status::bad_request);
  DriveStatus s;
  s.drive = "emu0";
  s.vendor = "IBM\xff\xfe";
  const auto back = std::get<DriveStatus>(round_trip(s, Receiver::client));
  EXPECT_EQ(back.vendor, "IBM??");
}

}  // namespace

namespace {

FileList long_file_list() {
  FileList list{TS_FILE_LIST_MORE, 1000, 2000, "EMUTAPE001", "VOL001", "", "", {}};
  for (std::uint64_t i = 0; i < TS_MAX_FILES_PER_FRAME; ++i) {
    FileEntry f;
    f.file_number = i;
    f.bytes = 1000 + i;
    f.blocks = 1;
    f.start_ms = 5;
    f.block_size = 65536;
    f.client_uid = 1000;
    f.status = TS_FILE_COMPLETE;
    f.flags = i % 2 == 0 ? TS_FILE_FIXED : 0;
    f.label = std::string(TS_MAX_LABEL, 'l');
    f.failure = std::string(TS_MAX_FILE_FAILURE, 'f');
    if (i == 3) {
      f.digest = digest_of(9);
    }
    list.files.push_back(f);
  }
  return list;
}

}  // namespace

TEST(Protocol, ListFilesAndFileListRoundTrip) {
  const auto ask = std::get<ListFiles>(round_trip(ListFiles{"emu0", "VOL001"}, Receiver::daemon));
  EXPECT_EQ(ask.drive, "emu0");
  EXPECT_EQ(ask.volume, "VOL001");
  EXPECT_EQ(std::get<ListFiles>(round_trip(ListFiles{"emu0", ""}, Receiver::daemon)).volume, "");

  // The longest frame the bounds allow: 64 entries with the longest texts.
  const auto list = std::get<FileList>(round_trip(long_file_list(), Receiver::client));
  EXPECT_EQ(list.flags, TS_FILE_LIST_MORE);
  EXPECT_EQ(list.medium_serial, "EMUTAPE001");
  EXPECT_EQ(list.label, "VOL001");
  ASSERT_EQ(list.files.size(), TS_MAX_FILES_PER_FRAME);
  EXPECT_EQ(list.files[5].bytes, 1005U);
  EXPECT_EQ(list.files[4].flags, TS_FILE_FIXED);
  EXPECT_EQ(list.files[5].flags, 0);
  EXPECT_FALSE(list.files[2].digest);
  EXPECT_EQ(list.files[3].digest, digest_of(9));
  EXPECT_EQ(list.files[63].failure.size(), TS_MAX_FILE_FAILURE);

  const auto empty = std::get<FileList>(round_trip(FileList{}, Receiver::client));
  EXPECT_TRUE(empty.files.empty());
}

TEST(Protocol, FileListBoundsAndFields) {
  auto too_many = long_file_list();
  too_many.files.push_back(too_many.files.front());
  EXPECT_FALSE(encode(too_many, 1));
  auto bad_status = long_file_list();
  bad_status.files[0].status = TS_FILE_STATUS_MAX + 1;
  EXPECT_FALSE(encode(bad_status, 1));
  EXPECT_FALSE(encode(ListFiles{"emu0", std::string(TS_MAX_VOLUME_TEXT + 1, 'v')}, 1));
  // A FILE_LIST is a reply, LIST_FILES a request: never the other way round.
  auto frame = encode(FileList{}, 1).value();
  EXPECT_EQ(decode_header(frame, Receiver::daemon, max_data).error(), Status::bad_type);
  frame = encode(ListFiles{"emu0", ""}, 1).value();
  EXPECT_EQ(decode_header(frame, Receiver::client, max_data).error(), Status::bad_type);

  // A status byte out of range in an entry is bad_request; a count beyond the entries there is
  // bad_length.
  FileList one;
  one.files.push_back(FileEntry{});
  one.files[0].status = TS_FILE_FAILED;
  frame = encode(one, 1).value();
  auto body = std::vector<std::uint8_t>(frame.begin() + TS_PROTO_HEADER_SIZE, frame.end());
  const std::size_t entry = 24 + 4 * 2;
  body[entry + 64] = 9;
  const auto header = decode_header(frame, Receiver::client, max_data).value();
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);
  body[entry + 64] = TS_FILE_FAILED;
  body[4] = 2;  // count 2, one entry
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_length);
}

// Issue 12, item 5: without `health` DRIVE_STATUS is the version-1 layout (byte 65 and the
// reserved bytes 0, nothing after the strings), whatever the daemon knows.
TEST(Protocol, DriveStatusWithoutHealthIsTheVersionOneLayout) {
  DriveStatus s;
  s.drive = "emu0";
  s.tape_alerts = 1ULL << 30;
  s.capacity_mib = 1024;
  s.remaining_mib = 1000;
  const auto frame = encode(s, 3).value();
  ASSERT_EQ(frame.size(), TS_PROTO_HEADER_SIZE + 72U + 2 + 4 + 6 * 2);
  for (std::size_t at = 65; at < 72; ++at) {
    EXPECT_EQ(frame[TS_PROTO_HEADER_SIZE + at], 0) << at;
  }
  const auto back = std::get<DriveStatus>(round_trip(s, Receiver::client));
  EXPECT_EQ(back.known, 0);
  EXPECT_FALSE(back.health.has_value());
  EXPECT_EQ(back.capacity_mib, 1024U);
}

// Issue 12, item 5: with `health` the known mask tells 0 from "not known", and the extension
// carries the volume statistics, the block within the file and the density name.
TEST(Protocol, DriveStatusHealthExtensionRoundTrips) {
  DriveStatus s;
  s.drive = "emu0";
  s.known = TS_KNOWN_TAPE_ALERTS | TS_KNOWN_REMAINING;
  s.remaining_mib = 0;  // known: the tape is full
  DriveHealth h;
  h.known = TS_HEALTH_LOADS | TS_HEALTH_BLOCK_IN_FILE | TS_HEALTH_CLEANING;
  h.loads = 7;
  h.block_in_file = 42;
  h.cleaning = 1;
  h.density_name = "LTO-9";
  s.health = h;
  const auto frame = encode(s, 3).value();
  EXPECT_EQ(frame[TS_PROTO_HEADER_SIZE + 65], TS_KNOWN_TAPE_ALERTS | TS_KNOWN_REMAINING);
  const auto back = std::get<DriveStatus>(round_trip(s, Receiver::client));
  EXPECT_EQ(back.known, s.known);
  ASSERT_TRUE(back.health.has_value());
  EXPECT_EQ(back.health->known, h.known);
  EXPECT_EQ(back.health->loads, 7U);
  EXPECT_EQ(back.health->block_in_file, 42U);
  EXPECT_EQ(back.health->cleaning, 1U);
  EXPECT_EQ(back.health->density_name, "LTO-9");
  const auto header = decode_header(frame, Receiver::client, TS_MAX_DATA).value();
  EXPECT_EQ(header.length, frame.size() - TS_PROTO_HEADER_SIZE);
}

// Issue 12, item 5: every bound of the extension is checked: unknown known bits, a cleaning
// value that is not 0 or 1, a cut-off extension, and bytes after it.
TEST(Protocol, DriveStatusHealthExtensionIsChecked) {
  DriveStatus s;
  s.drive = "emu0";
  s.health = DriveHealth{};
  s.health->density_name = "DLT";
  const auto frame = encode(s, 3).value();
  const auto base = TS_PROTO_HEADER_SIZE + 72 + 6 + 6 * 2;  // where the extension starts
  auto decode_changed = [&](auto change) {
    auto f = frame;
    change(f);
    auto header = decode_header(f, Receiver::client, TS_MAX_DATA);
    if (!header) {
      return header.error();
    }
    auto body = decode_body(header.value(), ByteView{f}.subspan(TS_PROTO_HEADER_SIZE));
    return body ? std::error_code{} : body.error();
  };
  auto set_length = [](Frame& f) {
    const auto length = f.size() - TS_PROTO_HEADER_SIZE;
    for (std::size_t i = 0; i < 4; ++i) {
      f[TS_HDR_LENGTH + i] = static_cast<std::uint8_t>(length >> (8 * i));
    }
  };
  EXPECT_EQ(decode_changed([](Frame&) {}), std::error_code{});
  EXPECT_EQ(decode_changed([](Frame& f) { f[TS_PROTO_HEADER_SIZE + 65] = 0x20; }),
            make_error_code(Status::bad_request));
  EXPECT_EQ(decode_changed([&](Frame& f) { f[base + 1] = 0x08; }),  // bit 2048
            make_error_code(Status::bad_request));
  EXPECT_EQ(decode_changed([&](Frame& f) { f[base + 4] = 1; }),  // reserved
            make_error_code(Status::bad_request));
  EXPECT_EQ(decode_changed([&](Frame& f) { f[base + 88] = 2; }),  // cleaning
            make_error_code(Status::bad_request));
  EXPECT_EQ(decode_changed([&](Frame& f) {
              f.resize(f.size() - 4);
              set_length(f);
            }),
            make_error_code(Status::bad_length));
  EXPECT_EQ(decode_changed([&](Frame& f) {
              f.push_back(0);
              set_length(f);
            }),
            make_error_code(Status::bad_length));
  s.health->known = TS_HEALTH_ALL + 1;
  EXPECT_FALSE(encode(s, 3));
  s.health->known = 0;
  s.known = TS_KNOWN_ALL + 1;
  EXPECT_FALSE(encode(s, 3));
}

TEST(Protocol, LabelAndLabelledRoundTrip) {
  const auto ask = std::get<LabelRequest>(
      round_trip(LabelRequest{TS_LABEL_FORCE, "emu0", "weekly-07"}, Receiver::daemon));
  EXPECT_EQ(ask.flags, TS_LABEL_FORCE);
  EXPECT_EQ(ask.drive, "emu0");
  EXPECT_EQ(ask.name, "weekly-07");
  // An empty or overlong name reaches the daemon, which refuses it with a message of its own.
  EXPECT_EQ(std::get<LabelRequest>(round_trip(LabelRequest{0, "emu0", ""}, Receiver::daemon)).name,
            "");
  const std::string long_name(TS_MAX_LABEL, 'n');
  EXPECT_EQ(std::get<LabelRequest>(round_trip(LabelRequest{0, "emu0", long_name},
                                              Receiver::daemon)).name,
            long_name);
  const auto uuid = std::string{"0f8fad5b-d9cb-469f-a165-70867728950e"};
  const auto done = std::get<Labelled>(
      round_trip(Labelled{TS_LABELLED_VOIDED, uuid, "weekly-07"}, Receiver::client));
  EXPECT_EQ(done.flags, TS_LABELLED_VOIDED);
  EXPECT_EQ(done.uuid, uuid);
  EXPECT_EQ(done.name, "weekly-07");
}

TEST(Protocol, LabelBoundsAndFields) {
  EXPECT_FALSE(encode(LabelRequest{2, "emu0", "x"}, 1));
  EXPECT_FALSE(encode(LabelRequest{0, "emu0", std::string(TS_MAX_LABEL + 1, 'n')}, 1));
  EXPECT_FALSE(encode(Labelled{0, "u", std::string(TS_MAX_VOLUME_NAME + 1, 'n')}, 1));
  EXPECT_FALSE(encode(Labelled{2, "u", "n"}, 1));
  // LABEL is a request, LABELLED a reply.
  auto frame = encode(Labelled{0, "u", "n"}, 1).value();
  EXPECT_EQ(decode_header(frame, Receiver::daemon, max_data).error(), Status::bad_type);
  frame = encode(LabelRequest{0, "emu0", "n"}, 1).value();
  EXPECT_EQ(decode_header(frame, Receiver::client, max_data).error(), Status::bad_type);
  // An unknown flag bit is bad_request; a body cut short is bad_length.
  auto body = std::vector<std::uint8_t>(frame.begin() + TS_PROTO_HEADER_SIZE, frame.end());
  body[0] = 0x02;
  Header h{Type::label, 1, static_cast<std::uint32_t>(body.size())};
  EXPECT_EQ(decode_body(h, body).error(), Status::bad_request);
  body[0] = 0;
  body.pop_back();
  h.length = static_cast<std::uint32_t>(body.size());
  EXPECT_EQ(decode_body(h, body).error(), Status::bad_length);
  // The header bounds: 13 bytes at least (empty name), the longest drive and name at most.
  frame[TS_HDR_LENGTH] = 12;
  EXPECT_EQ(decode_header(frame, Receiver::daemon, max_data).error(), Status::bad_length);
  frame[TS_HDR_LENGTH] = static_cast<std::uint8_t>(8 + 34 + 2 + TS_MAX_LABEL + 1 - 256);
  frame[TS_HDR_LENGTH + 1] = 1;
  EXPECT_EQ(decode_header(frame, Receiver::daemon, max_data).error(), Status::bad_length);
}

// Issue 12, item 2: VERIFY, VERIFIED (one per file) and VERIFY_DONE.
TEST(Protocol, VerifyRoundTrips) {
  const auto one = std::get<VerifyRequest>(round_trip(VerifyRequest{0, 3, "emu0"}, Receiver::daemon));
  EXPECT_EQ(one.file_number, 3U);
  EXPECT_EQ(one.drive, "emu0");
  const auto all = std::get<VerifyRequest>(
      round_trip(VerifyRequest{TS_VERIFY_ALL | TS_VERIFY_PROGRESS, 0, "emu0"}, Receiver::daemon));
  EXPECT_EQ(all.flags, TS_VERIFY_ALL | TS_VERIFY_PROGRESS);

  Verified mismatch{3, 1000, 1, 1000, 1, TS_VERDICT_MISMATCH, TS_FILE_COMPLETE, Status::ok,
                    digest_of(1), digest_of(2), std::string(TS_MAX_MESSAGE, 'm')};
  const auto v = std::get<Verified>(round_trip(mismatch, Receiver::client));
  EXPECT_EQ(v.file_number, 3U);
  EXPECT_EQ(v.verdict, TS_VERDICT_MISMATCH);
  EXPECT_EQ(v.catalog_status, TS_FILE_COMPLETE);
  EXPECT_EQ(v.digest, digest_of(1));
  EXPECT_EQ(v.catalog_digest, digest_of(2));
  EXPECT_EQ(v.message.size(), TS_MAX_MESSAGE);
  Verified unreadable{4, 512, 1, 0, 0, TS_VERDICT_UNREADABLE, 0, Status::medium_error, {}, {}, ""};
  const auto u = std::get<Verified>(round_trip(unreadable, Receiver::client));
  EXPECT_EQ(u.condition, Status::medium_error);
  EXPECT_FALSE(u.digest);
  EXPECT_FALSE(u.catalog_digest);
  EXPECT_EQ(encode(unreadable, 1).value().size(), TS_PROTO_HEADER_SIZE + 114U);

  const auto done = std::get<VerifyDone>(
      round_trip(VerifyDone{5, 3, 1, 1, TS_VERIFY_DONE_END_OF_DATA}, Receiver::client));
  EXPECT_EQ(done.checked, 5U);
  EXPECT_EQ(done.bad, 1U);
  EXPECT_EQ(done.flags, TS_VERIFY_DONE_END_OF_DATA);
}

TEST(Protocol, VerifyFieldsOutOfRange) {
  // The encoder refuses what the decoder would: --all with a file, the current file, a flag.
  EXPECT_FALSE(encode(VerifyRequest{TS_VERIFY_ALL, 2, "emu0"}, 1));
  EXPECT_FALSE(encode(VerifyRequest{0, TS_READ_CURRENT_FILE, "emu0"}, 1));
  EXPECT_FALSE(encode(VerifyRequest{0x100, 0, "emu0"}, 1));
  EXPECT_FALSE(encode(Verified{0, 0, 0, 0, 0, TS_VERDICT_MAX + 1, 0, Status::ok, {}, {}, ""}, 1));
  EXPECT_FALSE(encode(Verified{0, 0, 0, 0, 0, TS_VERDICT_OK, 0, Status::medium_error, {}, {}, ""}, 1));
  EXPECT_FALSE(encode(VerifyDone{1, 1, 1, 0, 0}, 1));
  constexpr std::uint64_t half = std::uint64_t{1} << 63;
  EXPECT_FALSE(encode(VerifyDone{half, half, half, half, 0}, 1)) << "a sum that wraps to checked";
  EXPECT_FALSE(encode(Verified{0, 0, 0, 0, 0, TS_VERDICT_OK, 0, Status::ok, {}, {},
                               std::string(TS_MAX_MESSAGE + 1, 'x')}, 1));

  auto frame = encode(VerifyRequest{0, 1, "emu0"}, 1).value();
  auto header = decode_header(frame, Receiver::daemon, max_data).value();
  auto body = std::vector<std::uint8_t>(frame.begin() + TS_PROTO_HEADER_SIZE, frame.end());
  body[0] = TS_VERIFY_ALL;  // --all with file 1
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);
  body[0] = 0;
  body[4] = 1;  // reserved
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);
  // VERIFY is a request, VERIFIED and VERIFY_DONE replies.
  EXPECT_EQ(decode_header(frame, Receiver::client, max_data).error(), Status::bad_type);
  frame = encode(VerifyDone{}, 1).value();
  EXPECT_EQ(decode_header(frame, Receiver::daemon, max_data).error(), Status::bad_type);

  frame = encode(Verified{7, 0, 0, 0, 0, TS_VERDICT_OK, TS_FILE_COMPLETE, Status::ok, {}, {}, ""}, 1)
              .value();
  header = decode_header(frame, Receiver::client, max_data).value();
  body = std::vector<std::uint8_t>(frame.begin() + TS_PROTO_HEADER_SIZE, frame.end());
  body[40] = TS_VERDICT_MAX + 1;
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);
  body[40] = TS_VERDICT_OK;
  body[41] = TS_FILE_STATUS_MAX + 1;
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);
  body[41] = TS_FILE_COMPLETE;
  body[44] = TS_MEDIUM_ERROR;  // a condition with verdict ok
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);
  body[44] = 0;
  body[42] = 4;  // an unknown flag
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);
  body[42] = 0;
  body.pop_back();  // shorter than its message says
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_length);

  frame = encode(VerifyDone{2, 1, 1, 0, 0}, 1).value();
  header = decode_header(frame, Receiver::client, max_data).value();
  body = std::vector<std::uint8_t>(frame.begin() + TS_PROTO_HEADER_SIZE, frame.end());
  body[8] = 2;  // ok 2 + unrecorded 1 is more than 2 checked
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);
}

// Issue 12, item 3: CATALOG_REBUILD and CATALOG_REBUILT.
TEST(Protocol, CatalogRebuildRoundTrips) {
  const auto ask = std::get<CatalogRebuild>(
      round_trip(CatalogRebuild{TS_REBUILD_PROGRESS, "emu0"}, Receiver::daemon));
  EXPECT_EQ(ask.flags, TS_REBUILD_PROGRESS);
  EXPECT_EQ(ask.drive, "emu0");
  const CatalogRebuilt longest{9, 4, 2, TS_REBUILT_LABELLED, std::string(TS_MAX_VOLUME_TEXT, 's'),
                               std::string(TS_MAX_VOLUME_TEXT, 'l'), std::string(TS_MAX_VOLUME_TEXT, 'u')};
  const auto back = std::get<CatalogRebuilt>(round_trip(longest, Receiver::client));
  EXPECT_EQ(back.files, 9U);
  EXPECT_EQ(back.data_files, 4U);
  EXPECT_EQ(back.confirmed, 2U);
  EXPECT_EQ(back.uuid.size(), TS_MAX_VOLUME_TEXT);
  EXPECT_EQ(encode(CatalogRebuilt{}, 1).value().size(), TS_PROTO_HEADER_SIZE + 38U);

  EXPECT_FALSE(encode(CatalogRebuild{1, "emu0"}, 1));  // an unknown flag
  EXPECT_FALSE(encode(CatalogRebuilt{1, 2, 0, 0, "", "", ""}, 1));  // more data files than files
  EXPECT_FALSE(encode(CatalogRebuilt{2, 1, 2, 0, "", "", ""}, 1));  // more confirmed than data
  EXPECT_FALSE(encode(CatalogRebuilt{0, 0, 0, 4, "", "", ""}, 1));
  auto frame = encode(CatalogRebuild{0, "emu0"}, 1).value();
  EXPECT_EQ(decode_header(frame, Receiver::client, max_data).error(), Status::bad_type);
  auto header = decode_header(frame, Receiver::daemon, max_data).value();
  auto body = std::vector<std::uint8_t>(frame.begin() + TS_PROTO_HEADER_SIZE, frame.end());
  body[0] = 1;
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);

  // A VERIFIED digest the flags do not give must be zeros: one encoding per frame.
  frame = encode(Verified{7, 0, 0, 0, 0, TS_VERDICT_OK, TS_FILE_COMPLETE, Status::ok, {}, {}, ""}, 1)
              .value();
  header = decode_header(frame, Receiver::client, max_data).value();
  body = std::vector<std::uint8_t>(frame.begin() + TS_PROTO_HEADER_SIZE, frame.end());
  body[60] = 1;
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);
}
