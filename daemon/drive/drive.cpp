#include "drive/drive.hpp"

#include "scsi/cdb.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/position.hpp"

namespace tapestream::drive {
namespace {

// Where a READ POSITION says the tape stands: empty when the command failed or its answer
// does not parse.
std::optional<TapePosition> position_in(scsi::cdb::ReadPositionForm form, const CommandResult& r) {
  if (r.classification.condition != scsi::TapeCondition::good) {
    return std::nullopt;
  }
  auto p = scsi::parse_read_position(form, r.data);
  return p ? std::optional{TapePosition::from(p.value())} : std::nullopt;
}

std::string position_text(const TapePosition& p) {
  return (p.file_number ? "file " + std::to_string(*p.file_number) + ", " : std::string{}) +
         "block " + std::to_string(p.block_number);
}

}  // namespace

Drive::Drive(std::string name, std::unique_ptr<transport::ScsiTransport> transport,
             uring::BufferPool& pool, std::vector<std::uint16_t> stream_buffers,
             std::uint16_t control_buffer, scsi::TimeoutTable timeouts)
    : _name{std::move(name)},
      _transport{std::move(transport)},
      _pool{pool},
      _stream_buffers{std::move(stream_buffers)},
      _control_buffer{control_buffer},
      _timeouts{std::move(timeouts)},
      _commands{_transport, pool, control_buffer, _timeouts} {}

std::uint64_t Drive::refresh_state(std::function<void()> done) {
  const auto ticket = ++_tickets;
  _state_waiters.emplace(ticket, std::move(done));
  if (_refreshing) {
    return ticket;
  }
  _refreshing = true;
  const auto form = _identity.positioning.position_form();
  _commands.run(scsi::cdb::read_position(form), [this, form](const CommandResult& r) {
    KnownState state;
    state.position = position_in(form, r);
    if (state.position) {
      _failed = false;  // the drive answers where the tape stands again
    }
    state.no_medium = r.classification.condition == scsi::TapeCondition::no_medium;
    _commands.run_next(scsi::cdb::mode_sense6(0x0F), [this, state](const CommandResult& mode) mutable {
      if (mode.classification.condition == scsi::TapeCondition::good) {
        if (auto parsed = scsi::parse_mode_sense6(mode.data)) {
          const auto& p = parsed.value();
          state.write_protected = p.header.write_protected;
          if (!p.block_descriptors.empty()) {
            state.block_size = p.block_descriptors.front().block_length;
            state.density_code = p.block_descriptors.front().density_code;
          }
          if (const auto* page = p.find_page(scsi::DataCompressionPage::code)) {
            if (auto c = scsi::DataCompressionPage::from(*page); c && c.value().compression_enabled()) {
              state.compression = true;
            }
          }
        }
      }
      state_refreshed(state);
    });
  });
  return ticket;
}

void Drive::state_refreshed(KnownState state) {
  state.when = std::chrono::steady_clock::now();
  _known = state;
  _refreshing = false;
  auto waiters = std::move(_state_waiters);
  _state_waiters.clear();
  for (auto& [ticket, done] : waiters) {
    done();
  }
}

DriveState Drive::state() const {
  if (_activity != Activity::idle) {
    return _activity == Activity::writing ? DriveState::writing : DriveState::reading;
  }
  if (_failed) {
    return DriveState::failed;
  }
  if (_known.no_medium) {
    return DriveState::no_medium;
  }
  if (!_known.position || !_transport.position_trusted()) {
    return DriveState::loaded;
  }
  return _known.position->early_warning ? DriveState::at_early_warning : DriveState::positioned;
}

std::unique_ptr<WriteStream> Drive::write_stream(WriteStream::Options options,
                                                 WriteStream::Done done) {
  options.positioning = _identity.positioning;
  options.position_trusted = _transport.position_trusted();
  stream_began(true);
  return std::make_unique<WriteStream>(_transport, _pool, _timeouts, _stream_buffers, options,
                                       std::move(done));
}

std::unique_ptr<ReadStream> Drive::read_stream(ReadStream::Done done) {
  stream_began(false);
  return std::make_unique<ReadStream>(_transport, _pool, _timeouts, _stream_buffers,
                                      _identity.positioning, std::move(done));
}

void Drive::stream_began(bool writing) {
  _activity = writing ? Activity::writing : Activity::reading;
}

void Drive::stream_ended(Ending ending) {
  _activity = Activity::idle;
  learned(ending);
}

// What an ending says of the drive: a failure of the drive or its medium stays until a command
// succeeds again; a missing cartridge is remembered until the next answer.
void Drive::learned(Ending ending) {
  switch (ending) {
    case Ending::drive_error:
    case Ending::medium_error:
    case Ending::timeout:
      _failed = true;
      break;
    case Ending::no_medium:
      _failed = false;
      _known.no_medium = true;
      _known.position.reset();
      break;
    case Ending::complete:
    case Ending::end_of_data:
    case Ending::volume_full:
      _failed = false;
      _known.no_medium = false;
      break;
    default:
      break;  // the client's doing, or the daemon's: nothing learned of the drive
  }
}

void Drive::control(PreparedControl operation, std::function<void(const ControlOutcome&)> user_done) {
  // Every outcome teaches the drive's state something; the position it reports is the freshest
  // the drive has given.
  auto done = [this, user_done = std::move(user_done)](const ControlOutcome& outcome) {
    learned(outcome.ending);
    if (outcome.position) {
      _known.position = outcome.position;
    } else if (outcome.ending == Ending::complete) {
      _known.position.reset();  // an unload: the drive has no position to give
    }
    user_done(outcome);
  };
  if (!operation.command) {
    report_position(operation.request, std::move(done), false);
    return;
  }
  const auto command = *operation.command;
  _commands.run(
      command,
      [this, request = operation.request, done = std::move(done)](const CommandResult& r) mutable {
        const auto condition = r.classification.condition;
        if (condition == scsi::TapeCondition::good) {
          report_position(request, std::move(done), true);
          return;
        }
        ControlOutcome failed;
        failed.condition = condition;
        failed.timed_out = r.result.timed_out;
        failed.residue = r.classification.residue;
        // Running into a filemark, end of data or the beginning of the tape is where the
        // tape ends for the operation, not a failure of the drive.
        failed.ending = condition == scsi::TapeCondition::end_of_data ||
                                condition == scsi::TapeCondition::beginning_of_medium ||
                                condition == scsi::TapeCondition::filemark
                            ? Ending::end_of_data
                            : ending_for(r.classification, r.result.timed_out);
        failed.message = "the drive answered " + std::string{scsi::condition_name(condition)};
        if (failed.residue) {
          failed.message += "; " + std::to_string(*failed.residue) + " not done";
        }
        if (failed.timed_out) {
          done(failed);  // the drive may still be busy with it: asking now would wait as long
          return;
        }
        position_after_failure(std::move(failed), std::move(done));
      },
      std::move(operation.parameters));
}

// Where a failed operation left the tape (a SPACE stopped at a filemark, a LOCATE that did not
// get there), asked right after its command, so that the client hears it with the failure.
void Drive::position_after_failure(ControlOutcome failed,
                                   std::function<void(const ControlOutcome&)> done) {
  const auto form = _identity.positioning.position_form();
  _commands.run_next(scsi::cdb::read_position(form), [form, failed = std::move(failed),
                                                      done = std::move(done)](const CommandResult& r) mutable {
    failed.position = position_in(form, r);
    failed.message += failed.position ? "; the tape stands at " + position_text(*failed.position)
                                      : "; where the tape stands is not known";
    done(failed);
  });
}

// The position after an operation; a drive that cannot say (no cartridge after an unload)
// leaves it empty, which only `tell` counts as a failure.
void Drive::report_position(const ControlRequest& request,
                            std::function<void(const ControlOutcome&)> done, bool follow_up) {
  const auto form = _identity.positioning.position_form();
  auto then = [form, request, done = std::move(done)](const CommandResult& r) {
    ControlOutcome outcome;
    outcome.position = position_in(form, r);
    if (outcome.position) {
      outcome.compression_enabled = request.op == ControlOp::compression && request.argument == 1;
    } else if (request.op == ControlOp::tell) {
      outcome.condition = r.classification.condition;
      outcome.timed_out = r.result.timed_out;
      outcome.ending = r.classification.condition == scsi::TapeCondition::good
                           ? Ending::drive_error
                           : ending_for(r.classification, r.result.timed_out);
      outcome.message = "the drive does not say where the tape stands: " +
                        std::string{scsi::condition_name(r.classification.condition)};
    }
    done(outcome);
  };
  if (follow_up) {  // right after the operation's command, before anything queued meanwhile
    _commands.run_next(scsi::cdb::read_position(form), std::move(then));
  } else {
    _commands.run(scsi::cdb::read_position(form), std::move(then));
  }
}

}  // namespace tapestream::drive
