#include "emulated/emulated_drive.hpp"

#include <fcntl.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/startup_error.hpp"
#include "emulated/image_file.hpp"
#include "scsi/bytes.hpp"

namespace tapestream::emulated {
namespace {

using scsi::Opcode;
using scsi::SenseKey;

// The commands that report a pending unit attention (INQUIRY and REQUEST SENSE do not).
bool reports_unit_attention(Opcode op) {
  return op != Opcode::inquiry && op != Opcode::request_sense;
}

// Whether `op` is the command a fault names (a name covers the command's 6-, 10- and 16-byte
// forms).
bool matches(const std::optional<Opcode>& fault, Opcode op) {
  if (!fault) {
    return false;
  }
  switch (*fault) {
    case Opcode::space6:
      return op == Opcode::space6 || op == Opcode::space16;
    case Opcode::locate16:
      return op == Opcode::locate10 || op == Opcode::locate16;
    case Opcode::mode_select6:
      return op == Opcode::mode_select6 || op == Opcode::mode_select10;
    default:
      return op == *fault;
  }
}

[[noreturn]] void wedge_thread(Opcode op) {
  spdlog::error("emulated drive: wedged in {} (the wedge= fault): this thread now blocks for "
                "good, as one whose driver is stuck in D state",
                scsi::opcode_name(op));
  for (;;) {
    std::this_thread::sleep_for(std::chrono::hours{24});
  }
}

}  // namespace

EmulatedDrive::EmulatedDrive(uring::Ring& ring, DriveSpec spec)
    : _ring{ring},
      _spec{std::move(spec)},
      _blank_spec{_spec},
      _early_warning{_spec.early_warning_offset()} {
  if (_spec.model) {
    _model.emplace(*_spec.model);
  }
  if (_spec.null_medium) {
    return;  // a blank tape that holds only its index: no image, no lock, no descriptor
  }
  install(open_cartridge(_spec));
}

EmulatedDrive::EmulatedDrive(uring::Ring& ring, DriveSpec spec, NoCartridge)
    : _ring{ring},
      _spec{std::move(spec)},
      _blank_spec{_spec},
      _early_warning{_spec.early_warning_offset()} {
  if (_spec.model) {
    _model.emplace(*_spec.model);
  }
  if (_spec.null_medium) {
    throw StartupError{"emulated drive: the null drive cannot take cartridges"};
  }
  _present = false;
  _loaded = false;
  _loads = 0;
}

EmulatedDrive::~EmulatedDrive() {
  _closing = true;
  for (auto& timer : _timers) {
    (void)_ring.prepare(uring::Cancel{&timer}, nullptr);
  }
  for (auto& op : _io) {
    (void)_ring.prepare(uring::Cancel{&op}, nullptr);
  }
  while (!_timers.empty() || _io_outstanding > 0) {
    if (!_ring.run_once(std::chrono::seconds{1})) {
      break;
    }
  }
  if (_io_outstanding == 0) {
    link_batch_now();  // a drive that is switched off writes its buffer out first
  } else if (_batch) {
    spdlog::warn("emulated drive {}: image {}: closed with I/O that did not return: the {} "
                 "objects in its buffer are not on the tape",
                 _spec.serial, _spec.image.string(), _index.size() - _batch->objects);
  }
}

Result<void> EmulatedDrive::submit(const transport::ScsiRequest& request,
                                   transport::ScsiCallback& callback) {
  if (_closing) {
    return std::make_error_code(std::errc::operation_canceled);
  }
  _queue.push_back({request, &callback});
  start_next();
  return outcome::success();
}

void EmulatedDrive::start_next() {
  if (_current || _abandoned || _closing || _queue.empty()) {
    return;
  }
  _current = std::move(_queue.front());
  _queue.pop_front();
  ++_command_number;
  _result = {};
  _transferred = 0;
  _on_io_done = nullptr;
  _io.clear();
  const auto timeout = _current->request.timeout;
  if (timeout.count() > 0) {
    auto& timer = _timers.emplace_back();
    timer.drive = this;
    timer.command = _command_number;
    timer.self = std::prev(_timers.end());
    timer.when.tv_sec = timeout.count() / 1000;
    timer.when.tv_nsec = (timeout.count() % 1000) * 1'000'000;
    if (!_ring.prepare(uring::Timeout{&timer.when}, &timer)) {
      _timers.pop_back();
    }
  }
  execute();
}

void EmulatedDrive::execute() {
  const auto& c = _current->request.command;
  const auto op = c.opcode();
  ++_commands;
  if (matches(_spec.wedge, op)) {
    wedge_thread(op);
  }
  if (matches(_spec.hang, op)) {
    return;  // only the timeout ends it
  }
  const std::lock_guard hand_over{_cartridge_mutex};
  model_flush_before(op);
  if (_spec.unit_attention_after && _commands == *_spec.unit_attention_after + 1) {
    power_on_reset();
  }
  if (reports_unit_attention(op) && still_threading()) {
    check(SenseKey::not_ready, 0x0401);  // LOGICAL UNIT IS IN PROCESS OF BECOMING READY
  } else if (_unit_attention && reports_unit_attention(op)) {
    check(SenseKey::unit_attention, *_unit_attention);
    _unit_attention.reset();
  } else if (_batch && links_first(op)) {
    link_batch(false, [this](bool linked) {
      if (!linked) {
        check(SenseKey::medium_error, 0x0C00);  // WRITE ERROR: the buffered blocks are lost
        return;
      }
      dispatch(_current->request.command);
    });
  } else {
    dispatch(c);
  }
  if (_io_outstanding == 0) {
    finish_now();
  }
}

void EmulatedDrive::dispatch(const scsi::Command& c) {
  const auto op = c.opcode();
  switch (op) {
    case Opcode::test_unit_ready:
      if (needs_medium()) {
        good();
      }
      break;
    case Opcode::request_sense: {
      const auto sense = fixed_sense(SenseKey::no_sense, 0x0000);
      respond(Bytes(sense.begin(), sense.end()));
      break;
    }
    case Opcode::inquiry:
      inquiry(c);
      break;
    case Opcode::read_block_limits:
      respond(block_limits(_spec.max_block_length, 1));
      break;
    case Opcode::write6:
      write(c);
      break;
    case Opcode::read6:
      read(c);
      break;
    case Opcode::write_filemarks6:
      write_filemarks(c);
      break;
    case Opcode::space6:
    case Opcode::space16:
      space(c);
      break;
    case Opcode::locate10:
    case Opcode::locate16:
      locate(c);
      break;
    case Opcode::read_position:
      read_position(c);
      break;
    case Opcode::rewind:
      if (needs_medium()) {
        _position = 0;
        good();
      }
      break;
    case Opcode::load_unload:
      load_unload(c);
      break;
    case Opcode::erase6:
      erase(c);
      break;
    case Opcode::prevent_allow_medium_removal:
      _prevent_removal = (c.cdb[4] & 0x03) != 0;
      good();
      break;
    case Opcode::mode_sense6:
    case Opcode::mode_sense10:
      mode_sense(c);
      break;
    case Opcode::mode_select6:
    case Opcode::mode_select10:
      mode_select(c);
      break;
    case Opcode::log_sense:
      log_sense(c);
      break;
    case Opcode::read_attribute:
      read_attribute(c);
      break;
    case Opcode::report_density_support:
      respond(density_support(_spec.capacity / 1'000'000));
      break;
    case Opcode::maintenance_in:
      maintenance_in(c);
      break;
    default:
      check(SenseKey::illegal_request, 0x2000);  // INVALID COMMAND OPERATION CODE
      break;
  }
}

void EmulatedDrive::hold_completion(DriveModel::Duration delay) {
  if (delay.count() <= 0) {
    return;
  }
  _model_delay.tv_sec = delay.count() / 1'000'000'000;
  _model_delay.tv_nsec = delay.count() % 1'000'000'000;
  queue_io(uring::Timeout{&_model_delay}, 0);
  _io.back().delay = true;  // its -ETIME is the wait ending, no failure
}

void EmulatedDrive::model_write(std::uint64_t blocks, std::uint64_t bytes) {
  if (!_model || blocks == 0) {
    return;
  }
  const auto now = DriveModel::Clock::now();
  auto at = now;
  for (std::uint64_t i = 0; i < blocks; ++i) {
    at += _model->write(at, bytes);
  }
  hold_completion(at - now);
}

bool EmulatedDrive::moves_tape(scsi::Opcode op) {
  using scsi::Opcode;
  switch (op) {
    case Opcode::read6:
    case Opcode::space6:
    case Opcode::space16:
    case Opcode::locate10:
    case Opcode::locate16:
    case Opcode::rewind:
    case Opcode::load_unload:
    case Opcode::erase6:
      return true;
    default:
      return false;
  }
}

void EmulatedDrive::model_flush_before(scsi::Opcode op) {
  if (_model && moves_tape(op)) {
    hold_completion(_model->drain(DriveModel::Clock::now()));
  }
}

DriveModel::Counters EmulatedDrive::model_counters() {
  return _model ? _model->counters(DriveModel::Clock::now()) : DriveModel::Counters{};
}

// Completes through the ring, so that no callback ever runs inside submit().
void EmulatedDrive::finish_now() { queue_io(uring::Nop{}, 0); }

void EmulatedDrive::queue_io(const uring::Request& request, std::uint32_t expected,
                             std::uint8_t flags) {
  auto& op = _io.emplace_back();
  op.drive = this;
  op.expected = expected;
  if (_ring.prepare(request, &op, flags)) {
    ++_io_outstanding;
  } else {
    // The ring could not take it even after submitting: the command fails as an I/O error
    // (a command left with nothing in flight is ended by its timeout).
    op.result = -EIO;
  }
}

bool EmulatedDrive::io_failed() const {
  return std::any_of(_io.begin(), _io.end(), [](const IoOperation& op) { return !op.ok(); });
}

bool EmulatedDrive::out_of_space() const {
  return std::any_of(_io.begin(), _io.end(), [](const IoOperation& op) {
    return op.result == -ENOSPC || op.result == -EDQUOT || op.result == -EFBIG ||
           (op.result >= 0 && !op.ok());
  });
}

void EmulatedDrive::io_done() {
  --_io_outstanding;
  if (_io_outstanding > 0 || _closing) {
    return;
  }
  if (_abandoned) {
    _abandoned = false;
    start_next();
    return;
  }
  if (!_current) {
    return;
  }
  if (_on_io_done) {
    auto step = std::move(_on_io_done);
    _on_io_done = nullptr;
    const std::lock_guard hand_over{_cartridge_mutex};
    step();  // may queue the command's next step
  }
  if (_io_outstanding == 0 && _on_io_done) {
    finish_now();  // a next step with nothing to wait for runs from the ring, as in execute()
  } else if (_io_outstanding == 0) {
    deliver();
  }
}

void EmulatedDrive::timer_done(Timer& timer, int result) {
  const bool fired = result == -ETIME;
  const bool for_current = _current && timer.command == _command_number;
  _timers.erase(timer.self);
  if (!fired || !for_current || _closing) {
    return;
  }
  transport::ScsiResult timed_out;
  timed_out.host_status = static_cast<std::uint8_t>(scsi::HostStatus::time_out);
  timed_out.timed_out = true;
  timed_out.residue = static_cast<std::uint32_t>(data().size());
  auto done = std::move(*_current);
  _current.reset();
  _on_io_done = nullptr;
  if (_io_outstanding > 0) {
    _abandoned = true;  // the next command waits until the ring has returned this one's I/O
    for (auto& op : _io) {
      (void)_ring.prepare(uring::Cancel{&op}, nullptr);
    }
  }
  done.callback->on_scsi_complete(timed_out);
  start_next();
}

void EmulatedDrive::deliver() {
  for (auto& timer : _timers) {
    if (timer.command == _command_number) {
      (void)_ring.prepare(uring::Cancel{&timer}, nullptr);
    }
  }
  _result.residue = static_cast<std::uint32_t>(data().size() - std::min<std::uint64_t>(
                                                                   _transferred, data().size()));
  const auto result = _result;
  auto done = std::move(*_current);
  _current.reset();
  done.callback->on_scsi_complete(result);
  start_next();
}

void EmulatedDrive::good() {
  _result.scsi_status = static_cast<std::uint8_t>(scsi::ScsiStatus::good);
  _result.sense_length = 0;
}

void EmulatedDrive::check(SenseKey key, std::uint16_t asc_ascq, SenseFlags flags,
                          std::optional<std::int64_t> information) {
  std::optional<std::int32_t> info;
  if (information) {
    info = static_cast<std::int32_t>(
        std::clamp<std::int64_t>(*information, INT32_MIN, INT32_MAX));
  }
  const auto sense = fixed_sense(key, asc_ascq, flags, info);
  _result.scsi_status = static_cast<std::uint8_t>(scsi::ScsiStatus::check_condition);
  std::copy(sense.begin(), sense.end(), _result.sense.begin());
  _result.sense_length = static_cast<std::uint8_t>(sense.size());
}

void EmulatedDrive::respond(const Bytes& response) {
  const auto n = std::min(response.size(), data().size());
  std::copy_n(response.begin(), n, data().begin());
  _transferred = n;
  good();
}

void EmulatedDrive::transport_error() {
  _result = {};
  _result.host_status = static_cast<std::uint8_t>(scsi::HostStatus::error);
}

bool EmulatedDrive::needs_medium() {
  if (!_loaded) {
    check(SenseKey::not_ready, 0x3A00);  // MEDIUM NOT PRESENT
    return false;
  }
  return true;
}

Result<void> EmulatedDrive::cut_at(std::uint64_t object) {
  if (_spec.null_medium) {
    _index.truncate(object);
    return outcome::success();
  }
  if (object >= _index.size() && _tail_on_disk) {
    return outcome::success();
  }
  // Rare (an overwrite in the middle of the tape, or the first write after opening an image that
  // does not end in the writer's open end), so plain system calls rather than the ring. What
  // the buffer holds goes to the tape first: the cut may fall inside it.
  if (!link_batch_now()) {
    return std::make_error_code(std::errc::io_error);
  }
  BOOST_OUTCOME_TRY(tail, end_image_at(_fd.get(), _index.offset_at(object)));
  _index.truncate(object);
  _tail = std::move(tail);
  _reserved = _tail.end();
  _tail_on_disk = true;
  return outcome::success();
}

// Each object may start a run, and its first one may need two (TapeIndex::push_filemarks).
bool EmulatedDrive::index_has_room(std::size_t objects) const {
  return _index.runs() + objects + 1 <= TapeIndex::max_runs;
}

// ext4 and XFS take an O_DIRECT write without blocking only where the file already has blocks
// and the size covers it; anything else io_uring hands to a worker thread, a context switch
// and a wake-up per block. Allocating ahead in large steps keeps appends on the fast path.
void EmulatedDrive::reserve(std::uint64_t end) {
  if (!_direct || end <= _reserved) {
    return;
  }
  constexpr std::uint64_t step = 256 << 20;
  const auto target = std::min(std::max(end, _reserved + step), _spec.capacity);
  if (target > _reserved &&
      fallocate(_append_fd.get(), 0, static_cast<off_t>(_reserved),
                static_cast<off_t>(target - _reserved)) == 0) {
    _reserved = target;
  } else {
    _reserved = end;  // not supported or no space: writes extend the file as they go
  }
}

void EmulatedDrive::power_on_reset() {
  _position = 0;
  _block_length = 0;
  _compression = false;
  _buffered_mode = 1;
  _protection_method = 0;
  _protect_write = false;
  _protect_read = false;
  _prevent_removal = false;
  _unit_attention = 0x2900;  // POWER ON, RESET, OR BUS DEVICE RESET OCCURRED
}

}  // namespace tapestream::emulated
