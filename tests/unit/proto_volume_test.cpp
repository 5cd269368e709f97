// The codec's volume and catalog messages: LIST_FILES and FILE_LIST, LABEL and LABELLED,
// VERIFY, VERIFIED and VERIFY_DONE, CATALOG_REBUILD and CATALOG_REBUILT: every one survives
// encoding and decoding, and every field out of range is refused.
#include <gtest/gtest.h>

#include "codec.hpp"
#include "proto_test_support.hpp"

using namespace tapestream::proto;
using namespace tapestream::proto_test;

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

// Issue 15 item 2: FILE_LIST's span fields, only with TS_FILE_LIST_SPAN; a first part with an
// offset, or a part without its stream, is bad_request.
TEST(Protocol, FileListSpanFields) {
  FileList list;
  list.flags = TS_FILE_LIST_SPAN;
  FileEntry f;
  f.status = TS_FILE_COMPLETE;
  f.span_stream = 12;
  f.span_part = 3;
  f.span_offset = 1000;
  list.files.push_back(f);
  const auto back = std::get<FileList>(round_trip(list, Receiver::client));
  EXPECT_EQ(back.flags, TS_FILE_LIST_SPAN);
  EXPECT_EQ(back.files[0].span_stream, 12U);
  EXPECT_EQ(back.files[0].span_part, 3U);
  EXPECT_EQ(back.files[0].span_offset, 1000U);

  auto frame = encode(list, 1).value();
  auto body = std::vector<std::uint8_t>(frame.begin() + TS_PROTO_HEADER_SIZE, frame.end());
  const auto header = decode_header(frame, Receiver::client, max_data).value();
  const std::size_t span_at = body.size() - 24;
  body[span_at + 8] = 1;  // part 1 at offset 1000
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);
  body[span_at + 8] = 3;
  std::fill(body.begin() + static_cast<std::ptrdiff_t>(span_at),
            body.begin() + static_cast<std::ptrdiff_t>(span_at) + 8, 0);  // no stream
  EXPECT_EQ(decode_body(header, body).error(), Status::bad_request);
  // Without the flag the same fields would be bytes beyond the body.
  list.flags = 0;
  EXPECT_FALSE(encode(list, 1));
}
