// CHANGER_STATUS and CHANGER_MOVE: checked on the thread the connection is on (a move that
// names a drive is on that drive's home, so the drive's state is read where it lives), run on
// the changer's thread one job at a time, and answered through this home's mailbox. A drive
// gives its cartridge up only after its own worker has unloaded the tape (LOAD UNLOAD, load=0):
// the changer thread never commands a drive.
#include <spdlog/spdlog.h>


#include "server/changer_worker.hpp"
#include "server/connection.hpp"
#include "server/home.hpp"
#include "server/server.hpp"
#include "server/status_map.hpp"

namespace tapestream::server {

ChangerWorker* Connection::changer_for(const std::string& library) {
  const auto& changers = _server.changers();
  if (changers.empty()) {
    refuse(proto::Status::unknown_drive, "this daemon serves no library (--library)");
    return nullptr;
  }
  if (library.empty()) {
    if (changers.size() == 1) {
      return changers.begin()->second;
    }
    std::string names;
    for (const auto& [name, changer] : changers) {
      names += (names.empty() ? "" : ", ") + name;
    }
    refuse(proto::Status::bad_request, "this daemon serves several libraries: name one of " + names);
    return nullptr;
  }
  const auto found = changers.find(library);
  if (found == changers.end()) {
    refuse(proto::Status::unknown_drive, "no library named \"" + library + "\"");
    return nullptr;
  }
  return found->second;
}

void Connection::changer_status(const proto::ChangerStatus& m) {
  if (auto* changer = changer_for(m.library)) {
    post_changer(*changer, nullptr);
  }
}

void Connection::changer_move(const proto::ChangerMove& m) {
  auto* changer = changer_for(m.library);
  if (changer == nullptr) {
    return;
  }
  if (m.op == TS_CHANGER_TRANSFER) {
    post_changer(*changer, &m);
    return;
  }
  if (!changer->holds_drive(m.drive)) {
    refuse(proto::Status::bad_request,
           "drive " + m.drive + " is not a drive of library " + changer->name());
    return;
  }
  auto* slot = drive_for(m.drive);
  if (slot == nullptr) {
    return;
  }
  if (slot->wanted_by_stream()) {
    refuse(proto::Status::busy, "drive " + m.drive + " is in use by a stream: its cartridge stays");
    return;
  }
  if (slot->busy()) {
    refuse(proto::Status::busy, "drive " + m.drive + " is held by another client: its cartridge stays");
    return;
  }
  // Held through the move, so that no stream starts on a tape that is leaving or arriving.
  _control_slot = slot;
  _control_lease = slot->join(DriveSlot::Owner::control, _peer.uid);
  if (m.op == TS_CHANGER_LOAD) {
    post_changer(*changer, &m);
    return;
  }
  unload_for_changer(*changer, m, false);
}

// The drive's worker unloads the tape before the robot takes the cartridge. A cartridge the robot
// has just brought answers its first command with UNIT ATTENTION (NOT READY TO READY CHANGE):
// the drive reports medium_changed and has not unloaded; the attention is then spent, so the
// unload is asked once more (mtx's "load 1 0 unload 1 0" does exactly this).
void Connection::unload_for_changer(ChangerWorker& changer, const proto::ChangerMove& m,
                                    bool after_unit_attention) {
  auto* slot = _control_slot;
  auto unload = drive::prepare_control(
      to_control(proto::ControlRequest{proto::ControlOp::eject, 0, 0, m.drive}),
      slot->drive().identity());
  if (!unload) {
    (void)_control_lease.end();
    _control_slot = nullptr;
    refuse(proto::Status::internal, unload.error().what());
    return;
  }
  _phase = Phase::serving;
  ++_control_in_flight;
  auto* library = &changer;
  slot->drive().control(std::move(unload).value(),
                        [this, library, m, after_unit_attention](const drive::ControlOutcome& outcome) {
                          --_control_in_flight;
                          if (_reader.closed()) {
                            (void)_control_lease.end();
                            _control_slot = nullptr;
                            finish_request();
                            return;
                          }
                          if (outcome.ending == drive::Ending::medium_changed && !after_unit_attention) {
                            unload_for_changer(*library, m, true);
                            return;
                          }
                          // An empty drive has nothing to unload: the changer says so next.
                          if (outcome.ending != drive::Ending::complete &&
                              outcome.ending != drive::Ending::no_medium) {
                            (void)_control_lease.end();
                            _control_slot = nullptr;
                            refuse(to_status(outcome.ending),
                                   "drive " + m.drive + " did not unload its tape: " + outcome.message);
                            return;
                          }
                          post_changer(*library, &m);
                        });
  _reader.read_more();  // a hang-up poll while the drive unloads
}

void Connection::post_changer(ChangerWorker& changer, const proto::ChangerMove* move) {
  auto mailbox = _home->mailbox();
  if (!mailbox) {
    (void)_control_lease.end();
    _control_slot = nullptr;
    refuse(proto::Status::internal, "no mailbox for the changer's answer (see the daemon's log)");
    return;
  }
  _phase = Phase::serving;
  _changer_wait = true;
  auto* home = _home;
  const auto id = _id;
  const auto request_id = _request_id;
  std::optional<proto::ChangerMove> what;
  if (move != nullptr) {
    what = *move;
  }
  changer.post([mailbox, home, id, request_id, what](const ChangerContext& context) {
    auto answer = what ? server::changer_move(context, *what) : changer_inventory(context);
    mailbox->post([home, id, request_id, answer = std::move(answer)] {
      if (auto* connection = home->find(id)) {
        connection->changer_answered(request_id, answer);
      }
    });
  });
  _reader.read_more();  // a hang-up poll while the changer works
}

void Connection::changer_answered(std::uint32_t request_id, const ChangerAnswer& answer) {
  if (!_changer_wait || request_id != _request_id) {
    return;
  }
  _changer_wait = false;
  (void)_control_lease.end();
  _control_slot = nullptr;
  if (_reader.closed()) {
    finish_request();
    return;
  }
  if (answer.status != proto::Status::ok) {
    refuse(answer.status, answer.message);
    return;
  }
  for (const auto& frame : answer.frames) {
    reply(frame);
  }
  if (answer.moved) {
    reply(*answer.moved);
  }
  finish_request();
}

}  // namespace tapestream::server
