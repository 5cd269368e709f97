// The protocol codec: every message survives encoding and decoding, and every malformed frame
// is refused with the status code PROTOCOL.md gives, before any body byte is trusted.
#include <gtest/gtest.h>

#include "codec.hpp"
#include "proto_test_support.hpp"

using namespace tapestream::proto;
using namespace tapestream::proto_test;

namespace {

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
