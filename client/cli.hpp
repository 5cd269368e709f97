// What the tapestream CLI's commands share: the global options, the failure a command exits
// with, JSON text, the drive to use, the progress display and the data path of a stream. The
// CLI speaks to the daemon only through libtapestream's public API (tapestream.h).
#pragma once

#include <boost/outcome/result.hpp>
#include <boost/outcome/try.hpp>
#include <boost/program_options.hpp>

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <tapestream/tapestream.h>

#include "progress.hpp"

namespace tapestream::cli {

namespace po = boost::program_options;
namespace outcome = BOOST_OUTCOME_V2_NAMESPACE;

struct Globals {
  std::string socket;
  std::string drive;
  bool json = false;
};

// What failed, as the CLI reports it: the status (TS_*) its exit code comes from, the message
// for standard error, and for a stream the daemon's account of what of it is on the tape.
struct Failure {
  std::uint32_t status = TS_INTERNAL;
  std::string message;
  std::optional<ts_result> stream;

  Failure() = default;
  Failure(std::uint32_t s, std::string m, std::optional<ts_result> account = std::nullopt)
      : status{s}, message{std::move(m)}, stream{account} {}
  const std::string& what() const { return message; }
};

// The result of everything the CLI does: a value, or the Failure it exits with.
template <class T>
using Result = outcome::result<T, Failure, outcome::policy::terminate>;

// The exit code of a status (PROTOCOL.md, "Status codes"; tapestream(1), "Exit status").
int exit_code(std::uint32_t status);

// A status's name ("volume_full"), as PROTOCOL.md spells it.
std::string status_name(std::uint32_t status);

// The library's handle of one command's connection, closed with it.
using Handle = std::unique_ptr<ts_client, decltype(&ts_close)>;

// Connects to the daemon at --socket (or $TAPESTREAM_SOCKET, or the default) as the CLI.
Result<Handle> connect(const Globals& g);

// The Failure a library call's negative `code` stands for: the daemon's own words after
// `what` ("status: no such drive"), else the library's message.
Failure lib_failure(ts_client* c, long code, const std::string& what);

// The Failure of a stream the daemon ended (STREAM_FAILED): `message`, and the daemon's account
// of what of the stream is on the tape.
Failure stream_failure(const ts_result& account, std::string message);

// A JSON string literal of `s`.
std::string json_text(const std::string& s);

// A SHA-256 in 64 lowercase hex digits, as sha256sum prints it.
std::string digest_text(const std::uint8_t (&digest)[TS_DIGEST_SIZE]);

// --file N as a file number; without --file, TS_READ_CURRENT_FILE.
Result<std::uint64_t> file_option(const po::variables_map& vm);

// The drive named by --drive, or the only one the daemon serves.
Result<std::string> pick_drive(ts_client* c, const std::string& wanted);

// Whether a stream's data goes as the descriptor `fd` itself (fd passing: the daemon reads or
// writes it, no copy through this process), from --data-path and what `fd` is.
Result<bool> pass_descriptor(ts_client* c, const po::variables_map& vm, int fd, bool for_output);

// The parts of a spanning write (--span) as the daemon commits them: one line each on standard
// error as it comes, and the whole list for the stream's summary or failure (write_span.cpp).
class SpanParts {
 public:
  // Takes `c`'s PARTs from now on; this object must outlive the stream.
  void follow(ts_client* c);
  void add(const ts_part& p);
  std::size_t count() const { return _parts.size(); }
  // "N bytes of the stream are committed in K parts (B bytes as file F on VOL, ...)"; "" if none.
  std::string committed_text() const;
  // The parts as a JSON array.
  std::string json() const;

 private:
  std::vector<ts_part> _parts;
};

// The commands: each prints its result, or returns the Failure main reports and exits with.
// `producer` is the command after "--" (write only), run as the stream's producer.
Result<void> write_command(ts_client* c, const Globals& g, const po::variables_map& vm,
                           const std::vector<std::string>& producer);
// status: the drive's identity, position, flags and health (status_command.cpp).
Result<void> status_command(ts_client* c, const Globals& g);
Result<void> read_command(ts_client* c, const Globals& g, const po::variables_map& vm);
// read --span / --stream: every part of a stream that spans volumes, loaded in turn and read by
// `read_part` (which gives a file of the drive to standard output and returns its bytes) in
// order (read_span.cpp).
using ReadPart =
    std::function<Result<std::uint64_t>(ts_client*, const std::string& drive, std::uint64_t file)>;
Result<void> read_span_command(ts_client* c, const Globals& g, const po::variables_map& vm,
                               const ReadPart& read_part);
Result<void> list_command(ts_client* c, const Globals& g, const po::variables_map& vm);
// label NAME [--force] (label_command.cpp).
Result<void> label_command(ts_client* c, const Globals& g, const po::variables_map& vm,
                           const std::string& name);
// verify: the daemon reads files without sending them and checks them against its catalog
// (verify_command.cpp).
Result<void> verify_command(ts_client* c, const Globals& g, const po::variables_map& vm);
// changer status | inventory | load SLOT | unload [SLOT] | transfer FROM TO: a library's
// elements and moves (changer_command.cpp); `library` empty: the daemon's only library.
Result<void> changer_command(ts_client* c, const Globals& g, const std::string& library,
                             const std::vector<std::string>& args);
Result<void> check_changer_arguments(const std::vector<std::string>& args);
// catalog rebuild: the catalog's rows of the loaded tape, from the tape alone.
Result<void> catalog_rebuild_command(ts_client* c, const Globals& g);

}  // namespace tapestream::cli
