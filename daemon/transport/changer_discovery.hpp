// Finding SCSI medium changers (peripheral type 8) in sysfs, and telling which tape drive sits in
// which of a changer's data transfer elements. A library's drives are matched by the serial
// number the changer reports for each element (READ ELEMENT STATUS with DvcID) and the one each
// drive reports itself (VPD page 80h), never by the order of the SCSI addresses: the kernel
// numbers drives by the order it found them, which says nothing about where they sit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "scsi/smc.hpp"
#include "transport/discovery.hpp"

namespace tapestream::transport {

// One SCSI device of type 8 (medium changer) and the nodes of its drivers.
struct ChangerDevice {
  std::string address;  // H:C:T:L
  std::string vendor;
  std::string model;
  std::string serial;    // VPD page 0x80 as sysfs keeps it; empty when the kernel has none
  std::string ch_node;   // /dev/schN of the kernel's ch driver (/sys/class/scsi_changer/chN)
  std::string bsg_node;  // /dev/bsg/H:C:T:L
  std::string sg_node;   // /dev/sgN, empty without the sg driver
};

// Reads /sys/bus/scsi/devices (or the same tree under `sysfs`), sorted by address. Devices whose
// files cannot be read are listed with what could be read.
std::vector<ChangerDevice> discover_changers(const std::filesystem::path& sysfs = "/sys");

// A changer named by its SCSI address, any of its device nodes, or its serial number.
std::optional<ChangerDevice> find_changer(const std::vector<ChangerDevice>& changers,
                                          const std::string& name);

// What a changer says of one data transfer element: its address and, when it reports one, the
// identifier of the drive in it.
struct DriveElement {
  std::uint16_t address = 0;
  std::optional<scsi::DeviceIdentifier> device;
};

// For each element, in the same order, the index in `tapes` of the drive whose serial number
// its identifier carries (a drive's vendor and serial are all that is compared): the identifier is the serial itself (vendor specific, type 0) or a T10 vendor
// identification (type 1: vendor, product, then the serial; the vendor must agree too). An
// element without an identifier, with one no drive carries, or with one that two drives or two
// elements carry (a serial cannot tell them apart) gets none.
std::vector<std::optional<std::size_t>> match_drives(const std::vector<DriveElement>& elements,
                                                     const std::vector<TapeDevice>& tapes);

// Opens a changer's transport as open_tape_transport opens a drive's (its bsg or sg node; the
// ch driver's /dev/schN takes only the kernel's own changer ioctls).
Result<OpenedTransport, Failure> open_changer_transport(uring::Ring& ring,
                                                        const ChangerDevice& changer,
                                                        TransportChoice choice);

}  // namespace tapestream::transport
