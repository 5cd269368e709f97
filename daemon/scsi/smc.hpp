// What a medium changer (SMC-3) answers: READ ELEMENT STATUS data, the Element Address
// Assignment (1Dh) and Device Capabilities (1Fh) mode pages, and the changer's sense
// conditions. Pure parsing of untrusted bytes: every length is checked against what arrived,
// and a report cut short by the allocation length says so instead of inventing elements.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "scsi/bytes.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/sense.hpp"

namespace tapestream::scsi {

// SMC-3 element type codes (READ ELEMENT STATUS byte 1, element status page byte 0).
enum class ElementType : std::uint8_t {
  all = 0,             // in a CDB only
  medium_transport = 1,  // the robot's picker
  storage = 2,           // a slot
  import_export = 3,     // a mail slot: where an operator puts cartridges in and takes them out
  data_transfer = 4,     // a drive
};
std::string_view element_type_name(ElementType type);

// A volume tag (barcode) field: 32 bytes of identifier, space padded, and a sequence number.
struct VolumeTag {
  std::string identifier;  // trailing spaces and NULs removed; other bytes outside 0x20-0x7E as '?'
  std::uint16_t sequence = 0;
};

// The identification descriptor a changer appends with DvcID=1 (an SPC designation
// descriptor's layout): for a data transfer element, the drive's serial number or its T10
// vendor identification, by which the drive is matched to its device node.
struct DeviceIdentifier {
  std::uint8_t code_set = 0;         // 1 binary, 2 ASCII, 3 UTF-8
  std::uint8_t identifier_type = 0;  // 0 vendor specific (usually the serial), 1 T10 vendor ID
  std::vector<std::uint8_t> identifier;
  // The identifier as text: ASCII and UTF-8 code sets with padding spaces removed; binary as hex.
  std::string text() const;
};

struct ElementStatus {
  ElementType type = ElementType::storage;
  std::uint16_t address = 0;
  bool full = false;
  bool placed_by_operator = false;  // ImpExp, import/export elements: put in by hand
  bool exception = false;           // Except: the element is in an abnormal state (asc/ascq)
  bool accessible = false;          // Access: the transport can reach it
  bool export_enabled = false;      // ExEnab (import/export elements)
  bool import_enabled = false;      // InEnab (import/export elements)
  std::uint8_t asc = 0;             // why, when `exception`
  std::uint8_t ascq = 0;
  std::optional<std::uint16_t> source;  // SValid: the slot the medium came from
  bool inverted = false;
  std::optional<std::uint8_t> lun;          // data transfer elements with LUValid
  std::optional<std::uint8_t> bus_address;  // data transfer elements with IDValid
  std::optional<VolumeTag> primary_tag;     // PVolTag (VolTag asked and the changer reads them)
  std::optional<VolumeTag> alternate_tag;   // AVolTag
  std::optional<DeviceIdentifier> device;   // DvcID asked and the changer gives one
};

struct ElementStatusReport {
  std::uint16_t first_address = 0;
  std::uint16_t elements_available = 0;  // that matched the request
  std::uint32_t bytes_available = 0;     // of the whole report, after its 8-byte header
  std::vector<ElementStatus> elements;   // every descriptor that arrived whole
  // The allocation length cut the report: ask again with at least 8 + bytes_available.
  bool truncated = false;
};

// Parses READ ELEMENT STATUS data. A descriptor length too small for the fixed part, a page
// whose type is not one of the four, or a header shorter than 8 bytes is an error; a report cut
// by the allocation length is not (truncated is set).
Result<ElementStatusReport> parse_element_status(ByteView data);

// Element Address Assignment mode page (1Dh): where each kind of element's addresses start.
struct ElementAddressAssignment {
  static constexpr std::uint8_t code = 0x1D;
  struct Range {
    std::uint16_t first = 0;
    std::uint16_t count = 0;
    bool contains(std::uint16_t address) const {
      return address >= first && address - first < count;
    }
  };
  Range transport, storage, import_export, data_transfer;

  static Result<ElementAddressAssignment> from(const ModePage& page);
  // The type an address belongs to, if any range holds it.
  std::optional<ElementType> type_of(std::uint16_t address) const;
};

// Device Capabilities mode page (1Fh): which element types can hold media and which moves and
// exchanges the changer can make between them.
struct DeviceCapabilities {
  static constexpr std::uint8_t code = 0x1F;
  // Indexed by ElementType - 1 (transport, storage, import/export, data transfer).
  std::array<bool, 4> stores{};
  std::array<std::array<bool, 4>, 4> moves{};      // moves[from][to]
  std::array<std::array<bool, 4>, 4> exchanges{};  // exchanges[from][to]

  static Result<DeviceCapabilities> from(const ModePage& page);
  bool can_move(ElementType from, ElementType to) const;
};

// What a changer's CHECK CONDITION means to the code that drives it.
enum class ChangerCondition : std::uint8_t {
  good,
  source_empty,          // 3B/0E: nothing in the source element
  destination_full,      // 3B/0D: the destination element already holds a medium
  invalid_element,       // 21/01: no element at that address
  removal_prevented,     // 53/02: the drive (or changer) is locked against removal
  magazine_removed,      // 3B/11, 3B/12: a magazine is out or not accessible
  door_open,             // NOT READY with an open door or an operator at work (04/03, 04/83 vendor ...)
  inventory_changed,     // UNIT ATTENTION 28/01 or 3B/13: an operator touched a mail slot or magazine
  not_ready,             // other NOT READY: becoming ready, needs initialising
  reset,                 // UNIT ATTENTION 29/xx: power on or reset
  move_failed,           // HARDWARE ERROR, or 53/00 load or eject failed: the robot could not do it
  illegal_request,       // another ILLEGAL REQUEST (a move the changer cannot make, for one)
  other,
};
std::string_view changer_condition_name(ChangerCondition condition);
ChangerCondition classify_changer_sense(const Sense& sense);

}  // namespace tapestream::scsi
