// tapestream mtx (mtx.hpp): mtx's command line on a library of tapestreamd. mtx runs its
// commands in the order given ("unload 3 0 load 4 0"), reads the library's element status before
// the first that needs it, and stops at the first failure with "mtx: WHY" on standard error and
// exit status 1; load and unload print "Loading media ...done" on standard output. This follows
// mtx 1.3's behaviour and texts (its Load, Unload, Transfer, First, Last, Next, Previous and
// Move), so that the scripts that parse them work; where mtx reads a stale element status after
// a move, this reads it again.
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "mtx.hpp"

namespace tapestream::cli {
namespace {

constexpr const char* mtx_usage = R"(Usage:
	mtx --version
	mtx [ -f <loader-dev> ] noattach <more commands>
	mtx [ -f <loader-dev> ] inquiry | inventory 
	mtx [ -f <loader-dev> ] [altres] [nobarcode] status
	mtx [ -f <loader-dev> ] [altres] first [<drive#>]
	mtx [ -f <loader-dev> ] [altres] last [<drive#>]
	mtx [ -f <loader-dev> ] [altres] previous [<drive#>]
	mtx [ -f <loader-dev> ] [altres] next [<drive#>]
	mtx [ -f <loader-dev> ] [altres] [invert] load <storage-element-number> [<drive#>]
	mtx [ -f <loader-dev> ] [altres] [invert] unload [<storage-element-number>][<drive#>]
	mtx [ -f <loader-dev> ] [altres] [eepos eepos-number] transfer <storage-element-number> <storage-element-number>
	mtx [ -f <loader-dev> ] [altres] position <storage-element-number>
	mtx [ -f <loader-dev> ] eject
  (tapestream mtx: <loader-dev> is the name of a library of tapestreamd; without -f,
   $CHANGER, else the daemon's only library)
)";

// How a command ends short of success: mtx's text for standard error ("mtx: " is added), or,
// with `usage`, mtx's usage text.
struct MtxStop {
  std::string message;
  bool usage = false;
};

template <class T>
using MtxResult = outcome::result<T, MtxStop, outcome::policy::terminate>;

MtxStop fatal(std::string message) { return MtxStop{std::move(message), false}; }

// mtx's get_arg: a word that begins with a digit is a number (atoi: its leading digits); any
// other word is not an argument. Numbers too large for an int become INT_MAX, which every range
// check then refuses.
int numeric_argument(const std::string& word) {
  if (word.empty() || word[0] < '0' || word[0] > '9') {
    return -1;
  }
  int n = 0;
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), n);
  (void)end;
  return error == std::errc::result_out_of_range ? INT_MAX : n;
}

struct Command {
  const char* name;
  int arguments;  // how many numeric arguments it may take
  bool needs_device;
};

constexpr Command commands[] = {
    {"inquiry", 0, true},   {"status", 0, true},    {"invert", 0, false},
    {"noattach", 0, false}, {"eepos", 1, false},    {"load", 2, true},
    {"unload", 2, true},    {"transfer", 2, true},  {"first", 1, true},
    {"last", 1, true},      {"previous", 1, true},  {"next", 1, true},
    {"--version", 0, false}, {"inventory", 0, true}, {"eject", 0, true},
    {"erase", 0, true},     {"nobarcode", 0, false}, {"position", 1, true},
    {"invert2", 0, false},  {"exchange", 3, true},  {"altres", 0, false},
};

const Command* find_command(const std::string& name) {
  for (const auto& c : commands) {
    if (name == c.name) {
      return &c;
    }
  }
  return nullptr;
}

class MtxSession {
 public:
  explicit MtxSession(std::string socket) : _socket{std::move(socket)} {}

  void use_device(std::string device) {
    _device = std::move(device);
    _library.reset();
  }

  MtxResult<void> run(const Command& command, int arg1, int arg2) {
    const std::string name = command.name;
    if (name == "--version") {
      std::fprintf(stderr, "mtx version 1.3.12 (tapestream %s)\n\n", TAPESTREAM_VERSION);
      return MtxStop{"", true};
    }
    if (name == "nobarcode") {
      _barcodes = false;
      return outcome::success();
    }
    if (name == "eepos") {
      if (arg1 < 0 || arg1 > 3) {
        return fatal("eepos equires argument between 0 and 3.");  // sic, mtx's words
      }
      return outcome::success();
    }
    if (!command.needs_device) {
      // invert, invert2, noattach, altres: how mtx talks to a SCSI changer (flip the medium,
      // the attached-changer API, another READ ELEMENT STATUS): nothing to do here.
      return outcome::success();
    }
    BOOST_OUTCOME_TRY(library());
    if (name == "status") {
      std::fputs(mtx_status_text(*_library, device_name(), _barcodes).c_str(), stdout);
      return outcome::success();
    }
    if (name == "load") {
      return load(arg1, arg2);
    }
    if (name == "unload") {
      return unload(arg1, arg2);
    }
    if (name == "transfer") {
      return transfer(arg1, arg2);
    }
    if (name == "first" || name == "last" || name == "next" || name == "previous") {
      return step(name, arg1);
    }
    if (name == "inquiry") {
      std::printf("Product Type: Medium Changer\nVendor ID: 'TAPESTRM'\nProduct ID: '%-16.16s'\n"
                  "Revision: '%-4.4s'\nAttached Changer API: No\n",
                  "tapestreamd", TAPESTREAM_VERSION);
      return outcome::success();
    }
    if (name == "inventory" || name == "position") {
      // The daemon keeps its library's inventory itself, and its robot moves only to move a
      // cartridge: reading the element status (done above) is all there is to do.
      if (name == "position" && (arg1 < 1 || static_cast<std::size_t>(arg1) > _library->storage.size())) {
        return fatal("Could not position transport");
      }
      return outcome::success();
    }
    if (name == "eject") {
      std::fputs("mtx:eject failed\n", stderr);  // as mtx: a changer without a magazine to eject
      std::fflush(stderr);
      return outcome::success();
    }
    return fatal(name + " is not supported by tapestreamd's libraries");  // erase, exchange
  }

 private:
  std::string device_name() const { return _device.empty() ? _library->name : _device; }

  // The library -f names: its text, or of a path its last component. Amanda's chg-robot wants
  // its device to exist as a file, so it is given a path such as /etc/amanda/daily/lib0 (an
  // empty file) for library lib0.
  std::string library_name() const {
    const auto slash = _device.rfind('/');
    if (slash == std::string::npos || slash + 1 == _device.size()) {
      return _device;
    }
    return _device.substr(slash + 1);
  }

  MtxResult<void> library() {
    if (_library) {
      return outcome::success();
    }
    if (!_client) {
      Globals g;
      g.socket = _socket;
      auto connected = connect(g);
      if (!connected) {
        return fatal("cannot open SCSI device '" + _device + "' - " + connected.error().what());
      }
      _client.emplace(std::move(connected).value());
    }
    auto read = read_mtx_library(_client->get(), library_name());
    if (!read) {
      const auto& why = read.error();
      if (why.status == TS_BAD_REQUEST || why.status == TS_UNKNOWN_DRIVE) {
        return fatal("cannot open SCSI device '" + _device + "' - " + why.what());
      }
      return fatal(why.what() + "\nmtx: READ ELEMENT STATUS Command Failed");
    }
    _library = std::move(read).value();
    return outcome::success();
  }

  // A move through the daemon, with mtx's words for a refused one. `src` and `dest` are the
  // changer's element addresses, as mtx names them.
  MtxResult<void> move(unsigned operation, std::uint32_t slot, std::uint32_t to_slot,
                       const ts_element* drive, int src, int dest) {
    const char* drive_name = drive != nullptr ? drive->drive : nullptr;
    const int r = ts_changer_move(_client->get(), library_name().c_str(), operation, slot, to_slot,
                                  drive_name, nullptr, nullptr);
    _library.reset();  // whatever happened, the next command reads the library again
    if (r == 0) {
      return outcome::success();
    }
    const auto why = lib_failure(_client->get(), r, "move");
    if (why.status == TS_NO_MEDIUM) {
      return fatal("Source Element Address " + std::to_string(src) + " is Empty");
    }
    if (why.status == TS_BUSY && why.what().find(" is full") != std::string::npos) {
      return fatal("Destination Element Address " + std::to_string(dest) + " is Already Full");
    }
    return fatal(why.what() + "\nmtx: MOVE MEDIUM from Element Address " + std::to_string(src) +
                 " to " + std::to_string(dest) + " Failed");
  }

  MtxResult<void> load(int slot, int drive) {
    if (slot < 1) {
      return fatal("No source specified");
    }
    drive = drive < 0 ? 0 : drive;
    const auto& lib = *_library;
    if (static_cast<std::size_t>(slot) > lib.storage.size()) {
      return fatal("Invalid <storage-element-number> argument '" + std::to_string(slot) +
                   "' to 'load' command");
    }
    if (static_cast<std::size_t>(drive) >= lib.drives.size()) {
      return fatal("illegal <drive-number> argument '" + std::to_string(drive) +
                   "' to 'load' command");
    }
    const auto target = lib.drives[static_cast<std::size_t>(drive)];
    if ((target.flags & TS_ELEMENT_FULL) != 0) {
      return fatal("Drive " + std::to_string(drive) + " Full (Storage Element " +
                   std::to_string(target.source) + " loaded)");
    }
    BOOST_OUTCOME_TRY(served(target, drive));
    const auto& source = lib.storage[static_cast<std::size_t>(slot) - 1];
    std::printf("Loading media from Storage Element %d into drive %d...", slot, drive);
    std::fflush(stdout);
    BOOST_OUTCOME_TRY(move(TS_CHANGER_LOAD, static_cast<std::uint32_t>(slot), 0, &target,
                           source.address, target.address));
    std::printf("done\n");
    std::fflush(stdout);
    return outcome::success();
  }

  MtxResult<void> unload(int slot, int drive) {
    drive = drive < 0 ? 0 : drive;
    const auto& lib = *_library;
    if (static_cast<std::size_t>(drive) >= lib.drives.size()) {
      return fatal("illegal <drive-number> argument '" + std::to_string(drive) +
                   "' to 'unload' command");
    }
    const auto source = lib.drives[static_cast<std::size_t>(drive)];
    if (slot < 1) {  // none given (mtx's 0 is no slot either): where the cartridge came from
      if (source.source == 0) {
        return fatal("No Source for tape in drive " + std::to_string(drive) + "!");
      }
      slot = static_cast<int>(source.source);
    }
    if (static_cast<std::size_t>(slot) > lib.storage.size()) {
      return fatal("illegal <storage-element-number> argument '" + std::to_string(slot) +
                   "' to 'unload' command");
    }
    if ((source.flags & TS_ELEMENT_FULL) == 0) {
      return fatal("Data Transfer Element " + std::to_string(drive) + " is Empty");
    }
    const auto& target = lib.storage[static_cast<std::size_t>(slot) - 1];
    if ((target.flags & TS_ELEMENT_FULL) != 0) {
      return fatal("Storage Element " + std::to_string(slot) + " is Already Full");
    }
    BOOST_OUTCOME_TRY(served(source, drive));
    std::printf("Unloading drive %d into Storage Element %d...", drive, slot);
    std::fflush(stdout);
    BOOST_OUTCOME_TRY(move(TS_CHANGER_UNLOAD, static_cast<std::uint32_t>(slot), 0, &source,
                           source.address, target.address));
    std::printf("done\n");
    std::fflush(stdout);
    return outcome::success();
  }

  MtxResult<void> transfer(int from, int to) {
    if (from < 1) {
      return fatal("No source specified");
    }
    if (to < 1) {
      return fatal("No destination specified");
    }
    const auto& lib = *_library;
    if (static_cast<std::size_t>(from) > lib.storage.size()) {
      return fatal("Invalid source");
    }
    if (static_cast<std::size_t>(to) > lib.storage.size()) {
      return fatal("Invalid destination");
    }
    return move(TS_CHANGER_TRANSFER, static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(to),
                nullptr, lib.storage[static_cast<std::size_t>(from) - 1].address,
                lib.storage[static_cast<std::size_t>(to) - 1].address);
  }

  // first, last, next, previous [drive]: unload the drive to where its cartridge came from, then
  // load slot 1, the last storage slot, the next or the previous full storage slot.
  MtxResult<void> step(const std::string& which, int drive_arg) {
    const std::size_t drives = _library->drives.size();
    const int drive = drive_arg >= 0 && static_cast<std::size_t>(drive_arg) < drives ? drive_arg : 0;
    if (drives == 0) {
      return fatal("illegal <drive-number> argument '0' to '" + which + "' command");
    }
    const std::size_t slots = _library->storage_slots();
    const auto loaded = _library->drives[static_cast<std::size_t>(drive)];
    const bool full = (loaded.flags & TS_ELEMENT_FULL) != 0;
    const int current = full ? static_cast<int>(loaded.source) : 0;  // 1-based; 0 none
    if (which == "first" && full && current == 1) {
      std::printf("loading...done.\n");
      return outcome::success();
    }
    if (which == "last" && full && current >= static_cast<int>(slots)) {
      std::printf("loading...done.\n");
      return outcome::success();
    }
    if (which == "previous" && full && current == 1) {
      return fatal("No More Media");
    }
    if (full) {
      BOOST_OUTCOME_TRY(unload(current, drive));
      BOOST_OUTCOME_TRY(library());
    }
    if (which == "first") {
      return load(1, drive);
    }
    if (which == "last") {
      return load(static_cast<int>(slots), drive);
    }
    const auto& storage = _library->storage;
    if (which == "next") {
      for (std::size_t i = static_cast<std::size_t>(current); i < slots; ++i) {
        if ((storage[i].flags & TS_ELEMENT_FULL) != 0) {
          return load(static_cast<int>(i) + 1, drive);
        }
      }
      return fatal("No More Media");
    }
    // previous: from the slot below the one unloaded; with an empty drive, from the last slot.
    for (int i = (current == 0 ? static_cast<int>(slots) : current - 1); i >= 1; --i) {
      if ((storage[static_cast<std::size_t>(i) - 1].flags & TS_ELEMENT_FULL) != 0) {
        return load(i, drive);
      }
    }
    return fatal("No More Media");
  }

  // A drive the daemon does not serve (no drive of it matched the element) cannot be moved to
  // or from through it.
  MtxResult<void> served(const ts_element& drive, int number) {
    if (drive.drive[0] == '\0') {
      return fatal("Data Transfer Element " + std::to_string(number) +
                   " is no drive that tapestreamd serves");
    }
    return outcome::success();
  }

  std::string _socket;
  std::string _device;
  std::optional<Handle> _client;
  std::optional<MtxLibrary> _library;
  bool _barcodes = true;
};

}  // namespace

int mtx_main(const std::string& socket, const std::vector<std::string>& args) {
  MtxSession session{socket};
  if (const char* changer = std::getenv("CHANGER"); changer != nullptr) {
    session.use_device(changer);
  }
  const auto stop = [](const MtxStop& why) {
    if (why.usage) {
      std::fputs(mtx_usage, stderr);
    } else {
      std::fprintf(stderr, "mtx: %s\n", why.message.c_str());
    }
    return 1;
  };
  if (args.empty()) {
    return stop(MtxStop{"", true});
  }
  std::size_t i = 0;
  while (i < args.size()) {
    if (args[i] == "-f") {
      if (i + 1 >= args.size()) {
        return stop(MtxStop{"", true});
      }
      session.use_device(args[i + 1]);
      i += 2;
      continue;
    }
    const auto* command = find_command(args[i]);
    if (command == nullptr) {
      return stop(MtxStop{"", true});
    }
    ++i;
    int numbers[3] = {-1, -1, -1};
    for (int n = 0; n < command->arguments && i < args.size(); ++n) {
      numbers[n] = numeric_argument(args[i]);
      if (numbers[n] == -1) {
        break;
      }
      ++i;
    }
    if (const auto done = session.run(*command, numbers[0], numbers[1]); !done) {
      return stop(done.error());
    }
  }
  return 0;
}

}  // namespace tapestream::cli
