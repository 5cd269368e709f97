#include "server/tape_scan.hpp"

namespace tapestream::server {
namespace {

catalog::FileStatus status_of(tape_label::TrailerStatus status) {
  switch (status) {
    case tape_label::TrailerStatus::complete:
      return catalog::FileStatus::complete;
    case tape_label::TrailerStatus::interrupted:
      return catalog::FileStatus::interrupted;
    case tape_label::TrailerStatus::failed:
      return catalog::FileStatus::failed;
  }
  return catalog::FileStatus::failed;
}

catalog::FileRow scanned_row(const ScannedTapeFile& f, catalog::TimePoint when) {
  catalog::FileRow row;
  row.file_number = f.file;
  row.bytes = f.bytes;
  row.blocks = f.blocks;
  row.block_size = f.largest_block;
  row.sha256 = f.sha256;
  row.start = when;
  row.status = f.failure.empty() ? catalog::FileStatus::scanned : catalog::FileStatus::failed;
  row.failure = f.failure.empty() ? std::string{} : "scan: " + f.failure;
  return row;
}

catalog::FileRow trailer_row(const ScannedTapeFile& f, const tape_label::Trailer& t) {
  catalog::FileRow row;
  row.file_number = f.file;
  row.label = t.label;
  row.bytes = t.bytes;
  row.blocks = t.blocks;
  row.block_size = t.block_size;
  row.fixed = t.fixed;
  row.padding = t.padding;
  row.sha256 = t.sha256;
  row.start = t.started;
  row.end = t.ended;
  row.client_uid = t.uid;
  row.status = status_of(t.status);
  return row;
}

// The trailer of `data` on the volume `uuid`, when `next` is one.
std::optional<tape_label::Trailer> trailer_of(const ScannedTapeFile& data,
                                              const ScannedTapeFile& next,
                                              const std::string& uuid) {
  if (!data.failure.empty() || !next.failure.empty() || !next.single_block) {
    return std::nullopt;
  }
  auto trailer = tape_label::parse_trailer(*next.single_block);
  if (!trailer ||
      !tape_label::describes(*trailer, uuid,
                             tape_label::ScannedFile{data.file, data.bytes, data.blocks, data.sha256})) {
    return std::nullopt;
  }
  return trailer;
}

}  // namespace

TapeContents interpret_scan(const std::vector<ScannedTapeFile>& files, catalog::TimePoint when) {
  TapeContents contents;
  std::size_t at = 0;
  if (!files.empty() && files[0].file == 0 && files[0].failure.empty() && files[0].single_block) {
    contents.volume = tape_label::parse_volume_label(*files[0].single_block);
    if (contents.volume) {
      at = 1;
    }
  }
  while (at < files.size()) {
    const auto& data = files[at];
    if (contents.volume && at + 1 < files.size() && files[at + 1].file == data.file + 1) {
      if (const auto trailer = trailer_of(data, files[at + 1], contents.volume->uuid)) {
        contents.data_files.push_back(trailer_row(data, *trailer));
        ++contents.confirmed;
        at += 2;
        continue;
      }
    }
    contents.data_files.push_back(scanned_row(data, when));
    ++at;
  }
  return contents;
}

}  // namespace tapestream::server
