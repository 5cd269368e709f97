#include "scsi/condition.hpp"

#include <array>
#include <initializer_list>

namespace tapestream::scsi {
namespace {

using Mask = std::uint32_t;
static_assert(tape_condition_count <= 32, "the expected-condition table packs conditions in 32 bits");

constexpr Mask mask_of(std::initializer_list<TapeCondition> conditions) {
  Mask m = 0;
  for (auto c : conditions) {
    m |= Mask{1} << static_cast<unsigned>(c);
  }
  return m;
}

struct ExpectedConditions {
  Opcode opcode;
  Mask conditions;
};

// Conditions that are part of a command's normal outcome (LTFS keeps the same kind of list).
// GOOD is always expected and not listed.
constexpr std::array expected_conditions{
    ExpectedConditions{Opcode::read6, mask_of({TapeCondition::filemark, TapeCondition::short_block,
                                               TapeCondition::end_of_data})},
    ExpectedConditions{Opcode::write6, mask_of({TapeCondition::early_warning})},
    ExpectedConditions{Opcode::write_filemarks6, mask_of({TapeCondition::early_warning})},
    ExpectedConditions{Opcode::space6,
                       mask_of({TapeCondition::filemark, TapeCondition::end_of_data,
                                TapeCondition::beginning_of_medium})},
    ExpectedConditions{Opcode::space16,
                       mask_of({TapeCondition::filemark, TapeCondition::end_of_data,
                                TapeCondition::beginning_of_medium})},
    // TEST UNIT READY exists to ask these questions.
    ExpectedConditions{Opcode::test_unit_ready,
                       mask_of({TapeCondition::no_medium, TapeCondition::becoming_ready,
                                TapeCondition::not_ready, TapeCondition::medium_changed,
                                TapeCondition::reset, TapeCondition::parameters_changed,
                                TapeCondition::unit_attention})},
};

bool is_data_transfer(Opcode op) { return op == Opcode::read6 || op == Opcode::write6; }
bool is_fixed_mode(const Command& c) { return is_data_transfer(c.opcode()) && (c.cdb[1] & 0x01) != 0; }

// The count a data command asked for, in its own units (bytes, or blocks in fixed mode).
std::int64_t requested_count(const Command& c) {
  return static_cast<std::int64_t>(load_be24(c.cdb, 2));
}

Classification from_host(const CompletionStatus& status) {
  Classification r;
  r.condition = TapeCondition::transport_failure;
  switch (static_cast<HostStatus>(status.host_status)) {
    case HostStatus::bus_busy:
    case HostStatus::soft_error:
    case HostStatus::imm_retry:
    case HostStatus::requeue:
    case HostStatus::transport_disrupted:
      r.retryable = true;
      break;
    default:
      break;
  }
  return r;
}

// Which block a READ or WRITE stopped at, from ILI and the residue.
void apply_length_mismatch(const Command& command, Classification& r) {
  if (!r.residue) {
    r.condition = TapeCondition::short_block;
    return;
  }
  const auto residue = *r.residue;
  r.condition = residue < 0 ? TapeCondition::long_block : TapeCondition::short_block;
  // A 64-bit descriptor INFORMATION field can hold anything; only a residue that a 24-bit
  // transfer and a 16 MiB block allow gives a length (the fuzzer found INT64_MIN here).
  const auto requested = requested_count(command);
  constexpr std::int64_t longest_block = 0x100'0000 + 4;  // a record and its LBP CRC
  if (!is_fixed_mode(command) && residue <= requested && residue >= requested - longest_block) {
    r.block_length = static_cast<std::uint64_t>(requested - residue);
  }
}

TapeCondition from_no_sense(const Sense& s) {
  if (s.filemark) {
    return TapeCondition::filemark;
  }
  if (s.end_of_medium) {
    return s.asc_ascq() == 0x0004 ? TapeCondition::beginning_of_medium
                                  : TapeCondition::early_warning;
  }
  return TapeCondition::good;
}

TapeCondition from_not_ready(const Sense& s) {
  if (s.asc == 0x3A) {
    return TapeCondition::no_medium;
  }
  if (s.asc_ascq() == 0x0401 || s.asc_ascq() == 0x0407) {
    return TapeCondition::becoming_ready;
  }
  return TapeCondition::not_ready;
}

TapeCondition from_unit_attention(const Sense& s) {
  switch (s.asc) {
    case 0x28:
    case 0x3A:
      return TapeCondition::medium_changed;
    case 0x29:
      return TapeCondition::reset;
    case 0x2A:
      return TapeCondition::parameters_changed;
    default:
      return TapeCondition::unit_attention;
  }
}

void classify_sense(const Command& command, const Sense& s, Classification& r) {
  r.deferred = s.deferred;
  r.residue = s.information;
  switch (s.key) {
    case SenseKey::no_sense:
    case SenseKey::recovered_error:
      r.condition = from_no_sense(s);
      if (r.condition == TapeCondition::good && s.incorrect_length) {
        apply_length_mismatch(command, r);
      }
      return;
    case SenseKey::not_ready:
      r.condition = from_not_ready(s);
      r.retryable = r.condition == TapeCondition::becoming_ready;
      return;
    case SenseKey::medium_error:
      r.condition = s.end_of_medium && s.asc_ascq() == 0x0002 ? TapeCondition::end_of_medium
                                                              : TapeCondition::medium_error;
      return;
    case SenseKey::hardware_error:
      r.condition = TapeCondition::hardware_error;
      return;
    case SenseKey::illegal_request:
      r.condition = TapeCondition::illegal_request;
      return;
    case SenseKey::unit_attention:
      // The command was not executed; what it means for the position is the drive's call.
      r.condition = from_unit_attention(s);
      return;
    case SenseKey::data_protect:
      r.condition = s.asc == 0x27 || s.asc_ascq() == 0x300C ? TapeCondition::write_protected
                                                            : TapeCondition::data_protect;
      return;
    case SenseKey::blank_check:
      r.condition = TapeCondition::end_of_data;
      return;
    case SenseKey::aborted_command:
      r.condition = TapeCondition::aborted_command;
      r.retryable = true;
      return;
    case SenseKey::volume_overflow:
      r.condition = TapeCondition::volume_overflow;
      return;
    case SenseKey::vendor_specific:
    case SenseKey::copy_aborted:
    case SenseKey::reserved_c:
    case SenseKey::miscompare:
    case SenseKey::completed:
      r.condition = TapeCondition::unclassified;
      return;
  }
  r.condition = TapeCondition::unclassified;
}

Classification from_good(const Command& command, const CompletionStatus& status) {
  Classification r;
  // READ(6) with SILI: a shorter block completes GOOD, and the residue gives its length.
  if (command.opcode() == Opcode::read6 && !is_fixed_mode(command) && status.residue > 0 &&
      status.residue <= command.transfer_length) {
    r.residue = static_cast<std::int64_t>(status.residue);
    apply_length_mismatch(command, r);
  }
  return r;
}

}  // namespace

Classification classify(const Command& command, const CompletionStatus& status) {
  if (status.timed_out || status.host_status != 0 || (status.driver_status & 0x07) != 0) {
    return from_host(status);
  }
  Classification r;
  switch (static_cast<ScsiStatus>(status.scsi_status)) {
    case ScsiStatus::good:
    case ScsiStatus::condition_met:
      return from_good(command, status);
    case ScsiStatus::busy:
    case ScsiStatus::task_set_full:
      r.condition = TapeCondition::busy;
      r.retryable = true;
      return r;
    case ScsiStatus::reservation_conflict:
      r.condition = TapeCondition::reservation_conflict;
      return r;
    case ScsiStatus::task_aborted:
      r.condition = TapeCondition::aborted_command;
      r.retryable = true;
      return r;
    case ScsiStatus::check_condition:
    case ScsiStatus::command_terminated: {
      auto sense = normalise_sense(status.sense);
      if (!sense) {
        // Without sense the outcome is unknown: the transport lost it.
        r.condition = TapeCondition::transport_failure;
        return r;
      }
      classify_sense(command, sense.value(), r);
      r.sense = sense.value();
      return r;
    }
    case ScsiStatus::aca_active:
      break;
  }
  r.condition = TapeCondition::unclassified;
  return r;
}

bool is_expected(Opcode opcode, TapeCondition condition) {
  if (condition == TapeCondition::good) {
    return true;
  }
  for (const auto& entry : expected_conditions) {
    if (entry.opcode == opcode) {
      return (entry.conditions & (Mask{1} << static_cast<unsigned>(condition))) != 0;
    }
  }
  return false;
}

std::string_view condition_name(TapeCondition condition) {
  static constexpr std::array<std::string_view, tape_condition_count> names{
      "good",           "filemark",           "early_warning",   "end_of_data",
      "beginning_of_medium", "short_block",   "long_block",      "end_of_medium",
      "volume_overflow", "medium_error",      "hardware_error",  "no_medium",
      "becoming_ready", "not_ready",          "medium_changed",  "reset",
      "parameters_changed", "unit_attention", "write_protected", "data_protect",
      "illegal_request", "aborted_command",   "busy",            "reservation_conflict",
      "transport_failure", "unclassified",
  };
  const auto index = static_cast<std::size_t>(condition);
  return index < names.size() ? names[index] : "invalid";
}

}  // namespace tapestream::scsi
