// LABEL: makes the tape in a drive a labelled one (docs/TAPE_FORMAT.md). The job waits in the
// drive's line as a stream does, reads the cartridge's medium serial number and what the tape's
// beginning holds (volume_look.hpp), refuses a tape that holds data or a label unless forced
// (and then only for a client also permitted `destroy`), writes the volume label block and a
// filemark at the beginning, and tells the catalog that everything after it is gone.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "catalog/catalog.hpp"
#include "drive/label_block.hpp"
#include "server/stream_job.hpp"
#include "server/volume_look.hpp"

namespace tapestream::server {

class LabelJob final : public StreamJob {
 public:
  // `destroy_refusal` says why the client may not destroy on the drive (nullopt: it may).
  LabelJob(JobHost& host, DriveSlot& slot, const proto::LabelRequest& request,
           catalog::Catalog* catalog, std::function<std::optional<std::string>()> destroy_refusal);

  void client_gone() override;
  void cut_for_stop() override;
  bool idle() const override { return !_commanding; }

 private:
  void start() override;
  void looked(const VolumeLook& look);
  void write_label(const VolumeLook& look);
  void written(const drive::LabelStep& step, const VolumeLook& look);
  // The catalog's key of the volume the look found: the one a label written over it voids.
  catalog::VolumeKey volume_before(const VolumeLook& look) const;
  // Ends the request: with an ERROR unless the client is gone.
  void fail(proto::Status status, const std::string& message);
  // Nothing more happens on the drive: gives it to the next in line.
  bool gone_meanwhile();

  // A label job moves no data: the stream hooks have nothing to do.
  bool moving_buffers() const override { return false; }
  void stop_mover() override {}
  void report(const drive::StreamOutcome&) override {}
  drive::StreamProgress progress() const override { return {}; }
  Sample stall_sample() const override { return {0, false}; }
  void stalled(const std::string&) override {}

  proto::LabelRequest _request;
  catalog::Catalog* _catalog;
  std::function<std::optional<std::string>()> _destroy_refusal;
  std::optional<std::string> _medium_serial;
  std::uint64_t _epoch = 0;  // the drive's medium epoch when the job began to look at the tape
  tape_label::VolumeLabel _volume;
  bool _commanding = false;  // a command of the job is with the drive: the job must outlive it
  bool _gone = false;
};

}  // namespace tapestream::server
