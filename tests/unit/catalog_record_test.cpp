// Between the drive's terms and the catalog's: endings as file statuses, and a volume's files
// as FILE_LIST frames that the codec accepts, 64 to a frame.
#include <gtest/gtest.h>

#include "server/catalog_record.hpp"

namespace tapestream::server {
namespace {

TEST(CatalogRecord, EndingsBecomeFileStatuses) {
  using drive::Ending;
  using catalog::FileStatus;
  EXPECT_EQ(file_status_for(Ending::complete), FileStatus::complete);
  for (auto e : {Ending::client_gone, Ending::incomplete, Ending::bad_end, Ending::stalled,
                 Ending::shutting_down, Ending::internal}) {
    EXPECT_EQ(file_status_for(e), FileStatus::interrupted) << drive::ending_name(e);
  }
  for (auto e : {Ending::volume_full, Ending::medium_error, Ending::write_protected,
                 Ending::drive_error, Ending::timeout, Ending::medium_changed}) {
    EXPECT_EQ(file_status_for(e), FileStatus::failed) << drive::ending_name(e);
  }
}

TEST(CatalogRecord, LongListsGoInFramesOf64ThatEncode) {
  catalog::VolumeFiles volume;
  volume.volume.medium_serial = "EMUTAPE001";
  for (std::uint64_t i = 0; i < 130; ++i) {
    catalog::FileRow f;
    f.file_number = i;
    f.status = catalog::FileStatus::complete;
    f.label = std::string(400, 'l');  // longer than the protocol carries: cut, not refused
    f.failure = std::string(2000, 'f');
    volume.files.push_back(f);
  }
  const auto frames = file_list_frames(volume, false);
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_EQ(frames[0].files.size(), 64U);
  EXPECT_EQ(frames[2].files.size(), 2U);
  EXPECT_EQ(frames[0].flags, TS_FILE_LIST_MORE);
  EXPECT_EQ(frames[1].flags, TS_FILE_LIST_MORE);
  EXPECT_EQ(frames[2].flags, 0U);
  EXPECT_EQ(frames[2].files[1].file_number, 129U);
  for (const auto& frame : frames) {
    EXPECT_TRUE(proto::encode(frame, 1));
  }
  const auto empty = file_list_frames(catalog::VolumeFiles{}, false);
  ASSERT_EQ(empty.size(), 1U);
  EXPECT_TRUE(empty[0].files.empty());
}

// Issue 15 item 2: a client granted `span_list` hears each part's stream, index and offset;
// one that was not hears the frames of before, byte for byte (no flag, no fields).
TEST(CatalogRecord, SpanFieldsOnlyForAClientThatAsked) {
  catalog::VolumeFiles volume;
  catalog::FileRow plain;
  plain.status = catalog::FileStatus::complete;
  catalog::FileRow part = plain;
  part.file_number = 1;
  part.span_stream = 7;
  part.span_part = 2;
  part.span_offset = 54525952;
  part.span_last = true;
  catalog::FileRow bad = part;  // a first part with an offset: listed as no part
  bad.file_number = 2;
  bad.span_part = 1;
  volume.files = {plain, part, bad};
  const auto with = file_list_frames(volume, true);
  ASSERT_EQ(with.size(), 1U);
  EXPECT_EQ(with[0].flags, TS_FILE_LIST_SPAN);
  EXPECT_EQ(with[0].files[0].span_part, 0U);
  EXPECT_EQ(with[0].files[1].span_stream, 7U);
  EXPECT_EQ(with[0].files[1].span_part, 2U);
  EXPECT_EQ(with[0].files[1].span_offset, 54525952U);
  EXPECT_EQ(with[0].files[2].span_part, 0U);
  const auto frame = proto::encode(with[0], 1);
  ASSERT_TRUE(frame);
  const auto header = proto::decode_header(frame.value(), proto::Receiver::client, 1U << 20).value();
  const auto decoded = proto::decode_body(
      header, {frame.value().data() + TS_PROTO_HEADER_SIZE, frame.value().size() - TS_PROTO_HEADER_SIZE});
  ASSERT_TRUE(decoded);
  const auto& list = std::get<proto::FileList>(decoded.value());
  EXPECT_EQ(list.files[1].span_offset, 54525952U);
  EXPECT_EQ(list.files[1].span_stream, 7U);
  EXPECT_EQ(list.files[1].span_flags, TS_SPAN_LAST);
  EXPECT_EQ(list.files[2].span_flags, 0U);
  // Span flags other than TS_SPAN_LAST, or any on a file that is no part, do not decode.
  for (const auto& [entry, flags] : {std::pair{1, 2U}, std::pair{0, TS_SPAN_LAST}}) {
    auto odd = with[0];
    odd.files[static_cast<std::size_t>(entry)].span_flags = flags;
    EXPECT_FALSE(proto::encode(odd, 1)) << "entry " << entry << " flags " << flags;
  }

  const auto without = file_list_frames(volume, false);
  EXPECT_EQ(without[0].flags, 0U);
  EXPECT_EQ(without[0].files[1].span_part, 0U);
  const auto old = proto::encode(without[0], 1);
  ASSERT_TRUE(old);
  EXPECT_EQ(old.value().size() + 3 * 24, frame.value().size());
  // A span field without the frame's flag cannot be sent to a client that did not ask.
  auto leaked = without[0];
  leaked.files[1].span_part = 2;
  EXPECT_FALSE(proto::encode(leaked, 1));
}

}  // namespace
}  // namespace tapestream::server
