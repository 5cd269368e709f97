// tapestreamd: the tapestream daemon. It serves its drives on a Unix socket until SIGTERM or
// SIGINT, and carries two tools that exercise its layers: --self-check and --decode-sense.
#include <boost/program_options.hpp>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "common/size.hpp"
#include "base/startup_error.hpp"
#include "server/changer_worker.hpp"
#include "server/startup.hpp"
#include "service/activation.hpp"
#include "service/logging.hpp"
#include "service/notifier.hpp"
#include "service/service_monitor.hpp"

#include "scsi/condition.hpp"
#include "scsi/sense.hpp"
#include "tools/hex.hpp"
#include "tools/probe.hpp"
#include "tools/self_check.hpp"
#include "tools/sense_report.hpp"

namespace po = boost::program_options;
using namespace tapestream;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 64;  // EX_USAGE

constexpr const char* usage_text = R"(tapestreamd - stream data to and from SCSI tape drives

Usage:
  tapestreamd [--config FILE] [--socket PATH] [--state-dir DIR] [--drive NAME=SPEC]...
              [--library NAME=emulated-library:DIR?drives=A,B...]...
  tapestreamd --self-check
  tapestreamd --probe [--config FILE] [--drive NAME=SPEC]...
  tapestreamd --decode-sense HEX [--opcode HEX]
  tapestreamd --help | --version

Description:
  Without --self-check, --probe or --decode-sense the daemon serves its drives on a
  Unix socket, in the foreground, logging to stderr (or to the journal, with fields
  such as TAPESTREAM_DRIVE, under systemd: see --log-target), until SIGTERM or
  SIGINT; then it takes no new streams, lets the running ones end (cutting them,
  with exact accounting, after --stop-timeout), and exits. It binds the socket
  itself (group --socket-group, mode --socket-mode), or serves the one socket
  systemd passes (socket activation, e.g. tapestreamd.socket), which must be bound
  to the --socket path. Started by systemd as a Type=notify service it sends
  READY=1 once every drive is identified, STATUS= every few seconds, STOPPING=1 on
  SIGTERM, and WATCHDOG=1 (with WatchdogSec=) only while every drive's worker
  turns. It refuses to start on
  a socket path where a daemon answers, a state directory or an image another
  daemon (or another of its drives) holds, or a path that is not a socket: each
  is a configuration error (exit 78). With no --drive it serves
  one emulated drive, emu0, whose tape is DIR/emu0.tap. A drive is NAME=SPEC, where SPEC
  is one of
    emulated:PATH[?OPTIONS]  the emulated drive on a SIMH image (docs/EMULATED_DRIVE.md)
    null:[?OPTIONS]          the emulated drive with no image, keeping no data (reads
                             return zeros): for measuring the daemon itself
    scsi:DEVICE              a real drive; bsg io_uring commands where the kernel takes
                             them (Linux 7.1 and later), else the sg driver
    bsg:DEVICE, sg:DEVICE    a real drive through that transport only
  where DEVICE is the SCSI address (0:0:0:0), any of the drive's nodes (/dev/nst0,
  /dev/sg0, /dev/bsg/0:0:0:0) or its serial number, found in sysfs.

  A library, --library NAME=emulated-library:DIR?drives=A,B&slots=N&ie=N..., is an
  emulated tape library whose cartridges are the SIMH images DIR/BARCODE.tap; the
  drives it names are served as drives A, B, empty until its robot brings a cartridge
  (docs/EMULATED_DRIVE.md, "The emulated library").

  The options may also stand in a configuration file, one "name = value" per line
  (drive = emu0=emulated:/srv/emu0.tap, socket = /run/tapestream/tapestreamd.sock, ...);
  the command line wins over the file.

  --self-check builds every SCSI command the daemon sends, prints its CDB, data
  direction, expected transfer length and default timeout, and classifies a set of
  reference sense samples. Then it sets up what serving needs on this machine (an
  io_uring with 128-byte SQEs, locked and registered buffers) and writes and reads
  back blocks and a filemark on an emulated drive in a scratch directory ($TMPDIR).
  It exits 1 if any of this fails, saying what failed and how to fix it.

  --probe prints the kernel, its io_uring features and the sg module's state, every
  tape drive in sysfs with its st, bsg and sg nodes and the transport it would get and
  why, every medium changer in sysfs with its ch, bsg and sg nodes, and the same for
  each configured drive. It exits 1 if a configured drive cannot be opened.

  --decode-sense decodes sense data as the kernel logs it or sg3_utils prints it
  (fixed or descriptor format; bytes separated by spaces, commas or colons, or run
  together), and with --opcode also shows which tape condition it means for that
  command and whether that condition is expected or an error.


Options:)";

constexpr const char* exit_text = R"(
Exit status:
  0   success
  1   a check failed, the sense data could not be decoded, or serving failed
  64  usage error
  78  configuration error: the message says what and how to fix it
)";

constexpr int exit_config = 78;  // EX_CONFIG

volatile std::sig_atomic_t stop_signal = 0;
extern "C" void request_stop(int signal) { stop_signal = signal; }

std::uint32_t size_option(const po::variables_map& vm, const char* name, std::uint64_t max) {
  const auto text = vm[name].as<std::string>();
  const auto size = parse_size(text);
  if (!size || *size == 0 || *size > max) {
    throw StartupError{std::string{"--"} + name + " " + text + ": expected a size from 1 to " +
                       std::to_string(max) + " (K, M, G allowed)"};
  }
  return static_cast<std::uint32_t>(*size);
}

// Descriptors are what clients cost: the soft limit goes as high as the hard one allows.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    const auto before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      spdlog::debug("descriptor limit raised from {} to {}", before, limit.rlim_cur);
    }
  }
}

std::chrono::seconds seconds_option(const po::variables_map& vm, const char* name) {
  const auto value = vm[name].as<unsigned>();
  if (value > 7 * 24 * 3600) {
    throw StartupError{std::string{"--"} + name + " " + std::to_string(value) +
                       ": at most 604800 (a week); 0 means no limit"};
  }
  return std::chrono::seconds{value};
}

int serve(const po::variables_map& vm) {
  raise_descriptor_limit();
  server::DaemonConfig config;
  config.socket_path = vm["socket"].as<std::string>();
  config.state_dir = vm["state-dir"].as<std::string>();
  config.catalog = vm["catalog"].as<std::string>();
  if (vm.count("buffers") != 0) {
    config.buffers_per_drive = vm["buffers"].as<unsigned>();
    if (*config.buffers_per_drive < 2 || *config.buffers_per_drive > 4096) {
      throw StartupError{"--buffers must be 2 to 4096"};
    }
  }
  // Repeatable: a bare SIZE is every drive's, NAME=SIZE one drive's; the first of each wins
  // (the command line is read before the configuration file).
  bool buffer_size_given = false;
  for (const auto& option : vm["buffer-size"].as<std::vector<std::string>>()) {
    const auto [drive, size] = server::parse_sized_option(option, "buffer-size", 4096, 16U << 20);
    if (drive.empty() && !buffer_size_given) {
      config.buffer_size = static_cast<std::uint32_t>(size);
      buffer_size_given = true;
    } else if (!drive.empty()) {
      config.drive_buffer_size.emplace(drive, static_cast<std::uint32_t>(size));
    }
  }
  if (vm.count("min-rate") != 0) {
    for (const auto& option : vm["min-rate"].as<std::vector<std::string>>()) {
      const auto [drive, rate] = server::parse_sized_option(option, "min-rate", 0, std::uint64_t{1} << 40,
                                                            "bytes per second (K, M, G allowed)");
      config.min_rate.emplace(drive, rate);  // the first for each drive wins
    }
  }
  for (const auto* mark : {"start-mark", "restart-mark"}) {
    if (vm.count(mark) == 0) {
      continue;
    }
    auto& marks = std::string_view{mark} == "start-mark" ? config.start_mark : config.restart_mark;
    for (const auto& option : vm[mark].as<std::vector<std::string>>()) {
      const auto [drive, percent] = server::parse_sized_option(option, mark, 1, 100, "percent");
      marks.emplace(drive, static_cast<unsigned>(percent));  // the first for each drive wins
    }
  }
  if (vm.count("pool-size") != 0) {
    bool pool_size_given = false;
    for (const auto& option : vm["pool-size"].as<std::vector<std::string>>()) {
      const auto [drive, size] =
          server::parse_sized_option(option, "pool-size", 2 * 4096, std::uint64_t{64} << 30);
      if (drive.empty() && !pool_size_given) {
        config.pool_size = size;
        pool_size_given = true;
      } else if (!drive.empty()) {
        config.drive_pool_size.emplace(drive, size);
      }
    }
  }
  config.block_size = size_option(vm, "block-size", 0xFF'FFFF);
  if (vm.count("protection") != 0) {
    for (const auto& p : vm["protection"].as<std::vector<std::string>>()) {
      config.protection.push_back(server::parse_protection_option(p));
    }
  }
  if (vm.count("drive") != 0) {
    for (const auto& d : vm["drive"].as<std::vector<std::string>>()) {
      config.drives.push_back(server::parse_drive_option(d));
    }
  }
  if (vm.count("library") != 0) {
    for (const auto& l : vm["library"].as<std::vector<std::string>>()) {
      config.libraries.push_back(server::parse_library_option(l));
    }
  }
  config.server.idle_timeout = seconds_option(vm, "idle-timeout");
  config.server.stream_timeout = seconds_option(vm, "stream-timeout");
  config.server.stop_timeout = seconds_option(vm, "stop-timeout");
  config.server.volume_wait = seconds_option(vm, "volume-wait");
  config.server.tape_alert_interval = seconds_option(vm, "tapealert-interval");
  config.server.max_connections = vm["max-connections"].as<unsigned>();
  config.server.max_connections_per_user = vm["max-connections-per-user"].as<unsigned>();
  if (config.server.max_connections == 0 || config.server.max_connections_per_user == 0) {
    throw StartupError{"--max-connections and --max-connections-per-user must be at least 1"};
  }
  if (vm.count("command-timeout") != 0) {
    for (const auto& t : vm["command-timeout"].as<std::vector<std::string>>()) {
      config.command_timeouts.push_back(server::parse_command_timeout(t));
    }
  }
  const auto names = server::system_names();
  config.server.access = server::AccessPolicy{names.group("tape")};
  if (vm.count("allow") != 0) {
    for (const auto& rule : vm["allow"].as<std::vector<std::string>>()) {
      config.server.access.add(server::parse_access_rule(rule, names));
    }
  }
  for (const auto& line : config.server.access.describe()) {
    spdlog::info("access: {}", line);
  }
  config.server.socket_access.group = vm["socket-group"].as<std::string>();
  config.server.socket_access.group_is_default = vm["socket-group"].defaulted();
  config.server.socket_access.mode = server::parse_socket_mode(vm["socket-mode"].as<std::string>());
  // Before the drives are set up (which may take minutes with real drives), so that a unit
  // that passes the wrong socket, or a group that cannot be had, fails at once.
  auto activated = service::activated_socket(config.socket_path);
  const bool adopted = static_cast<bool>(activated);
  if (!adopted) {
    config.server.socket_access.gid = server::resolve_socket_group(config.server.socket_access);
  }
  auto daemon = server::start_daemon(config, std::move(activated));
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  spdlog::info("serving on {}{}", config.socket_path.string(),
               adopted ? " (the socket systemd passed)" : "");
  service::Notifier notifier;
  service::ServiceMonitor monitor{*daemon->server, notifier};
  monitor.ready(service::ServiceMonitor::Clock::now());
  const bool clean = daemon->server->run([] { return stop_signal != 0; },
                                         [&] { monitor.tick(service::ServiceMonitor::Clock::now()); });
  spdlog::info("stopped");
  return clean ? exit_ok : exit_failure;
}

int decode_sense(const std::string& hex, const std::string& opcode_hex, bool has_opcode) {
  auto bytes = tools::parse_hex(hex, 252);
  if (!bytes) {
    std::fprintf(stderr, "tapestreamd: --decode-sense: %s: expected up to 252 hex bytes, got \"%s\"\n",
                 bytes.error().message().c_str(), hex.c_str());
    return exit_usage;
  }
  auto sense = scsi::normalise_sense(bytes.value());
  if (!sense) {
    std::fprintf(stderr, "tapestreamd: cannot decode sense data: %s\n",
                 sense.error().message().c_str());
    return exit_failure;
  }
  std::fputs(tools::describe_sense(sense.value()).c_str(), stdout);
  if (has_opcode) {
    auto op = tools::parse_hex(opcode_hex, 1);
    if (!op || op.value().size() != 1) {
      std::fprintf(stderr, "tapestreamd: --opcode: expected one hex byte, got \"%s\"\n",
                   opcode_hex.c_str());
      return exit_usage;
    }
    scsi::Command command;
    command.cdb[0] = op.value()[0];
    command.cdb_length = 6;
    scsi::CompletionStatus status;
    status.scsi_status = static_cast<std::uint8_t>(scsi::ScsiStatus::check_condition);
    status.sense = bytes.value();
    const auto c = scsi::classify(command, status);
    std::printf("condition:   %s\n", tools::describe_classification(command.opcode(), c).c_str());
  }
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description options;
  // clang-format off
  options.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("self-check", "check the SCSI command layer and exit")
      ("probe", "list the tape drives, their transports and why, and exit")
      ("decode-sense", po::value<std::string>()->value_name("HEX"), "decode sense bytes and exit")
      ("opcode", po::value<std::string>()->value_name("HEX"),
       "with --decode-sense: the opcode of the command that got this sense (e.g. 08 for READ(6))")
      ("config", po::value<std::string>()->value_name("FILE"), "read options from FILE too")
      ("socket", po::value<std::string>()->value_name("PATH")
           ->default_value("/run/tapestream/tapestreamd.sock"), "the Unix socket to serve on")
      ("state-dir", po::value<std::string>()->value_name("DIR")
           ->default_value("/var/lib/tapestream"), "where the daemon keeps its state and emu0's tape")
      ("catalog", po::value<std::string>()->value_name("PATH")->default_value(""),
       "the SQLite file recording every volume and stream written (default: catalog.sqlite "
       "in the state directory), or none")
      ("drive", po::value<std::vector<std::string>>()->value_name("NAME=SPEC")->composing(),
       "a drive to serve (repeatable); none: the emulated drive emu0")
      ("library", po::value<std::vector<std::string>>()->value_name("NAME=SPEC")->composing(),
       "a library to serve (repeatable): emulated-library:DIR?drives=A,B&slots=N... (its drives "
       "are served as drives A, B), or scsi:CHANGER (bsg:, sg:) for a real changer, whose drives "
       "are the --drive drives its elements name by serial number")
      ("pool-size", po::value<std::vector<std::string>>()->value_name("[NAME=]SIZE")->composing(),
       "memory per drive for the buffers between client and tape (default 256M), locked and "
       "registered; NAME= for one drive; repeatable. A memory lock limit that forbids it "
       "leaves the drive the pool it allows, and says so")
      ("start-mark", po::value<std::vector<std::string>>()->value_name("[NAME=]PERCENT")->composing(),
       "a write stream's first WRITE waits until this much of the pool is full, or the data "
       "ended (default 50; 1: none); NAME= for one drive; repeatable")
      ("restart-mark", po::value<std::vector<std::string>>()->value_name("[NAME=]PERCENT")->composing(),
       "when the pool runs dry mid-stream, the next WRITE waits until this much of it is full "
       "again, or the data ended, so the drive gets long runs (default 50; 1: none); NAME= for "
       "one drive; repeatable")
      ("min-rate", po::value<std::vector<std::string>>()->value_name("[NAME=]RATE")->composing(),
       "the drive's lowest streaming speed, bytes/s (an LTO-9: 177M): a write feeds the drive "
       "at its producer's mean rate and at least this, not as fast as it takes data, so that "
       "the pool rides out the producer's stalls; 0: off (default: for a real drive the "
       "lowest speed of its cartridge's LTO generation, LTO-7 to LTO-9, read at each write; "
       "for an emulated drive its model's, else 0); NAME= for one drive; repeatable")
      ("buffers", po::value<unsigned>()->value_name("N"),
       "registered buffers per drive, whatever --pool-size says (2 to 4096)")
      ("buffer-size", po::value<std::vector<std::string>>()->value_name("[NAME=]SIZE")
           ->composing()->default_value({"256K"}, "256K"),
       "bytes per buffer (4K to 16M), the largest block a stream may use; NAME= for one drive; "
       "repeatable")
      ("block-size", po::value<std::string>()->value_name("SIZE")->default_value("256K"),
       "the block size of streams that do not choose one")
      ("protection", po::value<std::vector<std::string>>()->value_name("[NAME=]MODE")->composing(),
       "Logical Block Protection (a CRC32C with every block, checked by the drive on write and "
       "by the daemon on read): auto (where the drive offers it), off, or on (refuse streams on "
       "a drive without it); NAME= for one drive; repeatable, later ones win")
      ("stream-timeout", po::value<unsigned>()->value_name("SECONDS")->default_value(600),
       "end a stream whose client moves no data for this long (0: never)")
      ("tapealert-interval", po::value<unsigned>()->value_name("SECONDS")->default_value(30),
       "while writing, read the drive's TapeAlert flags at most this often; a critical flag "
       "ends the stream (0: only when its data is written)")
      ("idle-timeout", po::value<unsigned>()->value_name("SECONDS")->default_value(300),
       "close a connection that sends no complete request for this long (0: never)")
      ("stop-timeout", po::value<unsigned>()->value_name("SECONDS")->default_value(60),
       "after SIGTERM, cut the streams still running after this long")
      ("volume-wait", po::value<unsigned>()->value_name("SECONDS")->default_value(3600),
       "a stream that spans volumes on a drive no library serves waits this long for the next "
       "cartridge (an autoloader's or an operator's; 0: until its client leaves)")
      ("max-connections", po::value<unsigned>()->value_name("N")->default_value(256),
       "connections served at once")
      ("max-connections-per-user", po::value<unsigned>()->value_name("N")->default_value(32),
       "connections served at once for one uid")
      ("command-timeout", po::value<std::vector<std::string>>()->value_name("CLASS=SECONDS")->composing(),
       "replace the default timeout of a class of SCSI commands (quick, data, filemark, "
       "rewind, load, unload, position, erase_short, erase_long); repeatable")
      ("allow", po::value<std::vector<std::string>>()->value_name("CLASS[@DRIVE]:WHO...")->composing(),
       "who may do what: CLASS is status (drives, status, tell), read, write (append), "
       "position (rewind, load, eject, fsf, bsf, fsr, bsr, eod, seek), destroy (erase, weof, "
       "setblk, compression, writing where the tape stands) or all; WHO is user:NAME, uid:N, "
       "group:NAME, gid:N or everyone; repeatable; a class no rule names: root and group tape")
      ("socket-group", po::value<std::string>()->value_name("GROUP")->default_value("tape"),
       "the group of a socket the daemon binds (not with socket activation, where the .socket "
       "unit's SocketGroup= decides); left at tape, a daemon that cannot use the group keeps "
       "its own")
      ("socket-mode", po::value<std::string>()->value_name("OCTAL")->default_value("0660"),
       "the permissions of a socket the daemon binds (not with socket activation: SocketMode=)")
      ("log-level", po::value<std::string>()->value_name("LEVEL")->default_value("info"),
       "trace, debug, info, warn, error, critical or off")
      ("log-target", po::value<std::string>()->value_name("TARGET")->default_value("auto"),
       "journal (with priorities and TAPESTREAM_* fields), stderr, or auto: the journal when "
       "stderr is the journal (JOURNAL_STREAM) or the daemon is a systemd service's main "
       "process (INVOCATION_ID, started by PID 1), else stderr");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "tapestreamd: %s\nTry 'tapestreamd --help'.\n", e.what());
    return exit_usage;
  }
  if (vm.count("config") != 0) {
    const auto path = vm["config"].as<std::string>();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      std::fprintf(stderr, "tapestreamd: the configuration file %s %s\n", path.c_str(),
                   std::filesystem::exists(path, ec) ? "is not a regular file" : "does not exist");
      return exit_config;
    }
    std::ifstream file{path};
    if (!file) {
      std::fprintf(stderr, "tapestreamd: cannot read the configuration file %s\n", path.c_str());
      return exit_config;
    }
    try {
      po::store(po::parse_config_file(file, options), vm);
    } catch (const po::error& e) {
      std::fprintf(stderr, "tapestreamd: %s: %s\n", path.c_str(), e.what());
      return exit_config;
    }
  }
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "tapestreamd: %s\nTry 'tapestreamd --help'.\n", e.what());
    return exit_usage;
  }
  const auto level_name = vm["log-level"].as<std::string>();
  const auto level = spdlog::level::from_str(level_name);
  // spdlog takes any unknown name for "off": a typo must not silence the daemon.
  if (level == spdlog::level::off && level_name != "off") {
    std::fprintf(stderr, "tapestreamd: --log-level %s: expected trace, debug, info, warn, error, "
                         "critical or off\nTry 'tapestreamd --help'.\n",
                 level_name.c_str());
    return exit_usage;
  }
  const auto target_name = vm["log-target"].as<std::string>();
  const auto target = service::parse_log_target(target_name);
  if (!target) {
    std::fprintf(stderr, "tapestreamd: --log-target %s: expected auto, journal or stderr\n"
                         "Try 'tapestreamd --help'.\n",
                 target_name.c_str());
    return exit_usage;
  }
  service::set_up_logging(*target, level);
  if (vm.count("help") != 0) {
    std::cout << usage_text << "\n" << options << exit_text;
    return exit_ok;
  }
  if (vm.count("version") != 0) {
    std::cout << "tapestreamd " << TAPESTREAM_VERSION << "\n";
    return exit_ok;
  }
  if (vm.count("self-check") != 0) {
    const bool scsi_ok = tools::run_self_check(std::cout);
    const bool drive_ok = tools::run_drive_check(std::cout);
    std::cout << (scsi_ok && drive_ok ? "self-check passed\n" : "self-check FAILED\n");
    return scsi_ok && drive_ok ? exit_ok : exit_failure;
  }
  if (vm.count("probe") != 0) {
    std::vector<std::pair<std::string, std::string>> configured;
    try {
      if (vm.count("drive") != 0) {
        for (const auto& d : vm["drive"].as<std::vector<std::string>>()) {
          const auto drive = server::parse_drive_option(d);
          configured.emplace_back(drive.name, drive.spec);
        }
      }
    } catch (const StartupError& e) {
      std::fprintf(stderr, "tapestreamd: %s\n", e.what());
      return exit_config;
    }
    return tools::run_probe(std::cout, configured) ? exit_ok : exit_failure;
  }
  if (vm.count("decode-sense") != 0) {
    const bool has_opcode = vm.count("opcode") != 0;
    return decode_sense(vm["decode-sense"].as<std::string>(),
                        has_opcode ? vm["opcode"].as<std::string>() : std::string{}, has_opcode);
  }
  if (vm.count("opcode") != 0) {
    std::fputs("tapestreamd: --opcode goes with --decode-sense\n", stderr);
    return exit_usage;
  }
  try {
    return serve(vm);
  } catch (const StartupError& e) {
    spdlog::critical("{}", e.what());
    return exit_config;
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return exit_failure;
  }
}
