// tapestream: the command-line client of tapestreamd. `tar c /srv | tapestream write` puts a
// stream on tape, committed only when it is on the medium; `tapestream read --file 3 | tar x`
// gives it back; the other commands position and inspect the drive, with mt's verbs.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"
#include "mtx.hpp"

using namespace tapestream;
using namespace tapestream::cli;

namespace {

constexpr int exit_usage = 64;

constexpr const char* usage_text = R"(tapestream - write to and read from tape through tapestreamd

Usage:
  tapestream [OPTIONS] write [--block-size SIZE] [--fixed] [--no-wait] [--here]
                           [--span] [--label TEXT] [--size SIZE] [--force] [--no-digest]
                           [--data-path auto|fd|stream] [-- COMMAND [ARG]...]
  tapestream [OPTIONS] read [--file N] [--span | --stream S] [--incomplete]
                          [--data-path auto|fd|stream]
  tapestream [OPTIONS] status | drives | tell
  tapestream [OPTIONS] list [--volume V]
  tapestream [OPTIONS] label NAME [--force]
  tapestream [OPTIONS] verify --file N | --all
  tapestream [OPTIONS] catalog rebuild
  tapestream [OPTIONS] changer status | inventory | load SLOT | unload [SLOT]
                             | transfer FROM TO
  tapestream [OPTIONS] mtx [-f LIBRARY] COMMAND [ARG]... [COMMAND [ARG]...]...
  tapestream [OPTIONS] rewind | load | eject | eod
  tapestream [OPTIONS] weof [N] | fsf [N] | bsf [N] | fsr [N] | bsr [N] | seek BLOCK
  tapestream [OPTIONS] erase [--long] | setblk SIZE | compression on|off

Commands:
  write    copy standard input to tape as one file, appended after the last file
           (--here: at the current position, which must be the start of a file, and
           which ends the tape there). Exits 0 only once the data and a filemark are on
           the medium (WRITE FILEMARKS, Immed=0). With "-- COMMAND", runs COMMAND and
           writes its output; if COMMAND fails or is killed, the stream is not
           committed (exit 65). A producer in a shell pipe (tar c | tapestream write)
           cannot be watched: when it dies, what it wrote is committed. --size, and the
           length of a regular file as standard input, make a stream of another length
           fail (exit 65). Standard input that is a terminal is refused unless --force.
           Prints what was committed and "tapestream: sha256 HEX", the stream's SHA-256
           as sha256sum prints it, on standard error (not with --no-digest). With --span (a
           drive of a library) a stream that fills its tape goes on on the next scratch
           volume: each part is a file on its volume, concatenated they are the stream.
  read     copy file N (default: the file at the current position) to standard output;
           if the reader of standard output goes away, ends by SIGPIPE as cat does.
           Prints what it read and the SHA-256 of what it gave (a fixed-block file's
           padding included) on standard error. With --span (--file N: a part) or
           --stream S, a stream that spans volumes: the library loads each part's
           cartridge into the drive in turn and its file is read, all to standard
           output; a part missing or shorter than the catalog says ends it (exit 66
           or 74) with the count of bytes restored; a stream whose last part the
           catalog does not mark as the one it committed with is refused (exit 65)
           unless --incomplete asks for the parts there are.
  status   the drive: identity, position, block size, flags
  drives   the drives the daemon serves
  list     the files the daemon's catalog records on a volume (--volume: a label, a
           volume UUID or a medium serial number; default: the cartridge last written
           in the drive), one line each: file number, size, blocks, date, the first 12
           hex digits of its SHA-256, status (complete, interrupted, failed,
           overwritten, writing, and from catalog rebuild scanned, superseded) and
           label; a part of a stream that spans volumes adds "[stream S part K from
           byte O]" (", the last" on the part it committed with); with --json every field
  label    write a volume label NAME (1 to 64 bytes of UTF-8, no control characters)
           at the beginning of the tape, making it a labelled tape: every later write
           is followed by a trailer file naming it, so data files are 1, 3, 5 ... (see
           docs/TAPE_FORMAT.md). Refuses a tape that holds data or another label unless
           --force, which ends the tape at its beginning (everything on it is gone)
  verify   read file N (--file N), or every file from file 0 to end of data (--all),
           in the daemon without copying it anywhere, and check each against the
           catalog: ok (its size and SHA-256 are those written), mismatch (they
           differ: the tape's copy is damaged), unrecorded (the catalog has no complete
           row with a digest for it: only that it reads was checked) or unreadable (a
           medium or drive error). One line per file on standard output (--json: one
           object); every bad file is named on standard error. Exits 0 when every file
           checked is ok or unrecorded, 74 when one is bad (or the drive could not
           reach the next file), 66 when file N does not exist.
  catalog rebuild
           scan every file of the loaded tape (as verify --all) and record what it holds
           in the catalog: a row per data file with its size, blocks, largest block and
           SHA-256. On a labelled tape the volume label and each file's trailer give
           names, owners and times, and a file whose trailer confirms it is complete;
           any other file is "scanned". The rows the volume had are kept, marked
           superseded. Exits 74 when the scan could not reach the end of data.
  changer  a tape library's robot (--library, default: the daemon's only library).
           status: every element (drives by the daemon's names, slots from 1, the
           import/export slots numbered after them, as mtx numbers them), full or
           empty, the barcode and the slot a cartridge came from; inventory: the
           cartridges and where each is. load SLOT puts the cartridge of SLOT into
           --drive (default: the first empty drive); unload has --drive (default: the
           first full drive) unload its tape and puts the cartridge into SLOT (default:
           the slot it came from); transfer FROM TO moves a cartridge between slots.
           A drive in use by a stream or held by another client is refused (exit 75).
  mtx      mtx's command line and output on a library of the daemon, for scripts
           written for mtx (Bareos's mtx-changer, Amanda's chg-robot): -f LIBRARY (the
           library's name; default: $CHANGER, else the daemon's only library), then
           status, load SLOT [DRIVE], unload [SLOT] [DRIVE], transfer FROM TO, first,
           last, next, previous [DRIVE], inventory, inquiry, position SLOT, eepos N,
           and the flags nobarcode, invert, invert2, noattach, altres, several in one
           call. Prints what mtx prints and exits as mtx does: 0, or 1 after "mtx: WHY".
           Drives are numbered from 0, slots from 1 with the import/export slots after
           the storage slots. Only --socket may come before it. A script that runs mtx
           by path is pointed at the tapestream-mtx link instead (see tapestream(1)).
  tell     the current block and file number
  rewind, load, eject (unload), eod (to end of data), weof (write N filemarks; 0
  writes the drive's buffer to the medium), fsf/bsf (forward/back over N filemarks),
  fsr/bsr (over N blocks; a count of 0 moves nothing), seek (to a block),
  erase (short, or --long: to the end of the tape), setblk (0: variable blocks),
  compression on|off

Options:)";

constexpr const char* exit_text = R"(
Environment:
  TAPESTREAM_SOCKET   the daemon's socket, unless --socket names one

Exit status:
  0   done (write: committed: on the medium)
  64  usage error, or an unknown drive
  65  write: the stream is incomplete (its producer failed, or its length is not the
      expected one); it was not committed (the message says how much of it is on the
      tape); read --span/--stream: the stream is not known to be whole
  66  no cartridge, write protected, or no such file
  69  the daemon cannot be reached
  70  a protocol or internal error
  73  the tape is full: the stream ended at end of medium (the message says how much
      of it is on the tape)
  74  a medium, drive or transport error, or a timeout (the message says how much of
      the stream is on the tape); read: the file read back differs from what the
      catalog recorded when it was written (after all its data); verify: a file is
      bad
  75  the drive is busy (with --no-wait), the daemon is stopping, or the stream moved
      no data for the daemon's stream timeout
  141 read: killed by SIGPIPE, its reader went away (as 128+13 in a shell)
)";

// A file number as text: drives without READ POSITION's long form report none.
std::string file_text(std::uint64_t file, std::uint32_t state, bool json) {
  if ((state & TS_STATE_FILE_UNKNOWN) != 0) {
    return json ? "null" : "unknown";
  }
  return std::to_string(file);
}

Result<void> drives_command(ts_client* c, const Globals& g) {
  std::vector<std::string> drives;
  const int n = ts_list_drives(
      c,
      [](const char* drive, void* context) {
        static_cast<std::vector<std::string>*>(context)->emplace_back(drive);
        return 0;
      },
      &drives);
  if (n < 0) {
    return lib_failure(c, n, "drives");
  }
  if (g.json) {
    std::string out = "[";
    for (std::size_t i = 0; i < drives.size(); ++i) {
      out += (i == 0 ? "" : ",") + json_text(drives[i]);
    }
    std::printf("%s]\n", out.c_str());
  } else {
    for (const auto& d : drives) {
      std::printf("%s\n", d.c_str());
    }
  }
  return outcome::success();
}

// The mt verbs: which operation, and how many arguments each takes.
struct Verb {
  const char* name;
  int op;  // TS_CTL_*
  unsigned min_args;
  unsigned max_args;
};
constexpr Verb verbs[] = {
    {"rewind", TS_CTL_REWIND, 0, 0}, {"load", TS_CTL_LOAD, 0, 0},
    {"eject", TS_CTL_EJECT, 0, 0},   {"offline", TS_CTL_EJECT, 0, 0},
    {"weof", TS_CTL_WEOF, 0, 1},     {"fsf", TS_CTL_FSF, 0, 1},
    {"bsf", TS_CTL_BSF, 0, 1},       {"fsr", TS_CTL_FSR, 0, 1},
    {"bsr", TS_CTL_BSR, 0, 1},       {"eod", TS_CTL_EOD, 0, 0},
    {"tell", TS_CTL_TELL, 0, 0},     {"seek", TS_CTL_SEEK, 1, 1},
    {"erase", TS_CTL_ERASE, 0, 0},   {"setblk", TS_CTL_SETBLK, 1, 1},
    {"compression", TS_CTL_COMPRESSION, 1, 1},
};

const Verb* find_verb(const std::string& name) {
  for (const auto& v : verbs) {
    if (name == v.name) {
      return &v;
    }
  }
  return nullptr;
}

// Usage errors are found before the daemon is asked anything.
Result<void> check_arguments(const std::string& command,
                             const std::vector<std::string>& args, bool has_producer) {
  if (has_producer && command != "write") {
    return Failure{TS_BAD_REQUEST, "\"-- COMMAND\" goes with write only"};
  }
  unsigned max_args = 0;
  unsigned min_args = 0;
  if (command != "write" && command != "read" && command != "status" && command != "drives" &&
      command != "list" && command != "label" && command != "verify" &&
      command != "catalog" && command != "changer" && command != "mtx") {
    const auto* v = find_verb(command);
    if (v == nullptr) {
      return Failure{TS_BAD_REQUEST,
                             "unknown command \"" + command + "\"; see --help"};
    }
    min_args = v->min_args;
    max_args = v->max_args;
  }
  if (command == "label") {
    min_args = 1;
    max_args = 1;
  }
  if (command == "changer") {
    return check_changer_arguments(args);
  }
  if (command == "mtx") {
    return Failure{TS_BAD_REQUEST, "mtx takes mtx's own arguments; only --socket may come before it"};
  }
  if (command == "catalog") {
    if (args.size() != 1 || args[0] != "rebuild") {
      return Failure{TS_BAD_REQUEST, "catalog: the only subcommand is rebuild"};
    }
    return outcome::success();
  }
  if (args.size() > max_args) {
    return Failure{TS_BAD_REQUEST,
                           command + " takes " + (max_args == 0 ? "no argument" : "one argument") +
                               "; \"" + args[max_args] + "\" is one too many" +
                               (command == "write" ? " (a producer command goes after --)" : "")};
  }
  if (args.size() < min_args) {
    return Failure{TS_BAD_REQUEST, command + " needs an argument"};
  }
  return outcome::success();
}

Result<void> control_command(ts_client* c, const Globals& g, const std::string& verb,
                             const std::vector<std::string>& args,
                             const po::variables_map& vm) {
  const auto* v = find_verb(verb);
  std::int64_t argument = 0;
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  if (v->max_args > 0) {
    std::uint64_t n = 0;
    if (args.empty()) {
      argument = 1;
    } else if (v->op == TS_CTL_COMPRESSION) {
      if (args[0] != "on" && args[0] != "off") {
        return Failure{TS_BAD_REQUEST, "compression on|off"};
      }
      argument = args[0] == "on" ? 1 : 0;
    } else if (ts_parse_size(args[0].c_str(), &n) != 0 ||
               n > static_cast<std::uint64_t>(INT64_MAX)) {
      return Failure{TS_BAD_REQUEST,
                             verb + ": \"" + args[0] + "\" is not a count"};
    } else {
      argument = static_cast<std::int64_t>(n);
    }
  }
  if (v->op == TS_CTL_ERASE) {
    argument = vm.count("long") != 0 ? 1 : 0;
  }
  ts_position done;
  TS_INIT(ts_position, &done);
  if (const int r = ts_control(c, drive.c_str(), v->op, argument, 0, &done); r != 0) {
    return lib_failure(c, r, verb);
  }
  if (g.json) {
    std::printf("{\"drive\":%s,\"file\":%s,\"block\":%llu,\"bop\":%s}\n",
                json_text(drive).c_str(), file_text(done.file_number, done.state, true).c_str(),
                static_cast<unsigned long long>(done.block_number),
                (done.state & TS_STATE_BOP) != 0 ? "true" : "false");
  } else if (v->op == TS_CTL_TELL) {
    std::printf("file %s, block %llu\n", file_text(done.file_number, done.state, false).c_str(),
                static_cast<unsigned long long>(done.block_number));
  }
  return outcome::success();
}

// A failure as JSON: its status and message, and for a stream what of it is on the tape.
void print_json_failure(const Failure& f, std::FILE* out) {
  std::string extra;
  if (const auto& s = f.stream) {
    extra = ",\"bytes\":" + std::to_string(s->bytes) + ",\"blocks\":" + std::to_string(s->blocks) +
            ",\"file\":" + std::to_string(s->file_number) + ",\"filemark\":" +
            ((s->flags & TS_FAILED_FILEMARK_WRITTEN) != 0 ? "true" : "false");
  }
  std::fprintf(out, "{\"error\":%s,\"message\":%s%s}\n",
               json_text(status_name(f.status)).c_str(),
               json_text(f.what()).c_str(), extra.c_str());
}

// The command, on a connection of its own that is closed before main reports a failure.
Result<void> run(const Globals& g, const std::string& command,
                 const std::vector<std::string>& args, const po::variables_map& vm,
                 const std::vector<std::string>& producer) {
  BOOST_OUTCOME_TRY(check_arguments(command, args, !producer.empty()));
  BOOST_OUTCOME_TRY(handle, connect(g));
  ts_client* c = handle.get();
  if (command == "write") {
    return write_command(c, g, vm, producer);
  }
  if (command == "read") {
    return read_command(c, g, vm);
  }
  if (command == "status") {
    return status_command(c, g);
  }
  if (command == "drives") {
    return drives_command(c, g);
  }
  if (command == "list") {
    return list_command(c, g, vm);
  }
  if (command == "label") {
    return label_command(c, g, vm, args[0]);
  }
  if (command == "verify") {
    return verify_command(c, g, vm);
  }
  if (command == "catalog") {
    return catalog_rebuild_command(c, g);
  }
  if (command == "changer") {
    return changer_command(c, g, vm.count("library") != 0 ? vm["library"].as<std::string>() : "",
                           args);
  }
  return control_command(c, g, command, args, vm);
}

}  // namespace

// `tapestream [--socket PATH] mtx ARGS...` and the tapestream-mtx link: mtx's own command line,
// which boost's parser must not see (its "-f" is no option of this CLI). Returns whether it ran.
bool run_mtx(int argc, char** argv, int& exit_status) {
  const char* env = std::getenv("TAPESTREAM_SOCKET");
  std::string socket = env != nullptr ? env : TS_PROTO_DEFAULT_SOCKET;
  const std::string_view invoked{argv[0]};
  const auto slash = invoked.rfind('/');
  if (invoked.substr(slash == std::string_view::npos ? 0 : slash + 1) == "tapestream-mtx") {
    exit_status = mtx_main(socket, std::vector<std::string>(argv + 1, argv + argc));
    return true;
  }
  int i = 1;
  while (i < argc) {
    const std::string_view word{argv[i]};
    if (word == "--socket" && i + 1 < argc) {
      socket = argv[i + 1];
      i += 2;
    } else if (word.substr(0, 9) == "--socket=") {
      socket = std::string{word.substr(9)};
      i += 1;
    } else {
      break;
    }
  }
  if (i >= argc || std::string_view{argv[i]} != "mtx") {
    return false;
  }
  exit_status = mtx_main(socket, std::vector<std::string>(argv + i + 1, argv + argc));
  return true;
}

int main(int argc, char** argv) {
  if (int status = 0; argc > 0 && run_mtx(argc, argv, status)) {
    return status;
  }
  po::options_description options;
  // clang-format off
  options.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("socket", po::value<std::string>()->value_name("PATH"),
       "the daemon's socket (default: $TAPESTREAM_SOCKET, else " TS_PROTO_DEFAULT_SOCKET ")")
      ("drive,d", po::value<std::string>()->value_name("NAME"),
       "the drive (default: the only one the daemon serves)")
      ("json", "print the result as JSON on standard output (read: on standard error)")
      ("block-size", po::value<std::string>()->value_name("SIZE"), "write: the block size (256K, 1M)")
      ("no-wait", "write: fail with exit 75 instead of waiting for a busy drive")
      ("here", "write: at the current position instead of after the last file")
      ("fixed", "write: fixed-block mode: every block --block-size bytes, the last one padded "
                "with zeros (reading the file back returns the padding too)")
      ("span", "write: on a drive of a library, go on on the next scratch volume when a tape "
               "is full (one line per committed part on standard error); read: the whole stream "
               "that file --file is a part of, every part loaded and read in turn")
      ("stream", po::value<std::string>()->value_name("S"),
       "read: the whole stream S that spans volumes (tapestream list shows S), every part "
       "loaded and read in turn")
      ("incomplete", "read --span/--stream: restore the parts of a stream not known to be "
                     "whole, up to the first one missing or not complete")
      ("label", po::value<std::string>()->value_name("TEXT"), "write: a label for the log")
      ("no-digest", "write: the daemon takes no SHA-256 of the stream (for a producer that "
                    "hashes its data itself): none is printed, the catalog records none, and "
                    "verify can then only say that the file reads to its end (unrecorded)")
      ("size", po::value<std::string>()->value_name("SIZE"),
       "write: the stream's exact length; a stream that ends shorter or runs longer is not "
       "committed (exit 65)")
      ("force", "write: write standard input even when it is a terminal; label: label a "
                "tape that holds data or another label (everything on it is gone)")
      ("data-path", po::value<std::string>()->value_name("PATH"),
       "write, read: how the data moves: fd (standard input or output is passed to the "
       "daemon, which reads or writes it itself: fewest copies), stream (the bytes go "
       "through this process and the socket), auto (default: fd for pipes, sockets and "
       "files, stream for a terminal)")
      ("file", po::value<std::string>()->value_name("N"), "read, verify: the file number")
      ("all", "verify: every file from file 0 to end of data")
      ("volume", po::value<std::string>()->value_name("V"),
       "list: the volume, by label, volume UUID or medium serial number")
      ("long", "erase: the whole rest of the tape")
      ("library", po::value<std::string>()->value_name("NAME"),
       "changer: the library (default: the only one the daemon serves)");
  po::options_description hidden;
  hidden.add_options()
      ("command", po::value<std::string>())
      ("args", po::value<std::vector<std::string>>());
  // clang-format on
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("args", -1);
  // Everything after "--" is the producer command of a write, never options of this CLI.
  std::vector<std::string> producer;
  int own_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view{argv[i]} == "--") {
      own_argc = i;
      producer.assign(argv + i + 1, argv + argc);
      if (producer.empty()) {
        std::fputs("tapestream: \"--\" with no command after it\nTry 'tapestream --help'.\n", stderr);
        return exit_usage;
      }
      break;
    }
  }
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(own_argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "tapestream: %s\nTry 'tapestream --help'.\n", e.what());
    return exit_usage;
  }
  if (vm.count("help") != 0) {
    std::cout << usage_text << "\n" << options << exit_text;
    return 0;
  }
  if (vm.count("version") != 0) {
    std::cout << "tapestream " << TAPESTREAM_VERSION << "\n";
    return 0;
  }
  if (vm.count("command") == 0) {
    std::fputs("tapestream: no command given\nTry 'tapestream --help'.\n", stderr);
    return exit_usage;
  }
  Globals g;
  const char* env = std::getenv("TAPESTREAM_SOCKET");
  g.socket = vm.count("socket") != 0 ? vm["socket"].as<std::string>()
                                     : (env != nullptr ? env : TS_PROTO_DEFAULT_SOCKET);
  g.drive = vm.count("drive") != 0 ? vm["drive"].as<std::string>() : "";
  g.json = vm.count("json") != 0;
  const auto command = vm["command"].as<std::string>();
  const auto args = vm.count("args") != 0 ? vm["args"].as<std::vector<std::string>>()
                                          : std::vector<std::string>{};
  // Every failure of a command ends here: its message, its JSON, its exit code.
  const auto done = run(g, command, args, vm, producer);
  if (done) {
    return 0;
  }
  const auto& f = done.error();
  std::fprintf(stderr, "tapestream: %s\n", f.what().c_str());
  if (g.json) {
    // A read's standard output is the file's data: its JSON never goes there. A verify that
    // found bad files printed its report there already.
    print_json_failure(f, command == "read" || command == "verify" ? stderr : stdout);
  }
  return exit_code(f.status);
}
