// tapestream: the command-line client of tapestreamd. Its subcommands speak the socket
// protocol of proto/, which arrives with the server; this build knows only --help and --version.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

namespace po = boost::program_options;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_usage = 64;  // EX_USAGE

constexpr const char* usage_text = R"(tapestream - write to and read from tape through tapestreamd

Usage:
  tapestream --help | --version

This build has no subcommands yet: they need the daemon's socket protocol,
which is not part of this build.

Options:)";

}  // namespace

int main(int argc, char** argv) {
  po::options_description options;
  options.add_options()("help,h", "print this help and exit")("version",
                                                              "print the version and exit");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "tapestream: %s\nTry 'tapestream --help'.\n", e.what());
    return exit_usage;
  }
  if (vm.count("help") != 0) {
    std::cout << usage_text << "\n" << options;
    return exit_ok;
  }
  if (vm.count("version") != 0) {
    std::cout << "tapestream " << TAPESTREAM_VERSION << "\n";
    return exit_ok;
  }
  std::fputs("tapestream: no subcommand given\nTry 'tapestream --help'.\n", stderr);
  return exit_usage;
}
