#include "server/changer_worker.hpp"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "base/exclusive_lock.hpp"
#include "base/startup_error.hpp"
#include "codec.hpp"
#include "emulated/emulated_library.hpp"
#include "emulated/library_spec.hpp"
#include "scsi/smc.hpp"
#include "server/changer_ops.hpp"
#include "transport/changer_discovery.hpp"
#include "uring/buffer_pool.hpp"

namespace tapestream::server {
namespace {

constexpr std::string_view real_kinds[] = {"scsi:", "bsg:", "sg:"};

// READ ELEMENT STATUS of every element, with volume tags and drive identifiers, takes about 100
// bytes an element: 4 MiB hold some 40,000, more than the largest libraries have.
constexpr std::size_t element_status_room = std::size_t{4} << 20;

std::string element_list(const std::vector<std::uint16_t>& addresses) {
  std::string text;
  for (const auto a : addresses) {
    text += (text.empty() ? "" : ", ") + std::to_string(a);
  }
  return text;
}

}  // namespace

bool is_real_library(const LibraryConfig& library) {
  return std::any_of(std::begin(real_kinds), std::end(real_kinds),
                     [&](std::string_view kind) { return library.spec.starts_with(kind); });
}

LibraryConfig parse_library_option(const std::string& option) {
  const auto eq = option.find('=');
  if (eq == std::string::npos) {
    throw StartupError{"--library \"" + option + "\": expected NAME=emulated-library:DIR?drives=A,B"};
  }
  LibraryConfig l{option.substr(0, eq), option.substr(eq + 1)};
  if (!proto::valid_drive_name(l.name)) {
    throw StartupError{"--library: \"" + l.name + "\" is not a library name ([A-Za-z0-9._-], 1 to 32)"};
  }
  if (is_real_library(l)) {
    if (l.spec.substr(l.spec.find(':') + 1).empty()) {
      throw StartupError{"--library " + l.name + ": \"" + l.spec +
                         "\" names no changer (an address H:C:T:L, a /dev node or a serial number)"};
    }
    return l;
  }
  if (!emulated::is_library_spec(l.spec)) {
    throw StartupError{"--library " + l.name + ": \"" + l.spec +
                       "\": expected emulated-library:DIR?drives=A,B, or scsi:, bsg: or sg: and "
                       "a changer (an address H:C:T:L, a /dev node or a serial number)"};
  }
  const auto spec = emulated::parse_library_spec(l.spec);
  if (spec.drives.empty()) {
    throw StartupError{"--library " + l.name + ": drives= names no drive"};
  }
  for (const auto& d : spec.drives) {
    if (!proto::valid_drive_name(d)) {
      throw StartupError{"--library " + l.name + ": \"" + d + "\" is not a drive name"};
    }
  }
  return l;
}

std::vector<DriveConfig> library_drive_configs(const LibraryConfig& library) {
  if (is_real_library(library)) {
    return {};
  }
  const auto spec = emulated::parse_library_spec(library.spec);
  std::vector<DriveConfig> drives;
  for (const auto& name : spec.drives) {
    DriveConfig d;
    d.name = name;
    d.spec = library.spec;  // what the daemon says it serves the drive on
    emulated::DriveSpec drive;
    drive.capacity = spec.capacity;
    drive.early_warning = spec.early_warning;
    drive.medium_error_write = spec.medium_error_write;
    drive.load_time = spec.load_time;
    drive.serial = name;  // what the changer reports as the drive's identifier (DVCID)
    d.library_drive_spec = drive;
    d.library_drive = std::make_shared<emulated::LibraryDrive*>(nullptr);
    drives.push_back(std::move(d));
  }
  return drives;
}

ChangerWorker::ChangerWorker(const LibraryConfig& config, std::vector<LibraryCandidate> candidates)
    : _name{config.name}, _spec{config.spec} {
  auto started = _started.get_future();
  _thread = std::thread{[this, candidates = std::move(candidates)] { run(candidates); }};
  try {
    started.get();
  } catch (...) {
    _thread.join();
    throw;
  }
}

bool ChangerWorker::holds_drive(const std::string& drive) const {
  return std::any_of(_drive_at.begin(), _drive_at.end(),
                     [&](const auto& element) { return element.second == drive; });
}

ChangerWorker::~ChangerWorker() {
  {
    const std::lock_guard lock{_mutex};
    _quit = true;
  }
  _wake.notify_one();
  if (_thread.joinable()) {
    _thread.join();
  }
}

void ChangerWorker::post(Job job) {
  {
    const std::lock_guard lock{_mutex};
    _jobs.push_back(std::move(job));
  }
  _wake.notify_one();
}

// On the changer's thread.
std::unique_ptr<transport::ScsiTransport> ChangerWorker::open_changer(
    uring::Ring& ring, const std::vector<LibraryCandidate>& candidates) {
  if (!is_real_library(LibraryConfig{_name, _spec})) {
    std::vector<emulated::LibraryDrive*> drives;
    for (const auto& c : candidates) {
      drives.push_back(c.emulated);
    }
    return std::make_unique<emulated::EmulatedLibrary>(ring, emulated::parse_library_spec(_spec),
                                                       std::move(drives));
  }
  const auto colon = _spec.find(':');
  const auto kind = _spec.substr(0, colon);
  const auto device = _spec.substr(colon + 1);
  const auto changers = transport::discover_changers();
  const auto changer = transport::find_changer(changers, device);
  if (!changer) {
    std::string found;
    for (const auto& c : changers) {
      found += (found.empty() ? "" : ", ") + c.address + " (" + c.vendor + " " + c.model +
               ", serial " + c.serial + ")";
    }
    throw StartupError{"no medium changer \"" + device + "\" in sysfs; found " +
                       (found.empty() ? std::string{"none"} : found) +
                       " (tapestreamd --probe lists them)"};
  }
  _locks = lock_device_nodes({changer->bsg_node, changer->sg_node}, "its changer " + changer->address);
  const auto choice = kind == "bsg"  ? transport::TransportChoice::bsg
                      : kind == "sg" ? transport::TransportChoice::sg
                                     : transport::TransportChoice::automatic;
  auto opened = transport::open_changer_transport(ring, *changer, choice);
  if (!opened) {
    throw StartupError{changer->address + ": " + opened.error().what()};
  }
  spdlog::info("library {}: {} {} at {}: {}", _name, changer->vendor, changer->model,
               changer->address, opened.value().reason);
  return std::move(opened.value().transport);
}

// On the changer's thread, before the constructor returns: which drive is in which element.
void ChangerWorker::find_drives(const ChangerContext& context,
                                const std::vector<LibraryCandidate>& candidates) {
  auto elements = read_changer_elements(context);
  if (!elements) {
    throw StartupError{elements.error()};
  }
  std::vector<transport::DriveElement> drive_elements;
  std::size_t full = 0;
  for (const auto& e : elements.value()) {
    full += e.full ? 1 : 0;
    if (e.type == scsi::ElementType::data_transfer) {
      drive_elements.push_back({e.address, e.device});
    }
  }
  std::vector<transport::TapeDevice> drives;
  for (const auto& c : candidates) {
    transport::TapeDevice d;
    d.vendor = c.vendor;
    d.serial = c.serial;
    drives.push_back(std::move(d));
  }
  const auto matched = transport::match_drives(drive_elements, drives);
  std::vector<std::uint16_t> unmatched;
  for (std::size_t i = 0; i < matched.size(); ++i) {
    if (!matched[i]) {
      unmatched.push_back(drive_elements[i].address);
      continue;
    }
    const auto& drive = candidates[*matched[i]];
    _drive_at.emplace(drive_elements[i].address, drive.name);
    spdlog::info("library {}: drive {} (serial {}) is in its data transfer element {}", _name,
                 drive.name, drive.serial, drive_elements[i].address);
  }
  spdlog::info("library {}: {} elements, {} holding a cartridge", _name, elements.value().size(),
               full);
  if (!unmatched.empty()) {
    spdlog::warn("library {}: its data transfer element(s) {} hold no drive this daemon serves "
                 "(no identifier, or one no --drive reports as its serial number): this daemon "
                 "moves no cartridge into or out of them",
                 _name, element_list(unmatched));
  }
  if (!is_real_library(LibraryConfig{_name, _spec})) {
    for (const auto& c : candidates) {
      if (!holds_drive(c.name)) {
        throw StartupError{"its drive " + c.name + " is not among its elements"};
      }
    }
  }
}

void ChangerWorker::run(std::vector<LibraryCandidate> candidates) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);  // signals are the control thread's
  pthread_setname_np(pthread_self(), ("tc:" + _name).substr(0, 15).c_str());
  std::optional<uring::Ring> ring;
  std::unique_ptr<transport::ScsiTransport> changer;
  // A real changer's transport moves data only through memory registered with its ring; the
  // emulated library reads and writes any (and so takes no locked memory from the drives).
  std::optional<uring::BufferPool> registered;
  std::vector<std::uint8_t> heap;
  std::optional<ChangerContext> context;
  try {
    // bsg's IORING_OP_URING_CMD needs SQE128 and CQE32; the emulated library none.
    ring.emplace(uring::Ring::create(
        {.entries = 16, .big_entries = is_real_library(LibraryConfig{_name, _spec})}));
    changer = open_changer(*ring, candidates);
    transport::DataBuffer buffer;
    if (is_real_library(LibraryConfig{_name, _spec})) {
      registered.emplace(uring::BufferPool::create(*ring, 1, element_status_room));
      buffer = {0, registered->buffer(0)};
    } else {
      heap.resize(element_status_room);
      buffer = {0, heap};
    }
    context.emplace(ChangerContext{*changer, *ring, buffer, _name, _drive_at});
    find_drives(*context, candidates);
  } catch (const StartupError& e) {
    const std::string message = e.what();
    const auto named = "library " + _name + ": ";
    _started.set_exception(std::make_exception_ptr(
        StartupError{message.starts_with(named) ? message : named + message}));
    return;
  } catch (...) {
    _started.set_exception(std::current_exception());
    return;
  }
  _started.set_value();
  for (;;) {
    Job job;
    {
      std::unique_lock lock{_mutex};
      _wake.wait(lock, [this] { return _quit || !_jobs.empty(); });
      if (_quit) {
        return;
      }
      job = std::move(_jobs.front());
      _jobs.pop_front();
    }
    job(*context);
  }
}

}  // namespace tapestream::server
