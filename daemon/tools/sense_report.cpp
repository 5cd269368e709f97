#include "tools/sense_report.hpp"

#include <cstdio>

#include "scsi/asc_table.hpp"

namespace tapestream::tools {

std::string describe_sense(const scsi::Sense& s) {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "format:      %s, %s\n",
                s.descriptor_format ? "descriptor" : "fixed",
                s.deferred ? "deferred error" : "current");
  out += line;
  std::snprintf(line, sizeof line, "sense key:   %Xh %s\n", static_cast<unsigned>(s.key),
                std::string{scsi::sense_key_name(s.key)}.c_str());
  out += line;
  std::snprintf(line, sizeof line, "ASC/ASCQ:    %02Xh/%02Xh %s\n", s.asc, s.ascq,
                scsi::describe_asc(s.asc, s.ascq).c_str());
  out += line;
  std::string flags;
  if (s.filemark) {
    flags += " FILEMARK";
  }
  if (s.end_of_medium) {
    flags += " EOM";
  }
  if (s.incorrect_length) {
    flags += " ILI";
  }
  out += "flags:      " + (flags.empty() ? std::string{" none"} : flags) + "\n";
  if (s.information) {
    out += "information: " + std::to_string(*s.information) + "\n";
  }
  if (s.command_specific && *s.command_specific != 0) {
    out += "command-specific information: " + std::to_string(*s.command_specific) + "\n";
  }
  if (s.key_specific) {
    const auto& k = *s.key_specific;
    if (s.key == scsi::SenseKey::illegal_request) {
      const auto p = k.field_pointer();
      std::snprintf(line, sizeof line, "field pointer: %s byte %u%s\n",
                    p.in_cdb ? "CDB" : "parameter list", p.byte,
                    p.bit ? (" bit " + std::to_string(*p.bit)).c_str() : "");
    } else if (s.key == scsi::SenseKey::not_ready || s.key == scsi::SenseKey::no_sense) {
      std::snprintf(line, sizeof line, "progress:    %.1f%%\n", k.progress() * 100.0 / 65536.0);
    } else {
      std::snprintf(line, sizeof line, "sense-key specific: %02x %02x %02x\n", k.raw[0], k.raw[1],
                    k.raw[2]);
    }
    out += line;
  }
  if (s.field_replaceable_unit != 0) {
    out += "field replaceable unit: " + std::to_string(s.field_replaceable_unit) + "\n";
  }
  return out;
}

std::string describe_classification(scsi::Opcode opcode, const scsi::Classification& c) {
  std::string out = std::string{scsi::condition_name(c.condition)};
  out += scsi::is_expected(opcode, c.condition) ? " (expected for " : " (an error for ";
  out += std::string{scsi::opcode_name(opcode)} + ")";
  if (c.deferred) {
    out += ", deferred: reports an earlier command";
  }
  if (c.retryable) {
    out += ", retryable";
  }
  if (c.residue) {
    out += ", residue " + std::to_string(*c.residue);
  }
  if (c.block_length) {
    out += ", block on tape " + std::to_string(*c.block_length) + " bytes";
  }
  return out;
}

}  // namespace tapestream::tools
