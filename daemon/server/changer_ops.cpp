#include "server/changer_ops.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <variant>

#include "scsi/asc_table.hpp"
#include "scsi/sense.hpp"
#include "scsi/smc.hpp"
#include "scsi/smc_cdb.hpp"
#include "transport/blocking.hpp"

namespace tapestream::server {
namespace {

using proto::ChangerElement;

struct Failed {
  proto::Status status;
  std::string message;
};
template <class T>
using Outcome = std::variant<T, Failed>;

// The changer's elements as the protocol numbers them, with the addresses to move between.
struct Inventory {
  std::vector<ChangerElement> elements;  // slots, import/export slots, drives
  std::uint32_t slots = 0;
  std::uint32_t mail_slots = 0;

  const ChangerElement* slot(std::uint32_t number) const {
    for (const auto& e : elements) {
      if (e.kind != TS_ELEMENT_DRIVE && e.number == number) {
        return &e;
      }
    }
    return nullptr;
  }
  const ChangerElement* drive(const std::string& name) const {
    for (const auto& e : elements) {
      if (e.kind == TS_ELEMENT_DRIVE && e.drive == name) {
        return &e;
      }
    }
    return nullptr;
  }
  const ChangerElement* at(std::uint16_t address) const {
    for (const auto& e : elements) {
      if (e.address == address) {
        return &e;
      }
    }
    return nullptr;
  }
};

std::string element_name(const ChangerElement& e) {
  if (e.kind == TS_ELEMENT_DRIVE) {
    return "drive " + (e.drive.empty() ? std::to_string(e.number) : e.drive);
  }
  return (e.kind == TS_ELEMENT_IMPORT_EXPORT ? "import/export slot " : "slot ") +
         std::to_string(e.number);
}

// What the changer (or the kernel) answered when it did not do what was asked, for a message.
std::string answer_text(const transport::ScsiResult& result) {
  if (result.submission_errno != 0) {
    return "the kernel refused the command: " +
           std::error_code{result.submission_errno, std::system_category()}.message();
  }
  if (result.timed_out) {
    return "no answer within the command's timeout";
  }
  if (result.host_status != 0) {
    return "the host adapter lost the command (host status " + std::to_string(result.host_status) + ")";
  }
  if (result.scsi_status != 0x02) {
    return "SCSI status " + std::to_string(result.scsi_status);
  }
  const auto sense = scsi::normalise_sense({result.sense.data(), result.sense_length});
  if (!sense) {
    return "CHECK CONDITION without usable sense data";
  }
  return std::string{scsi::sense_key_name(sense.value().key)} + ", " +
         scsi::describe_asc(sense.value().asc, sense.value().ascq);
}

scsi::ChangerCondition condition_of(const transport::ScsiResult& result) {
  const auto sense = scsi::normalise_sense({result.sense.data(), result.sense_length});
  return sense ? scsi::classify_changer_sense(sense.value()) : scsi::ChangerCondition::other;
}

// The command reached the changer and it did what was asked (a RECOVERED ERROR did it too). A
// command the kernel refused or the host adapter lost has GOOD status with nothing done.
bool done(const transport::ScsiResult& result) {
  if (result.host_status != 0 || result.timed_out || result.submission_errno != 0) {
    return false;
  }
  return result.scsi_status == 0 ||
         (result.scsi_status == 0x02 && condition_of(result) == scsi::ChangerCondition::good);
}

// A changer answers UNIT ATTENTION once after a reset, an opened and closed door or a touched
// magazine, without doing the command, and NOT READY (04/01 and the like) while it takes stock
// after that: the command is sent again, three times for attentions, once a second for a minute
// while the changer is not ready. A door left open or a magazine taken out is told at once.
Result<transport::ScsiResult> run_changer_command(const ChangerContext& c,
                                                  const transport::ScsiRequest& request) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes{1};
  int attentions = 0;
  for (;;) {
    auto result = transport::run_blocking(c.ring, c.changer, request);
    if (!result || result.value().scsi_status != 0x02 || result.value().host_status != 0) {
      return result;
    }
    const auto sense = scsi::normalise_sense({result.value().sense.data(), result.value().sense_length});
    if (!sense) {
      return result;
    }
    if (sense.value().key == scsi::SenseKey::unit_attention && ++attentions <= 3) {
      spdlog::info("library {}: its changer reports {}; asking again", c.library,
                   answer_text(result.value()));
      continue;
    }
    if (scsi::classify_changer_sense(sense.value()) == scsi::ChangerCondition::not_ready &&
        std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::seconds{1});  // the changer's own thread
      continue;
    }
    return result;
  }
}

}  // namespace

Result<std::vector<scsi::ElementStatus>, std::string> read_changer_elements(const ChangerContext& c) {
  const auto room = static_cast<std::uint32_t>(std::min<std::size_t>(c.buffer.bytes.size(), 0xFF'FFFF));
  std::uint32_t allocation = std::min<std::uint32_t>(64 * 1024, room);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto data = c.buffer.bytes.first(allocation);
    transport::ScsiRequest request;
    request.command = *scsi::cdb::read_element_status(scsi::ElementType::all, 0, 0xFFFF, allocation,
                                                      true, true);
    request.data = {c.buffer.index, data};
    request.timeout = std::chrono::seconds{120};
    const auto result = run_changer_command(c, request);
    if (!result) {
      return "library " + c.library + ": its changer did not answer READ ELEMENT STATUS: " +
             result.error().message();
    }
    if (!done(result.value())) {
      return "library " + c.library + ": its changer refused READ ELEMENT STATUS (" +
             answer_text(result.value()) + ")";
    }
    data = data.first(data.size() - std::min<std::size_t>(result.value().residue, data.size()));
    auto report = scsi::parse_element_status(data);
    if (!report) {
      return "library " + c.library + ": its changer's element status does not parse";
    }
    if (!report.value().truncated) {
      return std::move(report.value().elements);
    }
    if (allocation == room || std::uint64_t{8} + report.value().bytes_available > room) {
      return "library " + c.library + ": its changer reports " +
             std::to_string(report.value().bytes_available) + " bytes of element status, more "
             "than the " + std::to_string(room) + " the daemon reads";
    }
    allocation = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(room, std::uint64_t{8} + report.value().bytes_available));
  }
  return "library " + c.library + ": its changer's element status is longer each time it is read";
}

namespace {

Outcome<Inventory> inventory(const ChangerContext& c) {
  auto read = read_changer_elements(c);
  if (!read) {
    return Failed{proto::Status::drive_error, read.error()};
  }
  auto& raw = read.value();
  std::stable_sort(raw.begin(), raw.end(), [](const auto& a, const auto& b) {
    return a.type != b.type ? a.type < b.type : a.address < b.address;
  });
  Inventory inv;
  for (const auto& e : raw) {
    inv.slots += e.type == scsi::ElementType::storage ? 1 : 0;
  }
  std::uint32_t next_slot = 1;
  std::uint32_t next_mail = inv.slots + 1;
  std::uint32_t next_drive = 0;
  for (const auto& e : raw) {
    ChangerElement out;
    out.address = e.address;
    if (e.type == scsi::ElementType::storage) {
      out.kind = TS_ELEMENT_SLOT;
      out.number = next_slot++;
    } else if (e.type == scsi::ElementType::import_export) {
      out.kind = TS_ELEMENT_IMPORT_EXPORT;
      out.number = next_mail++;
      ++inv.mail_slots;
    } else if (e.type == scsi::ElementType::data_transfer) {
      out.kind = TS_ELEMENT_DRIVE;
      out.number = next_drive;
      if (const auto drive = c.drive_at.find(e.address); drive != c.drive_at.end()) {
        out.drive = drive->second;
      }
      ++next_drive;
    } else {
      continue;  // the robot's picker holds a cartridge only in the middle of a move
    }
    out.flags = static_cast<std::uint8_t>((e.full ? TS_ELEMENT_FULL : 0U) |
                                          (e.exception ? TS_ELEMENT_EXCEPTION : 0U));
    if (e.full && e.primary_tag) {
      out.barcode = e.primary_tag->identifier.substr(0, TS_MAX_VOLUME_TEXT);
    }
    if (e.full && e.source) {
      out.source = *e.source;  // an address for now: made a slot number below
    }
    inv.elements.push_back(std::move(out));
  }
  for (auto& e : inv.elements) {
    if (e.source != 0) {
      const auto* from = inv.at(static_cast<std::uint16_t>(e.source));
      e.source = from != nullptr && from->kind != TS_ELEMENT_DRIVE ? from->number : 0;
    }
  }
  return inv;
}

Failed refusal_of(const transport::ScsiResult& result, const ChangerElement& from,
                  const ChangerElement& to) {
  const auto move = element_name(from) + " to " + element_name(to);
  const auto sense = scsi::normalise_sense({result.sense.data(), result.sense_length});
  const auto condition = condition_of(result);
  // A robot that failed or was stopped in the middle may hold the cartridge in its picker.
  if (condition == scsi::ChangerCondition::move_failed ||
      (sense && sense.value().key == scsi::SenseKey::aborted_command)) {
    return {proto::Status::drive_error,
            "the move of " + move + " failed (" + answer_text(result) +
                "): the robot may still hold the cartridge; changer status tells where it is"};
  }
  switch (condition) {
    case scsi::ChangerCondition::source_empty:
      return {proto::Status::no_medium, element_name(from) + " is empty: nothing to move to " +
                                            element_name(to)};
    case scsi::ChangerCondition::destination_full:
      return {proto::Status::busy, element_name(to) + " is full: the cartridge in " +
                                       element_name(from) + " stays there"};
    case scsi::ChangerCondition::removal_prevented:
      return {proto::Status::drive_error,
              element_name(from) + " does not give its cartridge up (removal prevented)"};
    case scsi::ChangerCondition::invalid_element:
    case scsi::ChangerCondition::illegal_request:
      return {proto::Status::bad_request, "the changer cannot move " + move};
    default:
      return {proto::Status::drive_error,
              "the move of " + move + " failed (" + answer_text(result) + "): the cartridge is where it was"};
  }
}

}  // namespace

ChangerAnswer changer_inventory(const ChangerContext& context) {
  auto inv = inventory(context);
  if (auto* failed = std::get_if<Failed>(&inv)) {
    return {failed->status, failed->message, {}, {}};
  }
  ChangerAnswer answer;
  const auto& elements = std::get<Inventory>(inv).elements;
  for (std::size_t at = 0; at == 0 || at < elements.size(); at += TS_MAX_ELEMENTS_PER_FRAME) {
    proto::ChangerElements frame;
    frame.library = context.library;
    const auto end = std::min(elements.size(), at + TS_MAX_ELEMENTS_PER_FRAME);
    frame.elements.assign(elements.begin() + static_cast<std::ptrdiff_t>(at),
                          elements.begin() + static_cast<std::ptrdiff_t>(end));
    frame.flags = end < elements.size() ? TS_ELEMENTS_MORE : 0U;
    answer.frames.push_back(std::move(frame));
  }
  return answer;
}

ChangerAnswer changer_move(const ChangerContext& context, const proto::ChangerMove& move) {
  auto read = inventory(context);
  if (auto* failed = std::get_if<Failed>(&read)) {
    return {failed->status, failed->message, {}, {}};
  }
  const auto& inv = std::get<Inventory>(read);
  auto no_slot = [&](std::uint32_t number) {
    return ChangerAnswer{proto::Status::bad_request,
                         "library " + context.library + " has no slot " + std::to_string(number) +
                             " (slots 1-" + std::to_string(inv.slots) +
                             (inv.mail_slots > 0 ? ", import/export " + std::to_string(inv.slots + 1) +
                                                       "-" + std::to_string(inv.slots + inv.mail_slots)
                                                 : std::string{}) +
                             ")",
                         {},
                         {}};
  };
  const ChangerElement* from = nullptr;
  const ChangerElement* to = nullptr;
  const auto* drive = move.drive.empty() ? nullptr : inv.drive(move.drive);
  if (!move.drive.empty() && drive == nullptr) {
    return {proto::Status::bad_request,
            "library " + context.library + " reports no element for drive " + move.drive, {}, {}};
  }
  if (move.op == TS_CHANGER_LOAD) {
    from = inv.slot(move.slot);
    to = drive;
    if (from == nullptr) {
      return no_slot(move.slot);
    }
  } else if (move.op == TS_CHANGER_UNLOAD) {
    from = drive;
    std::uint32_t slot = move.slot;
    if (slot == 0 && (drive->flags & TS_ELEMENT_FULL) != 0) {
      slot = drive->source;
      if (slot == 0) {
        return {proto::Status::bad_request,
                "drive " + move.drive + ": where its cartridge came from is not known; name a slot",
                {}, {}};
      }
    }
    if (slot == 0) {
      return {proto::Status::no_medium, "drive " + move.drive + " is empty: nothing to unload", {}, {}};
    }
    to = inv.slot(slot);
    if (to == nullptr) {
      return no_slot(slot);
    }
  } else {
    from = inv.slot(move.slot);
    to = inv.slot(move.to_slot);
    if (from == nullptr || to == nullptr) {
      return no_slot(from == nullptr ? move.slot : move.to_slot);
    }
  }
  transport::ScsiRequest request;
  request.command = scsi::cdb::move_medium(0, from->address, to->address);
  request.timeout = std::chrono::seconds{600};
  const auto result = run_changer_command(context, request);
  if (!result) {
    return {proto::Status::drive_error,
            "library " + context.library + ": the changer did not complete the move: " +
                result.error().message(),
            {}, {}};
  }
  if (result.value().timed_out || result.value().host_status != 0) {
    // No sense to say what happened: the robot may have moved, or be moving, the cartridge.
    const auto message = "the move of " + element_name(*from) + " to " + element_name(*to) +
                         " was not answered (" + answer_text(result.value()) +
                         "): where the cartridge is now is not known (changer status tells)";
    spdlog::warn("library {}: {}", context.library, message);
    return {proto::Status::drive_error, message, {}, {}};
  }
  if (!done(result.value())) {
    auto refused = refusal_of(result.value(), *from, *to);
    spdlog::info("library {}: move refused: {}", context.library, refused.message);
    return {refused.status, refused.message, {}, {}};
  }
  spdlog::info("library {}: moved {} to {}", context.library, element_name(*from), element_name(*to));
  // Told as the changer reports the two elements now.
  auto after = inventory(context);
  if (auto* failed = std::get_if<Failed>(&after)) {
    return {failed->status, "the move was made, but " + failed->message, {}, {}};
  }
  const auto& now = std::get<Inventory>(after);
  const auto* from_now = now.at(from->address);
  const auto* to_now = now.at(to->address);
  ChangerAnswer answer;
  answer.moved = proto::ChangerMoved{from_now != nullptr ? *from_now : *from,
                                     to_now != nullptr ? *to_now : *to};
  return answer;
}

}  // namespace tapestream::server
