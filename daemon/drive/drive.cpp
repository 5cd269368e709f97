#include "drive/drive.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <memory>

#include "scsi/attribute.hpp"
#include "scsi/cdb.hpp"
#include "scsi/log_pages.hpp"
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

// A LOG SENSE page from a command that went well, or nothing.
std::optional<scsi::LogPage> log_page_in(const CommandResult& r) {
  if (r.classification.condition != scsi::TapeCondition::good) {
    return std::nullopt;
  }
  auto page = scsi::parse_log_page(r.data);
  return page ? std::optional{std::move(page).value()} : std::nullopt;
}

// At most this many file starts are remembered: a drive positioned among more files than that
// reports the block within the file as not known for the ones forgotten.
constexpr std::size_t max_file_starts = 4096;

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
      _commands{_transport, pool, control_buffer, _timeouts} {
  // A write stream's own commands (READ POSITION, MODE SELECT, MODE SENSE) need a buffer that
  // neither its producer (a receive may still land after a cut) nor the control queue (STATUS
  // refreshes run while streams do) writes into: the last of the stream buffers, kept for that
  // alone.
  if (_stream_buffers.size() >= 2) {
    _stream_command_buffer = _stream_buffers.back();
    _stream_buffers.pop_back();
  }
}

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
            state.density_known = true;
          }
          if (const auto* page = p.find_page(scsi::DataCompressionPage::code)) {
            if (auto c = scsi::DataCompressionPage::from(*page); c && c.value().compression_enabled()) {
              state.compression = true;
            }
          }
        }
      }
      refresh_health(std::move(state));
    });
  });
  return ticket;
}

// Each answer that does not come (a drive without the page, no cartridge for READ ATTRIBUTE)
// leaves its fields not known; the chain goes on regardless, one command at a time.
void Drive::refresh_health(KnownState state) {
  using scsi::cdb::log_sense;
  using Take = void (*)(Drive&, const CommandResult&, KnownState&);
  struct Step {
    scsi::Command command;
    Take take;
  };
  static const std::array<Step, 5> steps{{
      {log_sense(scsi::log_page::tape_alert),
       [](Drive& d, const CommandResult& r, KnownState&) {
         if (auto page = log_page_in(r)) {
           if (auto alerts = scsi::parse_tape_alerts(*page)) {
             d.keep_tape_alerts(alerts.value());
           }
         }
       }},
      {log_sense(scsi::log_page::volume_statistics),
       [](Drive&, const CommandResult& r, KnownState& s) {
         if (auto page = log_page_in(r)) {
           take_volume_statistics(*page, s.health);
         }
       }},
      {log_sense(scsi::log_page::sequential_access),
       [](Drive&, const CommandResult& r, KnownState& s) {
         if (auto page = log_page_in(r)) {
           take_sequential_access(*page, s.health);
         }
       }},
      {scsi::cdb::read_attribute(scsi::cdb::ReadAttributeAction::values, 0,
                                 scsi::attribute_id::remaining_capacity),
       [](Drive&, const CommandResult& r, KnownState& s) {
         if (r.classification.condition == scsi::TapeCondition::good) {
           if (auto values = scsi::parse_attribute_values(r.data)) {
             take_attributes(values.value(), s.health);
           }
         }
       }},
      // Last, so that the others keep their order and real drives are not asked for it.
      {log_sense(scsi::log_page::drive_model),
       [](Drive& d, const CommandResult& r, KnownState& s) {
         if (d.identity().vendor != "TAPESTRM") {
           return;
         }
         if (auto page = log_page_in(r)) {
           take_drive_model(*page, s.health);
           d.report_backhitches(s.health);
         }
       }},
  }};
  // Page 3Ch goes only to the emulated drive: on a real one it is some vendor's own page.
  const auto count = _identity.vendor == "TAPESTRM" ? steps.size() : steps.size() - 1;
  health_step(std::make_shared<KnownState>(std::move(state)), 0, count,
              [](std::size_t i) -> const scsi::Command& { return steps[i].command; },
              [](Drive& d, std::size_t i, const CommandResult& r, KnownState& s) { steps[i].take(d, r, s); });
}

void Drive::health_step(std::shared_ptr<KnownState> state, std::size_t step, std::size_t steps,
                        const scsi::Command& (*command)(std::size_t),
                        void (*take)(Drive&, std::size_t, const CommandResult&, KnownState&)) {
  if (step == steps) {
    state->tape_alerts = _tape_alerts.current(_transport.medium_generation());
    if (state->position) {
      state->block_in_file = block_in_file(*state->position);
    }
    state_refreshed(std::move(*state));
    return;
  }
  _commands.run_next(command(step), [this, state, step, steps, command, take](const CommandResult& r) {
    take(*this, step, r, *state);
    health_step(state, step + 1, steps, command, take);
  });
}

// Said when the count grew: how often the drive had to stop and reposition for want of data.
void Drive::report_backhitches(const MediumHealth& health) {
  if (!health.backhitches || *health.backhitches == _backhitches_reported) {
    return;
  }
  spdlog::info("drive {}: {} backhitches ({} since the last report), {:.1f} s without data to "
               "write (the drive's log page 3Ch)",
               _name, *health.backhitches, *health.backhitches - _backhitches_reported,
               static_cast<double>(health.starved_ms.value_or(0)) / 1000);
  _backhitches_reported = *health.backhitches;
}

void Drive::keep_tape_alerts(scsi::TapeAlerts read) {
  _tape_alerts.add(read, _transport.medium_generation());
}

void Drive::learn_file_start(const ControlRequest& request, const ControlOutcome& outcome) {
  if (_file_starts_generation != _transport.medium_generation()) {
    _file_starts.clear();
    _file_starts_generation = _transport.medium_generation();
  }
  if (request.op == ControlOp::erase) {
    _file_starts.clear();
  }
  if (outcome.ending != Ending::complete || !outcome.position || !outcome.position->file_number) {
    return;
  }
  const bool at_file_start =
      request.op == ControlOp::rewind || request.op == ControlOp::load ||
      ((request.op == ControlOp::write_filemarks || request.op == ControlOp::space_files_forward) &&
       request.argument > 0);
  if (at_file_start && _file_starts.size() < max_file_starts) {
    _file_starts[*outcome.position->file_number] = outcome.position->block_number;
  }
}

// File 0 starts at block 0; another file where an operation was seen to leave the tape at its
// start since the cartridge was loaded and nothing was written over it.
std::optional<std::uint64_t> Drive::block_in_file(const TapePosition& position) const {
  if (!position.file_number) {
    return std::nullopt;
  }
  if (*position.file_number == 0) {
    return position.block_number;
  }
  if (_file_starts_generation != _transport.medium_generation()) {
    return std::nullopt;
  }
  const auto start = _file_starts.find(*position.file_number);
  if (start == _file_starts.end() || start->second > position.block_number) {
    return std::nullopt;
  }
  return position.block_number - start->second;
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

std::unique_ptr<WriteStream> Drive::write_stream(WriteStream::Carryover carryover,
                                                 WriteStream::Options options,
                                                 WriteStream::Done done) {
  fill_write_options(options);
  stream_began(true);
  return std::make_unique<WriteStream>(_transport, _pool, _timeouts, std::move(carryover), options,
                                       std::move(done));
}

std::unique_ptr<WriteStream> Drive::write_stream(WriteStream::Options options,
                                                 WriteStream::Done done) {
  fill_write_options(options);
  stream_began(true);
  return std::make_unique<WriteStream>(_transport, _pool, _timeouts, _stream_buffers, options,
                                       std::move(done));
}

void Drive::fill_write_options(WriteStream::Options& options) {
  options.positioning = _identity.positioning;
  options.protection = _protection;
  if (options.start_percent == 0) {
    options.start_percent = _marks.start_percent;
  }
  if (options.restart_percent == 0) {
    options.restart_percent = _marks.restart_percent;
  }
  options.min_rate = _marks.min_rate.value_or(0);
  options.min_rate_of_medium = !_marks.min_rate;
  options.position_trusted = _transport.position_trusted();
  options.command_buffer = _stream_command_buffer;
  // Page 3Ch only to the emulated drive (as the health refresh), and no more once it refused
  // it: an emulated drive without its model would otherwise take two commands more per stream
  // for nothing.
  options.model_page = _identity.vendor == "TAPESTRM" && _model_page.value_or(true);
  options.model_page_answered = [this](bool has_page) { _model_page = has_page; };
  options.tape_alerts_seen = [this, heard = std::move(options.tape_alerts_seen)](
                                 const scsi::TapeAlerts& alerts) {
    keep_tape_alerts(alerts);
    heard(alerts);
  };
}

std::unique_ptr<ReadStream> Drive::read_stream(ReadStream::Done done,
                                               std::vector<std::uint16_t> buffers) {
  stream_began(false);
  return std::make_unique<ReadStream>(_transport, _pool, _timeouts, std::move(buffers),
                                      _identity.positioning, std::move(done), _protection,
                                      _largest_block);
}

std::unique_ptr<ReadStream> Drive::read_stream(ReadStream::Done done) {
  stream_began(false);
  return std::make_unique<ReadStream>(_transport, _pool, _timeouts, _stream_buffers,
                                      _identity.positioning, std::move(done), _protection,
                                      _largest_block);
}

std::uint32_t Drive::max_data_block() const {
  const std::uint64_t crc = _protection != Protection::off && _identity.offers_crc32c
                                ? protection_bytes
                                : 0;
  std::uint64_t transfer = std::min<std::uint64_t>(_pool.buffer_size(), scsi::Count24::max);
  if (_identity.max_block_length != 0) {
    transfer = std::min<std::uint64_t>(transfer, _identity.max_block_length);
  }
  std::uint64_t limit = transfer > crc ? transfer - crc : 0;
  if (_largest_block != 0) {
    limit = std::min<std::uint64_t>(limit, _largest_block);
  }
  return static_cast<std::uint32_t>(limit);
}

void Drive::stream_began(bool writing) {
  _activity = writing ? Activity::writing : Activity::reading;
  if (writing) {
    _file_starts.clear();  // a write "here" ends the tape there: later files start elsewhere
  }
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
  auto done = [this, request = operation.request,
               user_done = std::move(user_done)](const ControlOutcome& outcome) {
    learned(outcome.ending);
    learn_file_start(request, outcome);
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
