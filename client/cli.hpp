// What the tapestream CLI's commands share: the global options, JSON text, the drive to use,
// failures as exit codes, the progress display and the data path of a stream.
#pragma once

#include <boost/program_options.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "connection.hpp"

namespace tapestream::cli {

namespace po = boost::program_options;

struct Globals {
  std::string socket;
  std::string drive;
  bool json = false;
};

// A JSON string literal of `s`.
std::string json_text(const std::string& s);

// A stream's SHA-256 in 64 lowercase hex digits, as sha256sum prints it; empty when the daemon
// sent none (one that does not grant `digest`).
std::string digest_text(const std::optional<proto::Digest>& digest);
// The same for JSON: a string, or null.
std::string digest_json(const std::optional<proto::Digest>& digest);
// "tapestream: sha256 HEX" on standard error, the line after a stream's summary, when there is
// a digest.
void print_digest_line(const std::optional<proto::Digest>& digest);

// --file N as a file number; without --file, TS_READ_CURRENT_FILE.
client::Result<std::uint64_t> file_option(const po::variables_map& vm);

// The drive named by --drive, or the only one the daemon serves.
client::Result<std::string> pick_drive(client::Connection& c, const std::string& wanted);

// The Failure a reply other than the expected one stands for.
client::Failure failed(const proto::Message& m, const char* what);

// Progress on stderr while it is a terminal, as pv shows it: bytes, rate, how full the daemon's
// buffer pool is (from its PROGRESS messages), elapsed time.
class Progress {
 public:
  explicit Progress(const char* verb);
  bool on() const { return _on; }
  void update(std::uint64_t bytes, bool last = false);
  void update(const proto::Progress& p);

 private:
  void show(bool last);

  const char* _verb;
  bool _on;
  std::uint64_t _bytes = 0;
  std::uint32_t _full = 0;
  std::uint32_t _buffers = 0;
  std::chrono::steady_clock::time_point _start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point _shown{};
};

// Sends a WRITE or READ for the data on `fd`: the descriptor itself goes with it (fd passing)
// when --data-path and the descriptor allow, and it asks for PROGRESS while `progress` is
// shown. Returns whether the descriptor went.
client::Result<bool> send_stream_request(client::Connection& c, const po::variables_map& vm,
                                         proto::WriteRequest request, int fd,
                                         const Progress& progress);
client::Result<bool> send_stream_request(client::Connection& c, const po::variables_map& vm,
                                         proto::ReadRequest request, int fd,
                                         const Progress& progress);

// The commands: each prints its result, or returns the Failure main reports and exits with.
// `producer` is the command after "--" (write only), run as the stream's producer.
client::Result<void> write_command(client::Connection& c, const Globals& g,
                                   const po::variables_map& vm,
                                   const std::vector<std::string>& producer);
// status: the drive's identity, position, flags and health (status_command.cpp).
client::Result<void> status_command(client::Connection& c, const Globals& g);
client::Result<void> read_command(client::Connection& c, const Globals& g,
                                  const po::variables_map& vm);
client::Result<void> list_command(client::Connection& c, const Globals& g,
                                  const po::variables_map& vm);
// label NAME [--force] (label_command.cpp).
client::Result<void> label_command(client::Connection& c, const Globals& g,
                                   const po::variables_map& vm, const std::string& name);
// verify: the daemon reads files without sending them and checks them against its catalog
// (verify_command.cpp).
client::Result<void> verify_command(client::Connection& c, const Globals& g,
                                    const po::variables_map& vm);
// changer status | inventory | load SLOT | unload [SLOT] | transfer FROM TO: a library's
// elements and moves (changer_command.cpp); `library` empty: the daemon's only library.
client::Result<void> changer_command(client::Connection& c, const Globals& g,
                                     const std::string& library,
                                     const std::vector<std::string>& args);
client::Result<void> check_changer_arguments(const std::vector<std::string>& args);
// catalog rebuild: the catalog's rows of the loaded tape, from the tape alone.
client::Result<void> catalog_rebuild_command(client::Connection& c, const Globals& g);

}  // namespace tapestream::cli
