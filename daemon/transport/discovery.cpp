#include "transport/discovery.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <system_error>

#include "scsi/cdb.hpp"
#include "scsi/timeouts.hpp"
#include "transport/blocking.hpp"
#include "transport/bsg_transport.hpp"
#include "transport/sg_transport.hpp"

namespace tapestream::transport {
namespace {

namespace fs = std::filesystem;

std::string read_trimmed(const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\0')) {
    text.pop_back();
  }
  return text;
}

// vpd_pg80 holds the page as the device sent it: a 4-byte header, then the serial number.
std::string serial_from_vpd(const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  std::string page{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  if (page.size() < 4) {
    return {};
  }
  const std::size_t length = std::min<std::size_t>(
      static_cast<std::uint8_t>(page[3]), page.size() - 4);
  std::string serial;
  for (char c : page.substr(4, length)) {
    if (c > ' ' && c < 0x7F) {
      serial += c;
    }
  }
  return serial;
}

// The first entry of `dir` whose name passes `accept`, or an empty string.
template <typename Accept>
std::string first_entry(const fs::path& dir, Accept accept) {
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator{dir, ec}) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (accept(name)) {
      return name;
    }
  }
  return {};
}

bool is_st_name(const std::string& name) {  // st0, not st0a/st0l/st0m or nst0
  return name.size() > 2 && name.rfind("st", 0) == 0 &&
         std::all_of(name.begin() + 2, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<TapeDevice> discover_tapes(const fs::path& sysfs) {
  std::vector<TapeDevice> tapes;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator{sysfs / "bus/scsi/devices", ec}) {
    const auto& dir = entry.path();
    if (read_trimmed(dir / "type") != "1") {
      continue;
    }
    TapeDevice tape;
    tape.address = dir.filename().string();
    tape.vendor = read_trimmed(dir / "vendor");
    tape.model = read_trimmed(dir / "model");
    tape.serial = serial_from_vpd(dir / "vpd_pg80");
    if (const auto st = first_entry(dir / "scsi_tape", is_st_name); !st.empty()) {
      tape.st_node = "/dev/n" + st;
    }
    if (const auto sg = first_entry(dir / "scsi_generic", [](const auto&) { return true; });
        !sg.empty()) {
      tape.sg_node = "/dev/" + sg;
    }
    if (fs::exists(sysfs / "class/bsg" / tape.address, ec)) {
      tape.bsg_node = "/dev/bsg/" + tape.address;
    }
    tapes.push_back(std::move(tape));
  }
  std::sort(tapes.begin(), tapes.end(),
            [](const auto& a, const auto& b) { return a.address < b.address; });
  return tapes;
}

std::optional<TapeDevice> find_tape(const std::vector<TapeDevice>& tapes, const std::string& name) {
  if (name.empty()) {
    return std::nullopt;
  }
  for (const auto& tape : tapes) {
    const std::string rewinding = tape.st_node.empty() ? "" : "/dev/" + tape.st_node.substr(6);
    // Nodes a driver did not create are empty, and an empty name was refused above.
    for (const auto* known : {&tape.address, &tape.bsg_node, &tape.sg_node, &tape.st_node,
                              &rewinding, &tape.serial}) {
      if (name == *known) {
        return tape;
      }
    }
  }
  return std::nullopt;
}

Result<OpenedTransport, Failure> open_tape_transport(uring::Ring& ring, const TapeDevice& tape,
                                                     TransportChoice choice) {
  std::string tried;
  if (choice != TransportChoice::sg) {
    if (tape.bsg_node.empty()) {
      tried = "no bsg node";
    } else if (auto bsg = BsgTransport::open(ring, tape.bsg_node); !bsg) {
      tried = tape.bsg_node + ": " + bsg.error().message();
    } else {
      ScsiRequest probe;
      probe.command = scsi::cdb::test_unit_ready();
      // Before the drive's own table exists (RSOC comes later): the defaults' quick class.
      probe.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
          scsi::TimeoutTable::lto_defaults().timeout_for(probe.command));
      auto answered = run_blocking(ring, *bsg.value(), probe);
      if (answered && answered.value().submission_errno == 0) {
        return OpenedTransport{std::move(bsg).value(),
                               "bsg: " + tape.bsg_node + " takes IORING_OP_URING_CMD"};
      }
      tried = tape.bsg_node + " refuses IORING_OP_URING_CMD (" +
              (answered ? std::error_code{answered.value().submission_errno,
                                          std::system_category()}.message()
                        : answered.error().message()) +
              "; it needs Linux 7.1)";
    }
    if (choice == TransportChoice::bsg) {
      return Failure{std::make_error_code(std::errc::not_supported), tried};
    }
  }
  if (tape.sg_node.empty()) {
    return Failure{std::make_error_code(std::errc::no_such_device),
                   (tried.empty() ? "" : tried + "; ") + "no sg node (load the sg module)"};
  }
  auto sg = SgTransport::open(ring, tape.sg_node);
  if (!sg) {
    return Failure{sg.error(),
                   (tried.empty() ? "" : tried + "; ") + tape.sg_node + ": " + sg.error().message()};
  }
  const bool direct = sg.value()->direct_io();
  std::string reason = "sg: " + tape.sg_node +
                       (direct ? " with direct I/O" : " with indirect I/O (sg allow_dio=0: one copy)");
  if (!tried.empty()) {
    reason += "; bsg: " + tried;
  }
  return OpenedTransport{std::move(sg).value(), reason};
}

}  // namespace tapestream::transport
