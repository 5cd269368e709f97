#include "server/changer_worker.hpp"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include "base/startup_error.hpp"
#include "codec.hpp"
#include "emulated/emulated_library.hpp"
#include "scsi/smc.hpp"
#include "scsi/smc_cdb.hpp"
#include "transport/blocking.hpp"

namespace tapestream::server {
namespace {

// What the library holds, said once at start-up, from the changer's own answer.
void log_inventory(const std::string& name, transport::ScsiTransport& changer, uring::Ring& ring) {
  std::vector<std::uint8_t> data(64 * 1024);
  transport::ScsiRequest request;
  request.command = *scsi::cdb::read_element_status(scsi::ElementType::all, 0, 0xFFFF,
                                                    static_cast<std::uint32_t>(data.size()),
                                                    true, true);
  request.data = {0, data};
  request.timeout = std::chrono::seconds{60};
  const auto result = transport::run_blocking(ring, changer, request);
  if (!result || result.value().scsi_status != 0) {
    spdlog::warn("library {}: its inventory could not be read, ignoring", name);
    return;
  }
  data.resize(data.size() - std::min<std::size_t>(result.value().residue, data.size()));
  const auto report = scsi::parse_element_status(data);
  if (!report) {
    spdlog::warn("library {}: its inventory does not parse, ignoring", name);
    return;
  }
  std::size_t full = 0;
  for (const auto& e : report.value().elements) {
    full += e.full ? 1 : 0;
  }
  spdlog::info("library {}: {} elements, {} holding a cartridge", name,
               report.value().elements.size(), full);
}

}  // namespace

LibraryConfig parse_library_option(const std::string& option) {
  const auto eq = option.find('=');
  if (eq == std::string::npos) {
    throw StartupError{"--library \"" + option + "\": expected NAME=emulated-library:DIR?drives=A,B"};
  }
  LibraryConfig l{option.substr(0, eq), option.substr(eq + 1)};
  if (!proto::valid_drive_name(l.name)) {
    throw StartupError{"--library: \"" + l.name + "\" is not a library name ([A-Za-z0-9._-], 1 to 32)"};
  }
  if (!emulated::is_library_spec(l.spec)) {
    throw StartupError{"--library " + l.name + ": \"" + l.spec +
                       "\": expected emulated-library:DIR?drives=A,B (the only kind served yet)"};
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
    drive.serial = name;  // what the changer reports as the drive's identifier (DVCID)
    d.library_drive_spec = drive;
    d.library_drive = std::make_shared<emulated::LibraryDrive*>(nullptr);
    drives.push_back(std::move(d));
  }
  return drives;
}

ChangerWorker::ChangerWorker(const LibraryConfig& config,
                             std::vector<emulated::LibraryDrive*> drives)
    : _name{config.name}, _spec{emulated::parse_library_spec(config.spec)} {
  auto started = _started.get_future();
  _thread = std::thread{[this, drives = std::move(drives)] { run(drives); }};
  try {
    started.get();
  } catch (...) {
    _thread.join();
    throw;
  }
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

void ChangerWorker::run(std::vector<emulated::LibraryDrive*> drives) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);  // signals are the control thread's
  pthread_setname_np(pthread_self(), ("tc:" + _name).substr(0, 15).c_str());
  std::optional<uring::Ring> ring;
  std::unique_ptr<emulated::EmulatedLibrary> changer;
  try {
    ring.emplace(uring::Ring::create({.entries = 16, .big_entries = false}));
    changer = std::make_unique<emulated::EmulatedLibrary>(*ring, _spec, std::move(drives));
  } catch (const StartupError& e) {
    _started.set_exception(std::make_exception_ptr(
        StartupError{"library " + _name + ": " + e.what()}));
    return;
  } catch (...) {
    _started.set_exception(std::current_exception());
    return;
  }
  log_inventory(_name, *changer, *ring);
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
    job(*changer, *ring);
  }
}

}  // namespace tapestream::server
