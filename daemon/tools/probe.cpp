#include "tools/probe.hpp"

#include <sys/utsname.h>

#include <fstream>
#include <ostream>

#include "base/startup_error.hpp"
#include "emulated/drive_spec.hpp"
#include "transport/changer_discovery.hpp"
#include "transport/discovery.hpp"
#include "transport/sg_transport.hpp"
#include "uring/ring.hpp"

namespace tapestream::tools {
namespace {

const char* yes_no(bool b) { return b ? "yes" : "no"; }

std::string sg_module_state() {
  std::ifstream parameter{"/sys/module/sg/parameters/allow_dio"};
  int allowed = 0;
  if (!(parameter >> allowed)) {
    return "not loaded";
  }
  return allowed == 1 ? "loaded, allow_dio=1 (direct I/O into the registered buffers)"
                      : "loaded, allow_dio=0 (indirect I/O: the driver copies each block once)";
}

void print_tape(std::ostream& out, const transport::TapeDevice& t) {
  out << "  " << t.address << "  " << t.vendor << " " << t.model << "  serial "
      << (t.serial.empty() ? "(none)" : t.serial) << "\n"
      << "      st " << (t.st_node.empty() ? "(no st driver)" : t.st_node) << ", bsg "
      << (t.bsg_node.empty() ? "(none)" : t.bsg_node) << ", sg "
      << (t.sg_node.empty() ? "(no sg driver)" : t.sg_node) << "\n";
}

// A changer is listed, not opened: commanding a real changer is not wired up yet (docs/MTX.md).
void print_changer(std::ostream& out, const transport::ChangerDevice& c) {
  out << "  " << c.address << "  " << c.vendor << " " << c.model << "  serial "
      << (c.serial.empty() ? "(none)" : c.serial) << "\n"
      << "      ch " << (c.ch_node.empty() ? "(no ch driver)" : c.ch_node) << ", bsg "
      << (c.bsg_node.empty() ? "(none)" : c.bsg_node) << ", sg "
      << (c.sg_node.empty() ? "(no sg driver)" : c.sg_node) << "\n";
}

}  // namespace

bool run_probe(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& configured) {
  utsname name{};
  uname(&name);
  out << "kernel: " << name.sysname << " " << name.release << " " << name.machine << "\n";

  std::optional<uring::Ring> ring;
  try {
    ring.emplace(uring::Ring::create({}));
  } catch (const StartupError& e) {
    out << "io_uring: " << e.what() << "\n";
    return false;
  }
  const auto& f = ring->features();
  out << "io_uring: SQE128+CQE32 " << yes_no(f.big_entries) << ", SINGLE_ISSUER "
      << yes_no(f.single_issuer) << ", DEFER_TASKRUN " << yes_no(f.defer_taskrun)
      << ", URING_CMD " << yes_no(ring->supports(IORING_OP_URING_CMD)) << "\n";
  out << "sg module: " << sg_module_state() << "\n";

  const auto tapes = transport::discover_tapes();
  out << "tape drives in sysfs: " << tapes.size() << "\n";
  for (const auto& tape : tapes) {
    print_tape(out, tape);
    auto opened =
        transport::open_tape_transport(*ring, tape, transport::TransportChoice::automatic);
    out << "      transport: "
        << (opened ? opened.value().reason : "none: " + opened.error().what()) << "\n";
  }

  const auto changers = transport::discover_changers();
  out << "medium changers in sysfs: " << changers.size() << "\n";
  for (const auto& changer : changers) {
    print_changer(out, changer);
    auto opened =
        transport::open_changer_transport(*ring, changer, transport::TransportChoice::automatic);
    out << "      transport: "
        << (opened ? opened.value().reason : "none: " + opened.error().what()) << "\n";
  }

  bool ok = true;
  out << "configured drives: " << (configured.empty() ? "none (the embedded default, emu0)" : "")
      << "\n";
  for (const auto& [drive, spec] : configured) {
    out << "  " << drive << " = " << spec;
    if (emulated::is_emulated_spec(spec)) {
      out << (spec.starts_with("null:") ? ": the null drive (emulated, no image, no data kept)\n"
                                        : ": the emulated drive\n");
      continue;
    }
    const auto colon = spec.find(':');
    const auto kind = spec.substr(0, colon);
    const auto device = colon == std::string::npos ? "" : spec.substr(colon + 1);
    const auto tape = transport::find_tape(tapes, device);
    if (!tape) {
      out << ": NOT FOUND in sysfs\n";
      ok = false;
      continue;
    }
    const auto choice = kind == "bsg"  ? transport::TransportChoice::bsg
                        : kind == "sg" ? transport::TransportChoice::sg
                                       : transport::TransportChoice::automatic;
    auto opened = transport::open_tape_transport(*ring, *tape, choice);
    out << ": " << tape->address << ", "
        << (opened ? opened.value().reason : "FAILS: " + opened.error().what()) << "\n";
    ok = ok && opened;
  }
  return ok;
}

}  // namespace tapestream::tools
