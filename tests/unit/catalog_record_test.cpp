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
  const auto frames = file_list_frames(volume);
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
  const auto empty = file_list_frames(catalog::VolumeFiles{});
  ASSERT_EQ(empty.size(), 1U);
  EXPECT_TRUE(empty[0].files.empty());
}

}  // namespace
}  // namespace tapestream::server
