// The state of an emulated tape library (issue 15): its elements — one medium transport (the
// robot), storage slots, import/export (mail) slots and data transfer elements (drives) — which
// cartridge, named by its barcode, each holds, and what a changer answers about them: MOVE
// MEDIUM's checks and sense, READ ELEMENT STATUS data and the Element Address Assignment and
// Device Capabilities mode pages, laid out as SMC-3 says (scsi/smc.hpp parses them back).
// No I/O and no time here: the transport that serves the changer's commands, loads images into
// the emulated drives and makes moves take time is built on this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scsi/smc.hpp"

namespace tapestream::emulated {

// The addresses a library of this shape uses. Real libraries put their ranges apart in the same
// way (the robot first, then mail slots, drives and slots), so that an address names its type.
struct LibraryShape {
  std::uint16_t slots = 24;
  std::uint16_t mail_slots = 2;
  std::vector<std::string> drive_serials;  // one data transfer element per drive, in order

  static constexpr std::uint16_t transport_address = 0x0001;
  static constexpr std::uint16_t first_mail_slot = 0x0010;
  static constexpr std::uint16_t first_drive = 0x0100;
  static constexpr std::uint16_t first_slot = 0x1000;
  // Within what the address ranges above leave for each type.
  static constexpr std::uint16_t max_mail_slots = first_drive - first_mail_slot;
  static constexpr std::uint16_t max_drives = first_slot - first_drive;
  static constexpr std::uint16_t max_slots = 0x1000;
  // A drive's identifier (DVCID) carries its serial number, its name, whole: the daemon finds
  // its drives by it (server/changer_worker.hpp), so a longer name is refused, never cut.
  static constexpr std::size_t max_drive_serial = 32;
};

// Why a move was refused, as a changer's CHECK CONDITION says it.
struct ChangerRefusal {
  scsi::SenseKey key = scsi::SenseKey::illegal_request;
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;
  std::string why;  // for the log
};

class LibraryModel {
 public:
  // Throws std::invalid_argument when the shape does not fit its address ranges.
  explicit LibraryModel(LibraryShape shape);

  const LibraryShape& shape() const { return _shape; }

  // A cartridge where it is, and the storage slot it last came from (for the saved state).
  struct Placement {
    std::uint16_t address = 0;
    std::string barcode;
    std::optional<std::uint16_t> source;
  };
  std::vector<Placement> placements() const;

  // The barcode in the element at `address`; empty when the element is empty or does not exist.
  std::optional<std::string> barcode_at(std::uint16_t address) const;
  // Puts a cartridge into an element, as an operator or the saved state does; false when the
  // element does not exist, is the transport, or is full.
  bool place(std::uint16_t address, std::string barcode,
             std::optional<std::uint16_t> source = std::nullopt);
  // The first empty storage slot, if any.
  std::optional<std::uint16_t> free_slot() const;
  // Where the cartridge with this barcode is, if in the library.
  std::optional<std::uint16_t> find(const std::string& barcode) const;

  // A drive whose tape is threaded cannot give it up (the drive must be unloaded first).
  void set_drive_holds_tape(std::size_t drive, bool threaded);

  // MOVE MEDIUM's checks and, when they pass, the move itself (the source element remembers
  // nothing; the destination remembers the storage slot a cartridge last came from).
  std::optional<ChangerRefusal> move(std::uint16_t transport, std::uint16_t source,
                                     std::uint16_t destination);

  // READ ELEMENT STATUS data for `type` (all: every type, in SMC's order), from `first`, at most
  // `count` elements, with barcodes (volume_tags) and drive serials (device_ids); cut to
  // `allocation` bytes as a changer cuts it, the header still saying the whole length.
  std::vector<std::uint8_t> element_status(scsi::ElementType type, std::uint16_t first,
                                           std::uint16_t count, bool volume_tags,
                                           bool device_ids, std::uint32_t allocation) const;
  // The mode pages 1Dh and 1Fh, each with its 2-byte page header.
  std::vector<std::uint8_t> address_assignment_page() const;
  std::vector<std::uint8_t> capabilities_page() const;

 private:
  struct Element {
    scsi::ElementType type;
    std::uint16_t address;
    std::optional<std::string> barcode;
    std::optional<std::uint16_t> source;  // the storage slot the cartridge last came from
    bool threaded = false;                // drives: the tape is loaded in the drive
  };
  Element* element(std::uint16_t address);
  const Element* element(std::uint16_t address) const;
  std::vector<std::uint8_t> descriptor(const Element& e, bool volume_tags, bool device_ids) const;

  LibraryShape _shape;
  std::vector<Element> _elements;  // in SMC's order of types, then by address
};

}  // namespace tapestream::emulated
