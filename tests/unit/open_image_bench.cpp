// Measures opening an emulated drive's image (docs/EMULATED_DRIVE.md quotes its numbers), and
// writes large images through the drive itself to measure against:
//   open_image_bench IMAGE [OPTIONS]                     open, report time, objects, max RSS
//   open_image_bench IMAGE --write BLOCKS SIZE [OPTIONS] write BLOCKS blocks of SIZE, a filemark
// OPTIONS are the drive's own (capacity=64G). Run it under /usr/bin/time -v for the whole
// process's figures.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/startup_error.hpp"
#include "emulated/drive_spec.hpp"
#include "emulated/emulated_drive.hpp"
#include "scsi/cdb.hpp"
#include "scsi/condition.hpp"
#include "scsi/position.hpp"
#include "transport/blocking.hpp"
#include "uring/buffer_pool.hpp"

using namespace tapestream;

namespace {

long max_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// Stops the program unless the command ends GOOD (or in early warning, for a long write).
void run(uring::Ring& ring, transport::ScsiTransport& drive, const scsi::Command& command,
                 std::span<std::uint8_t> data) {
  transport::ScsiRequest request;
  request.command = command;
  request.data = {0, data};
  request.timeout = std::chrono::minutes{10};
  auto result = transport::run_blocking(ring, drive, request);
  if (!result) {
    std::fprintf(stderr, "command failed: %s\n", result.error().message().c_str());
    std::exit(1);
  }
  const auto condition = scsi::classify(command, result.value().status()).condition;
  if (condition != scsi::TapeCondition::good && condition != scsi::TapeCondition::early_warning) {
    std::fprintf(stderr, "%s: %s\n", std::string{scsi::command_name(command)}.c_str(),
                 std::string{scsi::condition_name(condition)}.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: open_image_bench IMAGE [--write BLOCKS SIZE] [OPTIONS]\n", stderr);
    return 2;
  }
  const std::string image = argv[1];
  std::uint64_t blocks = 0;
  std::size_t size = 256 * 1024;
  int next = 2;
  if (argc >= 5 && std::string{argv[2]} == "--write") {
    blocks = std::strtoull(argv[3], nullptr, 10);
    size = std::strtoull(argv[4], nullptr, 10);
    next = 5;
  }
  const std::string options = argc > next ? std::string{"?"} + argv[next] : "";
  try {
    auto ring = uring::Ring::create({});
    auto pool = uring::BufferPool::create(ring, 1, std::max<std::size_t>(size, 64 * 1024));
    const auto started = std::chrono::steady_clock::now();
    emulated::EmulatedDrive drive{ring, emulated::parse_drive_spec("emulated:" + image + options)};
    const std::chrono::duration<double> opened = std::chrono::steady_clock::now() - started;
    auto buffer = pool.buffer(0);
    for (std::uint64_t i = 0; i < blocks; ++i) {
      std::fill_n(buffer.begin(), size, static_cast<std::uint8_t>(i));
      run(ring, drive, scsi::cdb::write6_variable(scsi::Count24::from(size).value()),
          buffer.first(size));
    }
    if (blocks > 0) {
      run(ring, drive, scsi::cdb::write_filemarks6(scsi::Count24::from(1).value(), false), {});
    }
    run(ring, drive,
        scsi::cdb::locate16(scsi::cdb::LocateDestination::end_of_data, 0, std::nullopt, false), {});
    const auto form = scsi::cdb::ReadPositionForm::long_form;
    const auto command = scsi::cdb::read_position(form);
    run(ring, drive, command, buffer.first(command.transfer_length));
    const auto position =
        scsi::parse_read_position(form, buffer.first(command.transfer_length)).value();
    std::printf("opened in %.3f s; objects %llu, files %llu; max RSS %ld KiB\n", opened.count(),
                static_cast<unsigned long long>(position.first_logical_object.value_or(0)),
                static_cast<unsigned long long>(position.logical_file.value_or(0)), max_rss_kib());
  } catch (const StartupError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 78;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
