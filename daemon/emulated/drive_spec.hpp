// What an emulated drive is, as one string from the configuration:
//   emulated:/var/lib/tapestream/emu0.tap?capacity=1G&ew=900M&medium_error_write=1234&hang=rewind
// The path is the SIMH image (created when absent); the options size the medium and inject
// faults. Sizes take K, M, G or T (powers of 1024).
//   null:?capacity=16T
// is the same drive with no image: its tape keeps the record structure and no data (the null
// drive, for measuring the daemon's own ceiling; docs/EMULATED_DRIVE.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulated/drive_model.hpp"
#include "emulated/image_layout.hpp"
#include "scsi/command.hpp"

namespace tapestream::emulated {

// What opening an image does when the format shows it damaged (docs/EMULATED_DRIVE.md).
enum class DamagePolicy {
  refuse,    // the drive does not start; the message says where and what
  readonly,  // the tape ends at the damage, write protected; the file stays as it is
  cut,       // the explicit repair: the image is cut at the damage
};

struct DriveSpec {
  std::filesystem::path image;  // empty for the null drive
  // The null drive: the tape keeps only the lengths of its blocks and its filemarks, in memory;
  // a WRITE does not read its data, a READ returns zeros of the recorded length.
  bool null_medium = false;
  std::uint64_t capacity = std::uint64_t{16} << 30;  // bytes of image the tape holds
  std::optional<std::uint64_t> early_warning;        // default: capacity minus 1/64, at most 1 GiB
  std::uint32_t max_block_length = 8U << 20;          // READ BLOCK LIMITS maximum
  bool write_protected = false;
  DamagePolicy damaged = DamagePolicy::refuse;
  bool follow_symlinks = false;  // the image path may be a symbolic link
  // How appends are placed in the image (image_layout.hpp); the image may hold both.
  ImageLayout layout = ImageLayout::aligned;
  // Faults, counted from 1 since the drive was opened.
  std::optional<std::uint64_t> medium_error_write;  // the Nth WRITE fails: MEDIUM ERROR
  // How long a cartridge a robot, an autoloader or an operator inserts takes to thread (NOT
  // READY, BECOMING READY meanwhile): load_time=, or a library's load_time=.
  std::chrono::milliseconds load_time{0};
  // magazine=B.tap,C.tap: a sequential autoloader (or an operator) with the cartridges that
  // follow the first: when the tape is unloaded, the cartridge goes back to the magazine and
  // the next one, an image file of that name in the first image's directory, goes in.
  std::vector<std::string> magazine;
  std::optional<std::uint64_t> medium_error_read;   // the Nth READ fails: MEDIUM ERROR
  std::optional<std::uint64_t> short_read;          // the Nth READ delivers half its block
  std::optional<std::uint64_t> unit_attention_after;  // after N commands: power-on UA
  std::optional<scsi::Opcode> hang;                 // this command never completes
  // This command blocks the thread that submits it for good, as a driver stuck in D state
  // holds the caller's thread: the drive's worker stops turning.
  std::optional<scsi::Opcode> wedge;
  // tape_alert=FLAG@BYTES: the drive raises TapeAlert flag FLAG (1..64) once BYTES of data have
  // been written since it was opened, as a real drive raises one mid-write.
  struct TapeAlertFault {
    unsigned flag = 0;
    std::uint64_t after_bytes = 0;
  };
  std::optional<TapeAlertFault> tape_alert;
  // Logical Block Protection: lbp=0 hides the Control Data Protection page (MODE SENSE and
  // MODE SELECT of it are refused, as by scsi_debug and drives without LBP).
  bool logical_block_protection = true;
  // corrupt_write=BYTES: one byte of the WRITE that carries data byte BYTES (counted from 0 over
  // the data written since the drive was opened, CRCs not counted) is flipped on its way in,
  // after the host computed the block's CRC: a drive checking LBP_W refuses that WRITE with
  // ABORTED COMMAND, LOGICAL BLOCK GUARD CHECK FAILED (10h/01h); the fault needs LBP_W on
  // (without it the drive cannot notice, and the byte is left alone). Fires once.
  std::optional<std::uint64_t> corrupt_write;
  // corrupt_read=BYTES: data byte BYTES (counted over the data READs returned since the drive
  // was opened) is flipped after the drive computed the block's CRC, a transfer error on the
  // way back: with LBP_R the host's check catches it; without, the host gets changed data.
  // Fires once.
  std::optional<std::uint64_t> corrupt_read;
  // The drive model (drive_model.hpp): set by buffer=, with rate=, min_rate= and backhitch=
  // (defaults: an LTO-9, 400M, 177M, 2500ms); unset, WRITEs complete as soon as they are done.
  std::optional<DriveModelSpec> model;
  std::string serial = "EMU0000001";
  // Empty: the image's own (emulated/medium_serial.hpp); the null drive's is NULLTAPE01.
  std::string medium_serial;

  std::uint64_t early_warning_offset() const;
};

// Parses "emulated:PATH[?OPTIONS]" or "null:[?OPTIONS]". Throws StartupError with the option at
// fault and what it accepts.
DriveSpec parse_drive_spec(std::string_view spec);
// Whether `spec` names an emulated or a null drive (which parse_drive_spec takes).
bool is_emulated_spec(std::string_view spec);

}  // namespace tapestream::emulated
