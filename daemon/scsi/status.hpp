// What a transport reports when a command completes: the SAM status byte, Linux's host and
// driver status, the residue and the sense bytes. Every transport (bsg, sg, emulated) fills
// this in the same way, so one classifier (condition.hpp) serves them all.
#pragma once

#include <cstdint>
#include <string_view>

#include "scsi/bytes.hpp"

namespace tapestream::scsi {

enum class ScsiStatus : std::uint8_t {
  good = 0x00,
  check_condition = 0x02,
  condition_met = 0x04,
  busy = 0x08,
  reservation_conflict = 0x18,
  command_terminated = 0x22,  // obsolete; treated as CHECK CONDITION
  task_set_full = 0x28,
  aca_active = 0x30,
  task_aborted = 0x40,
};

// Linux host byte (DID_*), as the kernel's bsg and sg drivers report it.
enum class HostStatus : std::uint8_t {
  ok = 0x00,
  no_connect = 0x01,
  bus_busy = 0x02,
  time_out = 0x03,
  bad_target = 0x04,
  abort = 0x05,
  parity = 0x06,
  error = 0x07,
  reset = 0x08,
  bad_intr = 0x09,
  passthrough = 0x0A,
  soft_error = 0x0B,
  imm_retry = 0x0C,
  requeue = 0x0D,
  transport_disrupted = 0x0E,
  transport_failfast = 0x0F,
  transport_marginal = 0x14,
};

struct CompletionStatus {
  std::uint8_t scsi_status = 0;
  std::uint8_t host_status = 0;
  std::uint8_t driver_status = 0;  // DRIVER_*; the low three bits are the error class
  std::uint64_t residue = 0;       // bytes of the transfer that did not move
  ByteView sense;                  // only the bytes the device actually wrote
  bool timed_out = false;          // the transport gave up waiting
};

std::string_view scsi_status_name(std::uint8_t status);
std::string_view host_status_name(std::uint8_t status);

}  // namespace tapestream::scsi
