// tapestreamd: the tapestream daemon. This build carries the SCSI command layer, the io_uring
// core and the emulated drive, and the tools that exercise them; the server comes next.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "scsi/condition.hpp"
#include "scsi/sense.hpp"
#include "tools/hex.hpp"
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
  tapestreamd --self-check
  tapestreamd --decode-sense HEX [--opcode HEX]
  tapestreamd --help | --version

Description:
  --self-check builds every SCSI command the daemon sends, prints its CDB, data
  direction, expected transfer length and default timeout, and classifies a set of
  reference sense samples. Then it sets up what serving needs on this machine (an
  io_uring with 128-byte SQEs, locked and registered buffers) and writes and reads
  back blocks and a filemark on an emulated drive in a scratch directory ($TMPDIR).
  It exits 1 if any of this fails, saying what failed and how to fix it.

  --decode-sense decodes sense data as the kernel logs it or sg3_utils prints it
  (fixed or descriptor format; bytes separated by spaces, commas or colons, or run
  together), and with --opcode also shows which tape condition it means for that
  command and whether that condition is expected or an error.

  The serving mode (socket, drives, pipelines) is not part of this build yet.

Options:)";

constexpr const char* exit_text = R"(
Exit status:
  0   success
  1   a check failed, or the sense data could not be decoded
  64  usage error
)";

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
      ("decode-sense", po::value<std::string>()->value_name("HEX"), "decode sense bytes and exit")
      ("opcode", po::value<std::string>()->value_name("HEX"),
       "with --decode-sense: the opcode of the command that got this sense (e.g. 08 for READ(6))");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "tapestreamd: %s\nTry 'tapestreamd --help'.\n", e.what());
    return exit_usage;
  }
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
  if (vm.count("decode-sense") != 0) {
    const bool has_opcode = vm.count("opcode") != 0;
    return decode_sense(vm["decode-sense"].as<std::string>(),
                        has_opcode ? vm["opcode"].as<std::string>() : std::string{}, has_opcode);
  }
  if (vm.count("opcode") != 0) {
    std::fputs("tapestreamd: --opcode goes with --decode-sense\n", stderr);
    return exit_usage;
  }
  std::fputs("tapestreamd: nothing to do: this build has no serving mode yet\n"
             "Try 'tapestreamd --help'.\n",
             stderr);
  return exit_usage;
}
