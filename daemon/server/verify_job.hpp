// VERIFY: files of the tape read in the daemon, their data consumed at once and never sent,
// each checked against the catalog (catalog_check.hpp) and reported as a VERIFIED frame; one
// file, or every file from file 0 to end of data. The job takes the drive as a READ does, and
// reads each file with a drive::ReadStream of its own. CATALOG_REBUILD is the same scan of every
// file, whose findings (tape_scan.hpp) replace the volume's rows in the catalog.
#pragma once

#include <memory>
#include <optional>

#include "base/sha256.hpp"
#include "catalog/catalog.hpp"
#include "drive/read_stream.hpp"
#include "server/catalog_check.hpp"
#include "server/tape_scan.hpp"
#include "server/stream_job.hpp"

namespace tapestream::server {

// A tape whose end of data is never found (a drive that answers every LOCATE) is not read
// forever: VERIFY --all stops after this many files.
inline constexpr std::uint64_t verify_max_files = 1'000'000;

class VerifyJob final : public StreamJob {
 public:
  VerifyJob(JobHost& host, DriveSlot& slot, const proto::VerifyRequest& request,
            catalog::Catalog* catalog);
  VerifyJob(JobHost& host, DriveSlot& slot, const proto::CatalogRebuild& request,
            catalog::Catalog* catalog);
  ~VerifyJob() override;

  void client_gone() override;
  void cut_for_stop() override;
  bool idle() const override { return true; }  // no buffer of the connection is used

 private:
  void start() override;
  void recorded(VolumeRecord record);
  // Reads `_file` with a new stream; called from the mailbox, so that the stream before is
  // never destroyed inside its own callback.
  void next_file();
  void later(std::function<void()> work);
  void consume();
  void file_read(const drive::StreamOutcome& outcome);
  void report_file(const drive::StreamOutcome& outcome);
  void scanned(const drive::StreamOutcome& outcome);
  void finish(std::uint32_t flags);
  void finish_rebuild(std::uint32_t flags);
  void fail(proto::Status status, const std::string& message, drive::Ending ending);

  bool moving_buffers() const override { return false; }
  void stop_mover() override {}
  void report(const drive::StreamOutcome&) override {}
  drive::StreamProgress progress() const override;
  Sample stall_sample() const override { return {0, false}; }  // the client moves no data
  void stalled(const std::string&) override {}

  proto::VerifyRequest _request;
  bool _rebuild = false;
  catalog::Catalog* _catalog;
  std::optional<std::string> _medium_serial;
  std::shared_ptr<int> _alive = std::make_shared<int>(0);
  std::optional<catalog::VolumeFiles> _record;
  std::uint64_t _file = 0;
  std::unique_ptr<drive::ReadStream> _stream;
  bool _positioned = false;  // the current stream reached its file
  // Of a fixed-block file's own bytes, without the padding its row records (the stream's
  // digest covers the padding too); only for such a file.
  std::optional<base::Sha256> _unpadded;
  std::uint64_t _unpadded_left = 0;
  proto::VerifyDone _done;
  std::optional<std::pair<drive::Ending, std::string>> _cut;  // the owner's reason to stop
  // Rebuild: every file as the scan found it, and the current file's shape.
  std::vector<ScannedTapeFile> _scan;
  std::uint32_t _largest_block = 0;
  std::optional<std::vector<std::uint8_t>> _single_block;
  std::uint64_t _blocks_seen = 0;
};

}  // namespace tapestream::server
