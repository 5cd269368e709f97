// READ: a file of the tape to the client, block by block, by the socket (a DATA header, then
// the block straight from the registered buffer) or into a passed descriptor (FdSink), ended
// by END with the totals or STREAM_FAILED with what was delivered. A file read whole is checked
// against the catalog (catalog_check.hpp): the catalog is asked as the read starts, and only the
// final reply waits for its answer.
#pragma once

#include <memory>

#include "catalog/catalog.hpp"
#include "drive/read_stream.hpp"
#include "server/catalog_check.hpp"
#include "server/fd_data.hpp"
#include "server/shared_slots.hpp"
#include "server/stream_job.hpp"

namespace tapestream::server {

class ReadJob final : public StreamJob {
 public:
  ReadJob(JobHost& host, DriveSlot& slot, std::uint32_t request_id,
          const proto::ReadRequest& request, std::unique_ptr<FdSink> sink,
          catalog::Catalog* catalog);
  ~ReadJob() override;

  ReadJob* as_read() override { return this; }
  // Shared buffers: the client's RETURN frames are read while the blocks flow.
  bool by_shared_buffers() const { return (_request.flags & TS_READ_SHARED) != 0; }
  bool reads_frames() const override { return by_shared_buffers() && _phase == Phase::streaming; }
  // The client is done with a slot FILLED gave it; a slot it does not hold cuts the stream.
  void slot_returned(const proto::SlotReturn& returned);

  void client_gone() override;
  void cut_for_stop() override;
  bool idle() const override { return !_sending && (!_sink || _sink->idle()); }
  void sends_dropped() override { _sending = false; }

 private:
  void start() override;
  void begin_stream();
  void recorded(VolumeRecord record);
  void deliver(drive::StreamOutcome outcome);
  void ready();
  void pump();
  void pump_shared();
  bool moving_buffers() const override;
  void stop_mover() override;
  void report(const drive::StreamOutcome& outcome) override;
  drive::StreamProgress progress() const override { return _stream->progress(); }
  Sample stall_sample() const override;
  void stalled(const std::string& why) override;

  std::uint32_t _request_id;  // DATA frames carry it
  proto::ReadRequest _request;
  std::unique_ptr<FdSink> _sink;
  std::unique_ptr<SharedSlots> _slots;  // declared before the stream: it outlives its READs
  std::unique_ptr<drive::ReadStream> _stream;
  bool _sending = false;  // a block is in the send queue
  catalog::Catalog* _catalog;
  // The catalog's answer may come after this job is gone: it holds only a weak reference.
  std::shared_ptr<int> _alive = std::make_shared<int>(0);
  bool _asking = false;                   // the catalog has not answered yet
  std::optional<catalog::VolumeFiles> _record;
  std::optional<drive::StreamOutcome> _held;  // the outcome, until the catalog's answer is in
  std::optional<std::pair<drive::Ending, std::string>> _cut_early;  // before the stream began
};

}  // namespace tapestream::server
