#include "server/catalog_check.hpp"

#include "base/sha256.hpp"
#include "server/catalog_record.hpp"
#include "server/home.hpp"

namespace tapestream::server {
namespace {

// Twelve hex digits and an ellipsis: enough to tell two digests apart in a message.
std::string prefix(const catalog::Digest& digest) {
  return base::to_hex(digest).substr(0, 12) + "\u2026";
}

std::string amount(std::uint64_t bytes, std::uint64_t blocks) {
  return std::to_string(bytes) + " bytes in " + std::to_string(blocks) + " blocks";
}

}  // namespace

void fetch_volume_record(catalog::Catalog* catalog, Home& home, drive::Drive& drive,
                         std::weak_ptr<void> alive, std::function<void()> serial_read,
                         std::function<void(VolumeRecord)> done) {
  auto mailbox = catalog != nullptr ? home.mailbox() : nullptr;
  if (!mailbox) {
    serial_read();
    done(VolumeRecord{});
    return;
  }
  read_medium_serial(drive, [catalog, mailbox, &drive, alive, serial_read = std::move(serial_read),
                             done = std::move(done)](std::optional<std::string> serial) mutable {
    if (alive.expired()) {
      return;
    }
    serial_read();
    if (!serial) {
      // Without a medium serial number the catalog knows the cartridge only as "the one last
      // written in this drive", which may be another: nothing is compared.
      done(VolumeRecord{});
      return;
    }
    catalog->list_files(
        catalog::VolumeQuery{drive.name(), *serial},
        [mailbox, alive = std::move(alive), done = std::move(done), serial](
            Result<catalog::VolumeFiles, Failure> answer) mutable {
          VolumeRecord record{serial, std::nullopt};
          if (answer) {
            record.files = std::move(answer.value());
          }
          mailbox->post([alive = std::move(alive), done = std::move(done),
                         record = std::move(record)]() mutable {
            if (!alive.expired()) {
              done(std::move(record));
            }
          });
        });
  });
}

const catalog::FileRow* newest_row(const catalog::VolumeFiles& volume, std::uint64_t file) {
  // The rows come by file number, then in the order they began.
  const catalog::FileRow* newest = nullptr;
  for (const auto& row : volume.files) {
    if (row.file_number == file) {
      newest = &row;
    }
  }
  return newest;
}

FileCheck check_read_back(const catalog::FileRow* row, const ReadBack& read) {
  // A scanned row's digest is what `catalog rebuild` read from this tape: a later difference is
  // damage as much as one from the written digest.
  if (row == nullptr || !row->sha256 ||
      (row->status != catalog::FileStatus::complete && row->status != catalog::FileStatus::scanned)) {
    return {};
  }
  const auto file = "file " + std::to_string(read.file) + ": ";
  const auto damaged = std::string{"; the tape's copy is damaged"};
  if (read.bytes != bytes_on_tape(*row) || read.blocks != row->blocks) {
    return {TS_VERDICT_MISMATCH, file + "read back " + amount(read.bytes, read.blocks) +
                                     ", written " + amount(bytes_on_tape(*row), row->blocks) +
                                     damaged};
  }
  if (read.digest && *read.digest != *row->sha256) {
    return {TS_VERDICT_MISMATCH, file + "read back sha256 " + prefix(*read.digest) +
                                     ", written " + prefix(*row->sha256) + damaged};
  }
  return {TS_VERDICT_OK, {}};
}

}  // namespace tapestream::server
