#include "tools/self_check.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ostream>
#include <vector>

#include <stdlib.h>

#include <filesystem>

#include "base/startup_error.hpp"
#include "emulated/emulated_drive.hpp"
#include "scsi/cdb.hpp"
#include "transport/blocking.hpp"
#include "uring/buffer_pool.hpp"
#include "scsi/condition.hpp"
#include "scsi/timeouts.hpp"
#include "tools/hex.hpp"

namespace tapestream::tools {
namespace {

using namespace scsi;

std::vector<Command> reference_commands() {
  const auto len = [](std::uint32_t n) { return Count24::from(n).value(); };
  return {
      cdb::test_unit_ready(),
      cdb::inquiry(),
      cdb::inquiry_vpd(0x80),
      cdb::request_sense(),
      cdb::report_supported_operation_codes(true),
      cdb::read_block_limits(),
      cdb::mode_sense6(0x10),
      cdb::mode_select6(28),
      cdb::write6_variable(len(262144)),
      cdb::read6_variable(len(262144), true),
      cdb::write_filemarks6(len(1), false),
      cdb::space6(cdb::SpaceCode::filemarks, SignedCount24::from(-1).value()),
      cdb::space16(cdb::SpaceCode::end_of_data, 0),
      cdb::rewind(false),
      cdb::load_unload(cdb::LoadAction::unload, false),
      cdb::read_position(cdb::ReadPositionForm::long_form),
      cdb::locate16(cdb::LocateDestination::logical_file, 3, std::nullopt, false),
      cdb::erase6(true, false),
      cdb::prevent_allow_medium_removal(true),
      cdb::log_sense(0x2E),
      cdb::read_attribute(cdb::ReadAttributeAction::values, 0, 0x0401),
      cdb::report_density_support(false, false),
  };
}

struct Sample {
  const char* what;
  Command command;
  std::vector<std::uint8_t> sense;
  TapeCondition expected;
};

std::vector<Sample> reference_samples() {
  const auto read = cdb::read6_variable(Count24::from(262144).value(), false);
  const auto write = cdb::write6_variable(Count24::from(262144).value());
  return {
      {"READ stops at a filemark (fixed format)", read,
       {0xF0, 0, 0x80, 0x00, 0x04, 0x00, 0x00, 0x0A, 0, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0},
       TapeCondition::filemark},
      {"WRITE reaches early warning", write,
       {0x70, 0, 0x40, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x00, 0x02, 0, 0, 0, 0},
       TapeCondition::early_warning},
      {"READ at end of data", read,
       {0x70, 0, 0x08, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x00, 0x05, 0, 0, 0, 0},
       TapeCondition::end_of_data},
      {"WRITE past end of medium", write,
       {0xF0, 0, 0x4D, 0x00, 0x04, 0x00, 0x00, 0x0A, 0, 0, 0, 0, 0x00, 0x02, 0, 0, 0, 0},
       TapeCondition::volume_overflow},
      {"READ of a shorter block (descriptor format)", read,
       {0x72, 0x00, 0x00, 0x00, 0, 0, 0, 0x10,
        0x00, 0x0A, 0x80, 0x00, 0, 0, 0, 0, 0x00, 0x01, 0x00, 0x00,
        0x04, 0x02, 0x00, 0x20},
       TapeCondition::short_block},
      {"deferred MEDIUM ERROR (descriptor format)", write,
       {0x73, 0x03, 0x0C, 0x00, 0, 0, 0, 0}, TapeCondition::medium_error},
      {"TEST UNIT READY without a cartridge", cdb::test_unit_ready(),
       {0x70, 0, 0x02, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x3A, 0x00, 0, 0, 0, 0},
       TapeCondition::no_medium},
      {"WRITE after a cartridge change", write,
       {0x70, 0, 0x06, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x28, 0x00, 0, 0, 0, 0},
       TapeCondition::medium_changed},
  };
}

const char* direction_name(DataDirection d) {
  switch (d) {
    case DataDirection::none:
      return "none";
    case DataDirection::from_device:
      return "in";
    case DataDirection::to_device:
      return "out";
  }
  return "?";
}

}  // namespace

bool run_self_check(std::ostream& out) {
  const auto timeouts = TimeoutTable::lto_defaults();
  out << "Commands (CDB, data direction, expected transfer, default timeout):\n";
  for (const auto& c : reference_commands()) {
    char line[200];
    std::snprintf(line, sizeof line, "  %-33s %-48s %-4s %8llu %6llds\n",
                  std::string{command_name(c)}.c_str(), to_hex(c.bytes()).c_str(),
                  direction_name(c.direction),
                  static_cast<unsigned long long>(c.transfer_length),
                  static_cast<long long>(timeouts.timeout_for(c).count()));
    out << line;
  }
  out << "Reference sense samples:\n";
  bool all_good = true;
  for (const auto& s : reference_samples()) {
    CompletionStatus status;
    status.scsi_status = static_cast<std::uint8_t>(ScsiStatus::check_condition);
    status.sense = s.sense;
    const auto c = classify(s.command, status);
    const bool ok = c.condition == s.expected;
    all_good = all_good && ok;
    out << "  " << (ok ? "ok   " : "FAIL ") << s.what << ": " << condition_name(c.condition);
    if (!ok) {
      out << " (expected " << condition_name(s.expected) << ")";
    }
    out << "\n";
  }
  out << (all_good ? "SCSI layer: every sample classified as expected\n"
                   : "SCSI layer: a sample was misclassified\n");
  return all_good;
}

namespace {

// A scratch directory for the check's image, removed afterwards.
struct ScratchImage {
  std::filesystem::path directory;
  ScratchImage() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tapestreamd-check-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw StartupError{"self-check: cannot create a scratch directory in " +
                         std::filesystem::temp_directory_path().string()};
    }
    directory = pattern;
  }
  ~ScratchImage() {
    std::error_code ignored;
    std::filesystem::remove_all(directory, ignored);
  }
};

const char* page_kind_name(uring::BufferPool::PageKind kind) {
  switch (kind) {
    case uring::BufferPool::PageKind::huge_pages:
      return "huge pages";
    case uring::BufferPool::PageKind::transparent_huge_pages:
      return "transparent huge pages";
    case uring::BufferPool::PageKind::normal_pages:
      return "normal pages";
  }
  return "?";
}

}  // namespace

bool run_drive_check(std::ostream& out) {
  constexpr std::size_t block = 256 * 1024;
  constexpr std::uint32_t blocks = 4;
  try {
    auto ring = uring::Ring::create({});
    const auto& f = ring.features();
    out << "io_uring: SQE128|CQE32 " << (f.big_entries ? "yes" : "no") << ", SINGLE_ISSUER "
        << (f.single_issuer ? "yes" : "no") << ", DEFER_TASKRUN "
        << (f.defer_taskrun ? "yes" : "no") << "\n";
    auto pool = uring::BufferPool::create(ring, 2, block);
    out << "buffers: 2 x 256 KiB, locked and registered, " << page_kind_name(pool.page_kind())
        << "\n";
    ScratchImage scratch;
    const auto image = scratch.directory / "check.tap";
    emulated::EmulatedDrive drive{ring, emulated::parse_drive_spec("emulated:" + image.string())};
    auto run = [&](const Command& command, std::size_t length) {
      transport::ScsiRequest request;
      request.command = command;
      request.data = {0, pool.buffer(0).first(length)};
      request.timeout = std::chrono::seconds{10};
      auto result = transport::run_blocking(ring, drive, request);
      if (!result) {
        throw StartupError{std::string{command_name(command)} + ": " + result.error().message()};
      }
      return classify(command, result.value().status()).condition;
    };
    const auto count = [](std::uint32_t n) { return Count24::from(n).value(); };
    auto data = pool.buffer(0);
    for (std::uint32_t i = 0; i < blocks; ++i) {
      std::fill(data.begin(), data.end(), static_cast<std::uint8_t>(0xA0 + i));
      if (run(cdb::write6_variable(count(block)), block) != TapeCondition::good) {
        out << "emulated drive: WRITE " << i << " failed\n";
        return false;
      }
    }
    if (run(cdb::write_filemarks6(count(1), false), 0) != TapeCondition::good ||
        run(cdb::rewind(false), 0) != TapeCondition::good) {
      out << "emulated drive: WRITE FILEMARKS or REWIND failed\n";
      return false;
    }
    for (std::uint32_t i = 0; i < blocks; ++i) {
      std::fill(data.begin(), data.end(), 0);
      if (run(cdb::read6_variable(count(block), true), block) != TapeCondition::good ||
          std::any_of(data.begin(), data.end(),
                      [i](std::uint8_t b) { return b != static_cast<std::uint8_t>(0xA0 + i); })) {
        out << "emulated drive: block " << i << " did not read back as written\n";
        return false;
      }
    }
    if (run(cdb::read6_variable(count(block), true), block) != TapeCondition::filemark) {
      out << "emulated drive: the filemark did not read back\n";
      return false;
    }
    out << "emulated drive: wrote " << blocks << " blocks of 256 KiB and a filemark through the "
        << "ring, read them back identical\n";
    return true;
  } catch (const std::exception& e) {
    out << "drive check FAILED: " << e.what() << "\n";
    return false;
  }
}

}  // namespace tapestream::tools
