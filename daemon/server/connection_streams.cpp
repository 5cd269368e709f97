// WRITE, READ, VERIFY and LABEL are checked here; a job (write_job.hpp, read_job.hpp,
// verify_job.hpp, label_job.hpp) runs them.
#include <algorithm>

#include "server/changer_worker.hpp"
#include "server/connection.hpp"
#include "server/home.hpp"
#include "server/label_job.hpp"
#include "server/read_job.hpp"
#include "server/server.hpp"
#include "server/verify_job.hpp"
#include "server/write_job.hpp"

namespace tapestream::server {

void Connection::write(const proto::WriteRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  if ((m.flags & TS_WRITE_SHARED) != 0 && !_shared_buffers) {
    refuse(proto::Status::bad_request, "shared buffers were not agreed in HELLO", false);
    return;
  }
  if ((m.flags & TS_WRITE_NO_DIGEST) != 0 && !_no_digest) {
    refuse(proto::Status::bad_request, "a stream without digest (WRITE flag 128) was not agreed in HELLO",
           false);
    return;
  }
  auto data_fd = claim_passed_fd((m.flags & TS_WRITE_FD) != 0, true);
  if (!data_fd) {
    return;
  }
  // The limit counts the 4 bytes of CRC32C a protected block carries; a default block size
  // is brought within it rather than refused.
  const auto limit = slot->drive().max_data_block();
  const auto block = m.block_size == 0 ? std::min(_server.options().default_block_size, limit)
                                       : m.block_size;
  if (block > limit || block == 0) {
    const bool protection = slot->drive().protection() != drive::Protection::off &&
                            slot->drive().identity().offers_crc32c;
    refuse(proto::Status::bad_request,
           "block size " + std::to_string(block) + " is larger than " + std::to_string(limit) +
               ", the largest the daemon's buffers and the drive take" +
               (protection ? " with the 4-byte CRC32C of Logical Block Protection" : ""),
           false);
    return;
  }
  if (_server.stopping()) {
    refuse(proto::Status::shutting_down, "the daemon is stopping", false);
    return;
  }
  if ((m.flags & TS_WRITE_APPEND) == 0 && !slot->drive().identity().positioning.long_position) {
    refuse(proto::Status::bad_request,
           "this drive reports no file numbers (no READ POSITION long form), so a stream "
           "written where the tape stands could not say which file it is; append instead",
           false);
    return;
  }
  if (slot->busy() && (m.flags & TS_WRITE_NO_WAIT) != 0) {
    refuse(proto::Status::busy, "drive " + slot->name() + " is in use", false);
    return;
  }
  auto request = m;
  request.block_size = block;
  auto job = std::make_unique<WriteJob>(
      as_host(), *slot, request,
      *data_fd ? std::make_unique<FdSource>(ring(), std::move(*data_fd)) : nullptr,
      StreamRecord{_server.catalog(), _server.next_stream_number(), slot->name(), _peer.uid});
  job->watch_tape_alerts(_server.options().tape_alert_interval);
  if ((m.flags & TS_WRITE_SPAN) != 0 && !let_span(*job, *slot, (m.flags & TS_WRITE_FD) != 0)) {
    return;  // refused; the job never began
  }
  start_job(std::move(job));
}

// A stream spans volumes: on a drive of a library its changer brings the next one; on any
// other drive an autoloader in sequential mode or an operator does, within --volume-wait.
bool Connection::let_span(WriteJob& job, DriveSlot& slot, bool by_descriptor) {
  if (by_descriptor) {
    refuse(proto::Status::bad_request,
           "a stream that spans volumes takes its data by the socket (DATA), not by a passed "
           "descriptor",
           false);
    return false;
  }
  ChangerWorker* changer = nullptr;
  for (const auto& [name, candidate] : _server.changers()) {
    if (candidate->holds_drive(slot.name())) {
      changer = candidate;
    }
  }
  auto mailbox = _home->mailbox();
  if (!mailbox) {
    refuse(proto::Status::internal, "no mailbox for the changer's answers (see the daemon's log)",
           false);
    return false;
  }
  auto& server = _server;
  job.span_with(WriteJob::Spanning{changer, std::move(mailbox),
                                   [&server] { return server.next_stream_number(); },
                                   server.options().volume_wait});
  return true;
}

void Connection::read(const proto::ReadRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  if ((m.flags & TS_READ_SHARED) != 0 && !_shared_buffers) {
    refuse(proto::Status::bad_request, "shared buffers were not agreed in HELLO", false);
    return;
  }
  auto out_fd = claim_passed_fd((m.flags & TS_READ_FD) != 0, false);
  if (!out_fd) {
    return;
  }
  if (_server.stopping()) {
    refuse(proto::Status::shutting_down, "the daemon is stopping", false);
    return;
  }
  start_job(std::make_unique<ReadJob>(
      as_host(), *slot, _request_id, m,
      *out_fd ? std::make_unique<FdSink>(ring(), std::move(*out_fd)) : nullptr, _server.catalog()));
}

void Connection::verify(const proto::VerifyRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  if (_server.stopping()) {
    refuse(proto::Status::shutting_down, "the daemon is stopping", false);
    return;
  }
  start_job(std::make_unique<VerifyJob>(as_host(), *slot, m, _server.catalog()));
}

void Connection::catalog_rebuild(const proto::CatalogRebuild& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  if (_server.catalog() == nullptr) {
    refuse(proto::Status::internal, "this daemon keeps no catalog (catalog = none)", false);
    return;
  }
  if (_server.stopping()) {
    refuse(proto::Status::shutting_down, "the daemon is stopping", false);
    return;
  }
  start_job(std::make_unique<VerifyJob>(as_host(), *slot, m, _server.catalog()));
}

// The name is checked before the drive is waited for: a bad one costs no place in line.
void Connection::label(const proto::LabelRequest& m) {
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  if (const auto refused = tape_label::name_refused(m.name)) {
    refuse(proto::Status::bad_request, "the volume name is refused: " + *refused, false);
    return;
  }
  if (_server.stopping()) {
    refuse(proto::Status::shutting_down, "the daemon is stopping", false);
    return;
  }
  auto destroy_refusal = [this, drive = m.drive]() {
    return _server.options().access.refusal(_peer, AccessClass::destroy, drive);
  };
  start_job(std::make_unique<LabelJob>(as_host(), *slot, m, _server.catalog(),
                                       std::move(destroy_refusal)));
}

}  // namespace tapestream::server
