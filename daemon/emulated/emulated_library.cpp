#include "emulated/emulated_library.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/exclusive_lock.hpp"
#include "base/startup_error.hpp"
#include "emulated/library_state.hpp"
#include "emulated/responses.hpp"
#include "scsi/bytes.hpp"

namespace tapestream::emulated {
namespace {

using scsi::Opcode;
using scsi::SenseKey;

LibraryShape shape_of(const LibrarySpec& spec) {
  return {spec.slots, spec.mail_slots, spec.drives};
}

std::string image_of(const LibrarySpec& spec, const std::string& barcode) {
  return (spec.directory / (barcode + ".tap")).string();
}

}  // namespace

EmulatedLibrary::EmulatedLibrary(uring::Ring& ring, LibrarySpec spec,
                                 std::vector<LibraryDrive*> drives)
    : _ring{ring}, _spec{std::move(spec)}, _drives{std::move(drives)}, _model{shape_of(_spec)} {
  if (_drives.size() != _spec.drives.size()) {
    throw StartupError{"emulated library " + _spec.directory.string() + ": " +
                       std::to_string(_spec.drives.size()) + " drives named, " +
                       std::to_string(_drives.size()) + " given"};
  }
  lock_directory();
  _timer.library = this;
  restore_library(_model, _spec.directory);
  for (std::size_t i = 0; i < _drives.size(); ++i) {
    const auto barcode =
        _model.barcode_at(static_cast<std::uint16_t>(LibraryShape::first_drive + i));
    if (!barcode) {
      continue;
    }
    if (auto refused = _drives[i]->insert(image_of(_spec, *barcode))) {
      throw StartupError{"emulated library " + _spec.directory.string() + ": cartridge " +
                         *barcode + " is in drive " + _spec.drives[i] +
                         " by the library's record, but the drive cannot load it: " + *refused};
    }
  }
}

void EmulatedLibrary::lock_directory() {
  const auto& directory = _spec.directory;
  _directory_lock = UniqueFd{::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (!_directory_lock) {
    throw StartupError{"emulated library " + directory.string() + ": " + std::strerror(errno)};
  }
  if (auto locked = lock_exclusively(_directory_lock.get()); !locked) {
    throw StartupError{"emulated library " + directory.string() +
                       (locked.error() == std::errc::operation_would_block
                            ? std::string{" is in use by another tapestreamd (or another "
                                          "--library of this one)"}
                            : ": cannot lock it: " + locked.error().message())};
  }
}

EmulatedLibrary::~EmulatedLibrary() {
  if (_timer_armed) {
    (void)_ring.prepare(uring::Cancel{&_timer}, nullptr);
    while (_timer_armed && _ring.run_once(std::chrono::seconds{1})) {
    }
  }
}

Result<void> EmulatedLibrary::submit(const transport::ScsiRequest& request,
                                     transport::ScsiCallback& callback) {
  _queue.push_back({request, &callback});
  start_next();
  return outcome::success();
}

void EmulatedLibrary::start_next() {
  if (_current || _queue.empty()) {
    return;
  }
  _current = std::move(_queue.front());
  _queue.pop_front();
  _result = {};
  execute(_current->request);
}

void EmulatedLibrary::execute(const transport::ScsiRequest& request) {
  const auto& c = request.command;
  switch (c.opcode()) {
    case Opcode::test_unit_ready:
    case Opcode::prevent_allow_medium_removal:
    case Opcode::locate10:  // POSITION TO ELEMENT: the robot goes there; nothing to keep
      complete_after({});
      return;
    case Opcode::initialize_element_status:
    case Opcode::initialize_element_status_with_range:
      complete_after(_spec.move_time);  // the robot scans the barcodes
      return;
    case Opcode::inquiry:
      inquiry(request);
      break;
    case Opcode::mode_sense6:
    case Opcode::mode_sense10:
      mode_sense(request);
      break;
    case Opcode::read_element_status:
      read_element_status(request);
      break;
    case Opcode::move_medium:
      move_medium(request);
      return;
    default:
      check(SenseKey::illegal_request, 0x20, 0x00);  // INVALID COMMAND OPERATION CODE
      break;
  }
  complete_after({});
}

void EmulatedLibrary::inquiry(const transport::ScsiRequest& request) {
  const auto& c = request.command;
  const Identity id{"TAPESTRM", "EMULATED LIBRARY", "0001", _spec.serial, 0x08};
  if ((c.cdb[1] & 0x01) == 0) {
    if (c.cdb[2] != 0) {
      check(SenseKey::illegal_request, 0x24, 0x00);
      return;
    }
    respond(request, standard_inquiry(id));
    return;
  }
  if (auto page = vpd_page(c.cdb[2], id)) {
    respond(request, *page);
  } else {
    check(SenseKey::illegal_request, 0x24, 0x00);
  }
}

void EmulatedLibrary::mode_sense(const transport::ScsiRequest& request) {
  const auto& c = request.command;
  const bool ten = c.opcode() == Opcode::mode_sense10;
  const auto page = static_cast<std::uint8_t>(c.cdb[2] & 0x3F);
  const bool changeable = (c.cdb[2] >> 6) == 1;
  Bytes pages;
  auto add = [&pages, changeable](Bytes p) {
    if (changeable) {
      std::fill(p.begin() + 2, p.end(), std::uint8_t{0});  // nothing in them may be changed
    }
    pages.insert(pages.end(), p.begin(), p.end());
  };
  if (c.cdb[3] != 0 && c.cdb[3] != 0xFF) {
    check(SenseKey::illegal_request, 0x24, 0x00);
    return;
  }
  if (page == scsi::ElementAddressAssignment::code || page == 0x3F) {
    add(_model.address_assignment_page());
  }
  if (page == scsi::DeviceCapabilities::code || page == 0x3F) {
    add(_model.capabilities_page());
  }
  if (pages.empty()) {
    check(SenseKey::illegal_request, 0x24, 0x00);
    return;
  }
  respond(request, mode_parameter_list(ten, 0, {}, pages));
}

void EmulatedLibrary::read_element_status(const transport::ScsiRequest& request) {
  const auto& c = request.command;
  const auto type_code = static_cast<std::uint8_t>(c.cdb[1] & 0x0F);
  if (type_code > 4) {
    check(SenseKey::illegal_request, 0x24, 0x00);
    return;
  }
  const bool volume_tags = (c.cdb[1] & 0x10) != 0;
  const bool device_ids = (c.cdb[6] & 0x01) != 0;
  const auto first = static_cast<std::uint16_t>(scsi::load_be16(c.cdb, 2));
  const auto count = static_cast<std::uint16_t>(scsi::load_be16(c.cdb, 4));
  const auto allocation = scsi::load_be24(c.cdb, 7);
  respond(request, _model.element_status(static_cast<scsi::ElementType>(type_code), first, count,
                                         volume_tags, device_ids, allocation));
}

// The robot takes the spec's move time whatever the outcome; a refusal it can tell at once
// (an empty source, a full destination) comes at once, as a real changer checks its inventory
// before it moves.
void EmulatedLibrary::move_medium(const transport::ScsiRequest& request) {
  const auto& c = request.command;
  const auto transport = static_cast<std::uint16_t>(scsi::load_be16(c.cdb, 2));
  const auto source = static_cast<std::uint16_t>(scsi::load_be16(c.cdb, 4));
  const auto destination = static_cast<std::uint16_t>(scsi::load_be16(c.cdb, 6));
  auto drive_at = [this](std::uint16_t address) -> std::optional<std::size_t> {
    if (address < LibraryShape::first_drive ||
        address - LibraryShape::first_drive >= static_cast<int>(_drives.size())) {
      return std::nullopt;
    }
    return static_cast<std::size_t>(address - LibraryShape::first_drive);
  };
  const auto from_drive = drive_at(source);
  const auto to_drive = drive_at(destination);
  if (from_drive) {
    const bool stuck = _spec.stuck_drive && _spec.drives[*from_drive] == *_spec.stuck_drive;
    _model.set_drive_holds_tape(*from_drive, stuck || _drives[*from_drive]->tape_threaded());
  }
  const auto before = _model;
  if (auto refused = _model.move(transport, source, destination)) {
    spdlog::info("emulated library {}: MOVE MEDIUM {} -> {} refused: {}",
                 _spec.directory.string(), source, destination, refused->why);
    check(refused->key, refused->asc, refused->ascq);
    complete_after({});
    return;
  }
  if (source == destination) {
    // Nothing moves (SMC): a drive keeps its cartridge, even a threaded one, and its image.
    complete_after(_spec.move_time);
    return;
  }
  ++_moves;
  if (_spec.move_fails && _moves == *_spec.move_fails) {
    _model = before;
    check(SenseKey::hardware_error, 0x15, 0x01);  // MECHANICAL POSITIONING ERROR
    complete_after(_spec.move_time);
    return;
  }
  const auto barcode = _model.barcode_at(destination);
  if (from_drive) {
    if (auto refused = _drives[*from_drive]->remove()) {
      // The drive threaded its tape after the model was told it had not.
      spdlog::info("emulated library {}: drive {} keeps its cartridge: {}",
                   _spec.directory.string(), _spec.drives[*from_drive], *refused);
      _model = before;
      check(SenseKey::illegal_request, 0x53, 0x02);  // MEDIUM REMOVAL PREVENTED
      complete_after({});
      return;
    }
  }
  if (to_drive && source != destination) {
    if (auto refused = _drives[*to_drive]->insert(image_of(_spec, *barcode))) {
      spdlog::error("emulated library {}: drive {} cannot load {}: {}", _spec.directory.string(),
                    _spec.drives[*to_drive], *barcode, *refused);
      _model = before;
      if (from_drive) {
        (void)_drives[*from_drive]->insert(image_of(_spec, *barcode));
      }
      check(SenseKey::hardware_error, 0x53, 0x00);  // MEDIA LOAD OR EJECT FAILED
      complete_after(_spec.move_time);
      return;
    }
  }
  try {
    save_library(_model, _spec.directory);
  } catch (const std::system_error& e) {
    // The record is the library's memory: a move it cannot remember did not happen.
    spdlog::error("emulated library {}: the move {} -> {} is undone: {}",
                  _spec.directory.string(), source, destination, e.what());
    if (to_drive) {
      _drives[*to_drive]->take_back();
    }
    if (from_drive) {
      (void)_drives[*from_drive]->insert(image_of(_spec, *barcode));
    }
    _model = before;
    check(SenseKey::hardware_error, 0x44, 0x00);  // INTERNAL TARGET FAILURE
  }
  complete_after(_spec.move_time);
}

void EmulatedLibrary::respond(const transport::ScsiRequest& request,
                              const std::vector<std::uint8_t>& bytes) {
  const auto slice = request.data.bytes;
  const auto n = std::min(slice.size(), bytes.size());
  std::copy_n(bytes.begin(), n, slice.begin());
  _result.residue = static_cast<std::uint32_t>(slice.size() - n);
}

void EmulatedLibrary::check(SenseKey key, std::uint8_t asc, std::uint8_t ascq) {
  const auto sense = fixed_sense(key, static_cast<std::uint16_t>(asc << 8 | ascq));
  _result.scsi_status = static_cast<std::uint8_t>(scsi::ScsiStatus::check_condition);
  _result.sense_length = static_cast<std::uint8_t>(sense.size());
  std::copy(sense.begin(), sense.end(), _result.sense.begin());
  _result.residue = static_cast<std::uint32_t>(_current->request.data.bytes.size());
}

// Every command completes from the ring: a timer of the command's delay (a NOP's worth when
// none), or of its timeout when that is shorter, which then ends it timed out.
void EmulatedLibrary::complete_after(std::chrono::milliseconds delay) {
  const auto timeout = _current->request.timeout;
  if (timeout.count() > 0 && delay > timeout) {
    delay = timeout;
    _result = {};
    _result.host_status = static_cast<std::uint8_t>(scsi::HostStatus::time_out);
    _result.timed_out = true;
  }
  _timer.when.tv_sec = delay.count() / 1000;
  _timer.when.tv_nsec = (delay.count() % 1000) * 1'000'000;
  const auto queued = delay.count() > 0 ? _ring.prepare(uring::Timeout{&_timer.when}, &_timer)
                                        : _ring.prepare(uring::Nop{}, &_timer);
  if (!queued) {
    // A full submission queue: the result goes out on the next turn of the ring instead.
    spdlog::error("emulated library: the ring took no request: {}", queued.error().message());
  }
  _timer_armed = true;
}

void EmulatedLibrary::timer_done() {
  _timer_armed = false;
  if (!_current) {
    return;
  }
  auto done = std::move(*_current);
  _current.reset();
  const auto result = _result;
  done.callback->on_scsi_complete(result);
  start_next();
}

}  // namespace tapestream::emulated
