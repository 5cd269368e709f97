#include "server/startup.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <numeric>
#include <system_error>

#include "catalog/sqlite_catalog.hpp"
#include "codec.hpp"
#include "common/size.hpp"
#include "drive/drive.hpp"
#include "drive/identity.hpp"
#include "base/exclusive_lock.hpp"
#include "base/sha256.hpp"
#include "base/startup_error.hpp"
#include "emulated/emulated_drive.hpp"
#include "server/changer_worker.hpp"
#include "transport/discovery.hpp"

namespace tapestream::server {
namespace {

std::unique_ptr<transport::ScsiTransport> open_transport(uring::Ring& ring, const DriveConfig& d,
                                                         std::vector<UniqueFd>& locks) {
  if (d.library_drive_spec) {  // a library's drive: empty until the changer brings a cartridge
    auto drive = std::make_unique<emulated::EmulatedDrive>(ring, *d.library_drive_spec,
                                                           emulated::EmulatedDrive::no_cartridge);
    *d.library_drive = drive.get();
    return drive;
  }
  if (emulated::is_emulated_spec(d.spec)) {  // emulated:PATH, or null: (no image, no data kept)
    return std::make_unique<emulated::EmulatedDrive>(ring, emulated::parse_drive_spec(d.spec));
  }
  const auto colon = d.spec.find(':');
  const std::string kind = d.spec.substr(0, colon);
  const std::string name = colon == std::string::npos ? "" : d.spec.substr(colon + 1);
  transport::TransportChoice choice;
  if (kind == "scsi") {
    choice = transport::TransportChoice::automatic;
  } else if (kind == "bsg") {
    choice = transport::TransportChoice::bsg;
  } else if (kind == "sg") {
    choice = transport::TransportChoice::sg;
  } else {
    throw StartupError{"drive " + d.name + ": \"" + d.spec +
                       "\": expected emulated:PATH, null:, scsi:DEVICE, bsg:DEVICE or sg:DEVICE"};
  }
  if (name.empty()) {
    throw StartupError{"drive " + d.name + ": \"" + d.spec +
                       "\" names no device (an address H:C:T:L, a /dev node or a serial number)"};
  }
  const auto tapes = transport::discover_tapes();
  auto tape = transport::find_tape(tapes, name);
  if (!tape) {
    std::string found;
    for (const auto& t : tapes) {
      found += (found.empty() ? "" : ", ") + t.address + " (" + t.st_node + ", serial " +
               t.serial + ")";
    }
    throw StartupError{"drive " + d.name + ": no tape drive \"" + name + "\" in sysfs; found " +
                       (found.empty() ? std::string{"none"} : found) +
                       " (tapestreamd --probe lists them)"};
  }
  locks = lock_device_nodes({tape->bsg_node, tape->sg_node},
                            "drive " + d.name + " (" + tape->address + ")");
  auto opened = transport::open_tape_transport(ring, *tape, choice);
  if (!opened) {
    throw StartupError{"drive " + d.name + " (" + tape->address + "): " + opened.error().what()};
  }
  spdlog::info("drive {}: {} {} at {}: {}", d.name, tape->vendor, tape->model, tape->address,
               opened.value().reason);
  return std::move(opened.value().transport);
}

}  // namespace

DriveConfig parse_drive_option(const std::string& option) {
  const auto eq = option.find('=');
  if (eq == std::string::npos) {
    throw StartupError{"--drive \"" + option + "\": expected NAME=SPEC, e.g. emu0=emulated:/var/lib/tapestream/emu0.tap"};
  }
  DriveConfig d;
  d.name = option.substr(0, eq);
  d.spec = option.substr(eq + 1);
  if (!proto::valid_drive_name(d.name)) {
    throw StartupError{"--drive: \"" + d.name + "\" is not a drive name ([A-Za-z0-9._-], 1 to 32)"};
  }
  if (d.spec.empty()) {
    throw StartupError{"--drive " + d.name + ": no device"};
  }
  return d;
}

std::pair<std::string, drive::Protection> parse_protection_option(const std::string& option) {
  const auto eq = option.find('=');
  const auto name = eq == std::string::npos ? std::string{} : option.substr(0, eq);
  const auto mode = drive::parse_protection(eq == std::string::npos ? option : option.substr(eq + 1));
  if (!mode || (eq != std::string::npos && !proto::valid_drive_name(name))) {
    throw StartupError{"--protection " + option + ": expected auto, off or on, or NAME=MODE for "
                       "one drive"};
  }
  return {name, *mode};
}

std::pair<scsi::TimeoutClass, std::chrono::seconds> parse_command_timeout(const std::string& option) {
  static constexpr std::pair<std::string_view, scsi::TimeoutClass> classes[] = {
      {"quick", scsi::TimeoutClass::quick},       {"data", scsi::TimeoutClass::data},
      {"filemark", scsi::TimeoutClass::filemark}, {"rewind", scsi::TimeoutClass::rewind},
      {"load", scsi::TimeoutClass::load},         {"unload", scsi::TimeoutClass::unload},
      {"position", scsi::TimeoutClass::position}, {"erase_short", scsi::TimeoutClass::erase_short},
      {"erase_long", scsi::TimeoutClass::erase_long},
  };
  const auto eq = option.find('=');
  const auto name = option.substr(0, eq);
  for (const auto& [candidate, timeout_class] : classes) {
    if (name != candidate) {
      continue;
    }
    std::uint64_t seconds = 0;
    const auto value = eq == std::string::npos ? std::string{} : option.substr(eq + 1);
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (value.empty() || error != std::errc{} || end != value.data() + value.size() ||
        seconds == 0 || seconds > 7 * 24 * 3600) {
      throw StartupError{"--command-timeout " + option + ": expected CLASS=SECONDS, 1 to 604800"};
    }
    return {timeout_class, std::chrono::seconds{seconds}};
  }
  throw StartupError{"--command-timeout " + option + ": the classes are quick, data, filemark, "
                     "rewind, load, unload, position, erase_short, erase_long"};
}

namespace {

struct PoolShape {
  std::uint32_t buffers;  // for streams; one more is the drive's control buffer
  std::uint32_t size;
  drive::Drive::StreamMarks marks;
};

std::string mib_text(std::uint64_t bytes) {
  return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

std::string_view page_kind_name(uring::BufferPool::PageKind kind) {
  switch (kind) {
    case uring::BufferPool::PageKind::huge_pages: return "huge pages";
    case uring::BufferPool::PageKind::transparent_huge_pages: return "transparent huge pages";
    case uring::BufferPool::PageKind::normal_pages: break;
  }
  return "normal pages";
}

// Said once per drive: what the pool is, and when it is smaller than configured, why.
// `size` is the configured buffer size (the pool's buffers have room for a CRC beyond it).
void log_pool(const std::string& drive, const uring::BufferPool& pool, std::uint32_t size) {
  const auto streams = pool.count() - 1;
  spdlog::info("drive {}: buffer pool {} in {} buffers of {} bytes ({})", drive,
               mib_text(std::uint64_t{streams} * size), streams, size,
               page_kind_name(pool.page_kind()));
  if (pool.count() < pool.requested_count()) {
    spdlog::warn("drive {}: buffer pool reduced to {} buffers ({}) from the {} ({}) configured, "
                 "so its drive starves sooner: {}",
                 drive, streams, mib_text(std::uint64_t{streams} * size),
                 pool.requested_count() - 1,
                 mib_text(std::uint64_t{pool.requested_count() - 1} * size),
                 pool.shortfall());
  }
}

// Runs on the drive's worker, on its ring.
DriveKit build_drive(uring::Ring& ring, const DriveConfig& d, PoolShape shape,
                     const scsi::TimeoutTable& timeouts) {
  DriveKit kit;
  // Room for a block's CRC32C beyond the configured size: a page, so that every buffer stays
  // aligned for O_DIRECT.
  const std::size_t crc_room = d.protection == drive::Protection::off ? 0 : 4096;
  // Two stream buffers and the control buffer at least: a drive served with a small pool is
  // better than a daemon that does not start because its memory lock limit was not raised.
  try {
    const auto shared_slots = std::min<std::size_t>(shape.buffers, TS_MAX_SHARED_SLOTS);
    kit.pool = std::make_unique<uring::BufferPool>(uring::BufferPool::create_fitting(
        ring, shape.buffers + 1, shape.size + crc_room, 3, shared_slots));
  } catch (const StartupError& e) {
    throw StartupError{"drive " + d.name + ": not even two buffers: " + e.what()};
  }
  log_pool(d.name, *kit.pool, shape.size);
  std::vector<std::uint16_t> buffers(kit.pool->count() - 1);
  std::iota(buffers.begin(), buffers.end(), std::uint16_t{0});
  std::vector<UniqueFd> locks;
  std::unique_ptr<transport::ScsiTransport> transport;
  try {
    transport = open_transport(ring, d, locks);
  } catch (const StartupError& e) {
    // With several drives, the one that failed must be named (the emulated drive's own
    // messages speak of its image only).
    const std::string message = e.what();
    if (message.starts_with("drive " + d.name + " ")) {
      throw;
    }
    throw StartupError{"drive " + d.name + " (" + d.spec + "): " + message};
  }
  kit.drive = std::make_unique<drive::Drive>(d.name, std::move(transport), *kit.pool, buffers,
                                             static_cast<std::uint16_t>(kit.pool->count() - 1), timeouts);
  kit.drive->hold(std::move(locks));
  auto identity = drive::identify(ring, kit.drive->transport(), *kit.pool,
                                  kit.drive->control_buffer(), kit.drive->timeouts());
  if (!identity) {
    throw StartupError{"drive " + d.name + " " + identity.error().what()};
  }
  const auto& id = identity.value();
  spdlog::info("drive {}: {} {} {} serial {}, blocks up to {} bytes ({})", d.name, id.vendor,
               id.product, id.revision, id.serial, id.max_block_length, d.spec);
  if (!id.positioning.long_position || !id.positioning.sixteen_byte) {
    spdlog::info("drive {}: no {}{}{}: files are found and counted by spacing over filemarks "
                 "from the beginning", d.name,
                 id.positioning.long_position ? "" : "READ POSITION long form",
                 id.positioning.long_position || id.positioning.sixteen_byte ? "" : ", ",
                 id.positioning.sixteen_byte ? "" : "SPACE(16)/LOCATE(16)");
  }
  kit.drive->set_protection(d.protection, shape.size);
  auto marks = shape.marks;
  const bool emulated_drive = d.library_drive_spec || emulated::is_emulated_spec(d.spec);
  if (!marks.min_rate && emulated_drive) {
    // The emulated drive's model knows its lowest speed; without a model it has none.
    const auto& model = d.library_drive_spec ? d.library_drive_spec->model
                                             : emulated::parse_drive_spec(d.spec).model;
    marks.min_rate = model ? static_cast<std::uint64_t>(model->min_rate) : 0;
  }
  if (!marks.min_rate) {
    spdlog::info("drive {}: writes are fed at their producer's pace, at least the lowest speed "
                 "of the medium's LTO generation where it is known (LTO-7 to LTO-9; min-rate "
                 "sets it)", d.name);
  } else if (*marks.min_rate > 0) {
    spdlog::info("drive {}: writes are fed at their producer's pace, at least {} bytes/s "
                 "(min-rate)", d.name, *marks.min_rate);
  }
  kit.drive->set_stream_marks(marks);
  // Said once here; each stream confirms it with the drive and says it in its summary.
  if (d.protection == drive::Protection::off) {
    spdlog::info("drive {}: Logical Block Protection off (protection=off)", d.name);
  } else if (id.offers_crc32c) {
    spdlog::info("drive {}: Logical Block Protection with CRC32C: every block carries its CRC "
                 "(protection={})", d.name, drive::protection_name(d.protection));
  } else {
    spdlog::warn("drive {}: the drive offers no Logical Block Protection with CRC32C: {}", d.name,
                 d.protection == drive::Protection::on
                     ? "protection=on, so its streams are refused"
                     : "its streams run without it");
  }
  kit.drive->set_identity(std::move(identity).value());
  return kit;
}

template <typename Value>
std::vector<std::string> key_names(const std::map<std::string, Value>& by_drive) {
  std::vector<std::string> names;
  for (const auto& entry : by_drive) {
    names.push_back(entry.first);
  }
  return names;
}

// io_uring registers at most 16384 buffers per ring; one is the drive's control buffer.
constexpr std::uint64_t max_stream_buffers = 16383;

// The drive's own, else every drive's, else `fallback`.
template <typename Value>
Value for_drive(const std::map<std::string, Value>& by_drive, const std::string& drive,
                Value fallback) {
  for (const auto& key : {drive, std::string{}}) {
    if (const auto found = by_drive.find(key); found != by_drive.end()) {
      return found->second;
    }
  }
  return fallback;
}

PoolShape pool_shape(const DaemonConfig& config, const std::string& drive) {
  drive::Drive::StreamMarks marks;
  marks.start_percent = for_drive(config.start_mark, drive, marks.start_percent);
  marks.restart_percent = for_drive(config.restart_mark, drive, marks.restart_percent);
  for (const auto& key : {drive, std::string{}}) {  // unset: the drive's own (build_drive)
    if (const auto found = config.min_rate.find(key); found != config.min_rate.end()) {
      marks.min_rate = found->second;
      break;
    }
  }
  const auto size_found = config.drive_buffer_size.find(drive);
  const auto size = size_found == config.drive_buffer_size.end() ? config.buffer_size : size_found->second;
  if (config.buffers_per_drive) {
    return {*config.buffers_per_drive, size, marks};
  }
  const auto pool_found = config.drive_pool_size.find(drive);
  const auto pool = pool_found == config.drive_pool_size.end() ? config.pool_size : pool_found->second;
  const auto count = std::clamp<std::uint64_t>(pool / size, 2, max_stream_buffers);
  return {static_cast<std::uint32_t>(count), size, marks};
}

}  // namespace

std::pair<std::string, std::uint64_t> parse_sized_option(const std::string& option,
                                                         std::string_view name, std::uint64_t min,
                                                         std::uint64_t max, std::string_view unit) {
  const auto eq = option.find('=');
  const auto drive = eq == std::string::npos ? std::string{} : option.substr(0, eq);
  const auto size = parse_size(eq == std::string::npos ? option : option.substr(eq + 1));
  if (!size || *size < min || *size > max ||
      (eq != std::string::npos && !proto::valid_drive_name(drive))) {
    throw StartupError{"--" + std::string{name} + " " + option + ": expected " +
                       std::to_string(min) + " to " + std::to_string(max) + " " +
                       std::string{unit} + ", or NAME=VALUE for one drive"};
  }
  return {drive, *size};
}

std::unique_ptr<Daemon> start_daemon(const DaemonConfig& config, UniqueFd activated) {
  base::require_sha256();  // every stream is hashed: a libcrypto without SHA-256 stops us here
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir, ec);
  if (ec) {
    throw StartupError{"cannot create the state directory " + config.state_dir.string() + ": " +
                       ec.message()};
  }
  auto state_lock = take_lock_file(config.state_dir / "tapestreamd.lock",
                                   "the state directory " + config.state_dir.string());
  // A bare name (--socket s.sock) lives in the working directory, which exists.
  if (const auto directory = config.socket_path.parent_path(); !directory.empty()) {
    std::filesystem::create_directories(directory, ec);
    if (ec) {
      throw StartupError{"cannot create the socket's directory " + directory.string() + ": " +
                         ec.message()};
    }
  }
  auto drives = config.drives;
  for (const auto& library : config.libraries) {
    for (auto& d : library_drive_configs(library)) {
      drives.push_back(std::move(d));
    }
  }
  if (drives.empty()) {
    DriveConfig emu0;
    emu0.name = "emu0";
    emu0.spec = "emulated:" + (config.state_dir / "emu0.tap").string();
    drives.push_back(std::move(emu0));
    spdlog::info("no drive configured: serving the emulated drive emu0 on {}",
                 (config.state_dir / "emu0.tap").string());
  }
  for (const auto& [name, mode] : config.protection) {
    bool found = name.empty();
    for (auto& d : drives) {
      if (name.empty() || d.name == name) {
        d.protection = mode;
        found = true;
      }
    }
    if (!found) {
      throw StartupError{"--protection names drive " + name + ", which is not configured"};
    }
  }
  if (config.block_size > config.buffer_size) {
    throw StartupError{"block size " + std::to_string(config.block_size) +
                       " is larger than the buffer size " + std::to_string(config.buffer_size)};
  }
  // Under the state directory's lock: two daemons never share a catalog file by default.
  std::shared_ptr<catalog::Catalog> catalog;
  if (config.catalog != "none") {
    const auto path = config.catalog.empty() ? config.state_dir / "catalog.sqlite"
                                             : std::filesystem::path{config.catalog};
    catalog = std::make_shared<catalog::SqliteCatalog>(path);
    spdlog::info("catalog: {}{}", path.string(),
                 catalog->health().ok ? "" : " (not usable: streams are not recorded)");
  }
  // The control thread moves no data: small entries, no registered buffers.
  auto daemon = std::make_unique<Daemon>(
      Daemon{std::move(state_lock), catalog,
             uring::Ring::create({.entries = 256, .big_entries = false}), nullptr, {}});
  auto timeouts = scsi::TimeoutTable::lto_defaults();
  for (const auto& [timeout_class, seconds] : config.command_timeouts) {
    timeouts.set_class_default(timeout_class, seconds);
  }
  for (auto d = drives.begin(); d != drives.end(); ++d) {
    if (std::any_of(drives.begin(), d, [&](const DriveConfig& e) { return e.name == d->name; })) {
      throw StartupError{"drive " + d->name + " is configured twice"};
    }
  }
  // A rule for a drive that is not served would leave the drive it was meant for (a typo) to
  // the general rules.
  for (const auto& named : config.server.access.drives_named()) {
    if (std::none_of(drives.begin(), drives.end(), [&](const DriveConfig& d) { return d.name == named; })) {
      throw StartupError{"an allow rule names drive " + named + ", which is not configured"};
    }
  }
  for (const auto& named : {key_names(config.drive_pool_size), key_names(config.drive_buffer_size),
                            key_names(config.start_mark), key_names(config.restart_mark),
                            key_names(config.min_rate)}) {
    for (const auto& name : named) {
      if (!name.empty() && std::none_of(drives.begin(), drives.end(), [&](const DriveConfig& d) { return d.name == name; })) {
        throw StartupError{"--pool-size, --buffer-size, --start-mark, --restart-mark or --min-rate names drive " + name +
                           ", which is not configured"};
      }
    }
  }
  std::uint32_t largest_buffer = config.buffer_size;
  std::vector<std::unique_ptr<DriveWorker>> workers;
  for (const auto& d : drives) {
    const auto shape = pool_shape(config, d.name);
    largest_buffer = std::max(largest_buffer, shape.size);
    workers.push_back(std::make_unique<DriveWorker>(
        d.name, [d, shape, timeouts](uring::Ring& ring) { return build_drive(ring, d, shape, timeouts); }));
  }
  // Ready only once every drive answered; the first that could not be set up is the error
  // (the other workers end with the vector).
  for (auto& w : workers) {
    w->wait_identified();
  }
  std::vector<std::shared_ptr<ChangerWorker>> changers;
  for (const auto& library : config.libraries) {
    // A real changer's drives are found among the daemon's real drives; an emulated library's
    // are its own, in the order of its spec.
    std::vector<LibraryCandidate> candidates;
    for (std::size_t i = 0; i < drives.size(); ++i) {
      const auto& d = drives[i];
      const bool real_drive = !d.library_drive_spec && !emulated::is_emulated_spec(d.spec);
      if (is_real_library(library) == real_drive && (real_drive || d.spec == library.spec)) {
        const auto& id = workers[i]->slot().drive().identity();
        candidates.push_back({d.name, id.vendor, id.serial,
                              real_drive ? nullptr : *d.library_drive});
      }
    }
    changers.push_back(std::make_shared<ChangerWorker>(library, std::move(candidates)));
    // One changer per drive: two that report the same drive would both move its cartridges.
    for (const auto& [address, drive] : changers.back()->drive_at()) {
      for (auto other = changers.begin(); other + 1 != changers.end(); ++other) {
        if ((*other)->holds_drive(drive)) {
          throw StartupError{"drive " + drive + " is in library " + (*other)->name() +
                             " and in library " + library.name + " (both report its serial "
                             "number): a drive belongs to one changer"};
        }
      }
    }
  }
  auto options = config.server;
  options.socket_path = config.socket_path;
  options.default_block_size = config.block_size;
  options.max_data = std::max<std::uint32_t>(largest_buffer, 64 * 1024);
  options.catalog = std::move(catalog);
  daemon->server =
      std::make_unique<Server>(daemon->ring, std::move(workers), options, std::move(activated));
  std::map<std::string, ChangerWorker*> by_name;
  for (const auto& c : changers) {
    by_name.emplace(c->name(), c.get());
  }
  daemon->server->set_changers(std::move(by_name));
  daemon->changers = std::move(changers);
  return daemon;
}

}  // namespace tapestream::server
