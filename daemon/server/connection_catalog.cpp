// LIST_FILES: the catalog answers on its own thread, and the answer comes back to the control
// thread through its mailbox; a connection that left meanwhile is simply not found.
#include <spdlog/spdlog.h>

#include "server/catalog_record.hpp"
#include "server/connection.hpp"
#include "server/home.hpp"
#include "server/server.hpp"

namespace tapestream::server {

void Connection::list_files(const proto::ListFiles& m) {
  if (drive_for(m.drive) == nullptr) {
    return;
  }
  auto* catalog = _server.catalog();
  if (catalog == nullptr) {
    refuse(proto::Status::internal, "this daemon keeps no catalog (catalog = none)");
    return;
  }
  _phase = Phase::serving;
  _list_wait = true;
  auto mailbox = _server.catalog_answers();
  // The mailbox runs on the control thread, which may touch only its own home's connections;
  // a connection is there between requests, where LIST_FILES (which moves to no drive) is read.
  auto* home = &_server.control_home();
  const auto id = _id;
  const auto request_id = _request_id;
  catalog->list_files(
      catalog::VolumeQuery{m.drive, m.volume},
      [mailbox, home, id, request_id](Result<catalog::VolumeFiles, Failure> answer) {
        mailbox->post([home, id, request_id, answer = std::move(answer)] {
          if (auto* connection = home->find(id)) {
            connection->files_listed(request_id, answer);
          }
        });
      });
  _reader.read_more();  // a hang-up poll while the catalog answers
}

void Connection::files_listed(std::uint32_t request_id,
                              const Result<catalog::VolumeFiles, Failure>& answer) {
  if (!_list_wait || request_id != _request_id) {
    return;
  }
  _list_wait = false;
  if (_reader.closed()) {
    finish_request();
    return;
  }
  if (!answer) {
    const bool unknown = answer.error().code == std::errc::no_such_file_or_directory;
    refuse(unknown ? proto::Status::no_medium : proto::Status::internal, answer.error().what());
    return;
  }
  for (const auto& frame : file_list_frames(answer.value(), _span_list)) {
    reply(frame);
  }
  finish_request();
}

}  // namespace tapestream::server
