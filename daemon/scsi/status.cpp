#include "scsi/status.hpp"

namespace tapestream::scsi {

std::string_view scsi_status_name(std::uint8_t status) {
  switch (static_cast<ScsiStatus>(status)) {
    case ScsiStatus::good:
      return "GOOD";
    case ScsiStatus::check_condition:
      return "CHECK CONDITION";
    case ScsiStatus::condition_met:
      return "CONDITION MET";
    case ScsiStatus::busy:
      return "BUSY";
    case ScsiStatus::reservation_conflict:
      return "RESERVATION CONFLICT";
    case ScsiStatus::command_terminated:
      return "COMMAND TERMINATED";
    case ScsiStatus::task_set_full:
      return "TASK SET FULL";
    case ScsiStatus::aca_active:
      return "ACA ACTIVE";
    case ScsiStatus::task_aborted:
      return "TASK ABORTED";
  }
  return "reserved status";
}

std::string_view host_status_name(std::uint8_t status) {
  switch (static_cast<HostStatus>(status)) {
    case HostStatus::ok:
      return "DID_OK";
    case HostStatus::no_connect:
      return "DID_NO_CONNECT";
    case HostStatus::bus_busy:
      return "DID_BUS_BUSY";
    case HostStatus::time_out:
      return "DID_TIME_OUT";
    case HostStatus::bad_target:
      return "DID_BAD_TARGET";
    case HostStatus::abort:
      return "DID_ABORT";
    case HostStatus::parity:
      return "DID_PARITY";
    case HostStatus::error:
      return "DID_ERROR";
    case HostStatus::reset:
      return "DID_RESET";
    case HostStatus::bad_intr:
      return "DID_BAD_INTR";
    case HostStatus::passthrough:
      return "DID_PASSTHROUGH";
    case HostStatus::soft_error:
      return "DID_SOFT_ERROR";
    case HostStatus::imm_retry:
      return "DID_IMM_RETRY";
    case HostStatus::requeue:
      return "DID_REQUEUE";
    case HostStatus::transport_disrupted:
      return "DID_TRANSPORT_DISRUPTED";
    case HostStatus::transport_failfast:
      return "DID_TRANSPORT_FAILFAST";
    case HostStatus::transport_marginal:
      return "DID_TRANSPORT_MARGINAL";
  }
  return "unknown host status";
}

}  // namespace tapestream::scsi
