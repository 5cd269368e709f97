// The emulated library's state and answers (emulated/library_model.hpp), read back through the
// daemon's own SMC parsers (scsi/smc.hpp): what the emulator says is what a changer client
// will understand, and every refusal carries the sense a real changer gives.
#include "emulated/library_model.hpp"

#include <gtest/gtest.h>

namespace tapestream::emulated {
namespace {

using scsi::ElementType;

LibraryModel three_slots_two_drives() {
  LibraryModel library{{3, 1, {"HU1111", "HU2222"}}};
  EXPECT_TRUE(library.place(LibraryShape::first_slot, "VOL001L9"));
  EXPECT_TRUE(library.place(LibraryShape::first_slot + 2, "VOL003L9"));
  return library;
}

scsi::ElementStatusReport status(const LibraryModel& library, ElementType type = ElementType::all,
                                 std::uint32_t allocation = 0xFFFF) {
  const auto bytes = library.element_status(type, 0, 0xFFFF, true, true, allocation);
  auto parsed = scsi::parse_element_status(bytes);
  EXPECT_TRUE(parsed) << "the daemon's parser takes the emulator's report";
  return parsed ? parsed.value() : scsi::ElementStatusReport{};
}

TEST(LibraryModel, ReportsEveryElementInSmcOrder) {
  const auto library = three_slots_two_drives();
  const auto report = status(library);
  ASSERT_EQ(report.elements.size(), 1U + 3U + 1U + 2U);
  EXPECT_FALSE(report.truncated);
  EXPECT_EQ(report.elements_available, 7U);
  EXPECT_EQ(report.elements[0].type, ElementType::medium_transport);
  EXPECT_EQ(report.elements[1].type, ElementType::storage);
  EXPECT_TRUE(report.elements[1].full);
  ASSERT_TRUE(report.elements[1].primary_tag);
  EXPECT_EQ(report.elements[1].primary_tag->identifier, "VOL001L9");
  EXPECT_FALSE(report.elements[2].full);
  EXPECT_EQ(report.elements[2].primary_tag->identifier, "");
  EXPECT_EQ(report.elements[4].type, ElementType::import_export);
  EXPECT_TRUE(report.elements[4].import_enabled && report.elements[4].export_enabled);
  const auto& drive = report.elements[6];
  EXPECT_EQ(drive.type, ElementType::data_transfer);
  EXPECT_EQ(drive.address, LibraryShape::first_drive + 1);
  ASSERT_TRUE(drive.device);
  EXPECT_EQ(drive.device->text(), "HU2222") << "drives are matched by serial, not by order";
}

TEST(LibraryModel, AMoveRemembersItsSourceSlot) {
  auto library = three_slots_two_drives();
  const std::uint16_t drive = LibraryShape::first_drive;
  EXPECT_FALSE(library.move(0, LibraryShape::first_slot + 2, drive));
  EXPECT_EQ(library.barcode_at(drive), "VOL003L9");
  EXPECT_FALSE(library.barcode_at(LibraryShape::first_slot + 2));
  const auto report = status(library, ElementType::data_transfer);
  ASSERT_EQ(report.elements.size(), 2U);
  EXPECT_TRUE(report.elements[0].full);
  EXPECT_EQ(report.elements[0].source, LibraryShape::first_slot + 2);
  EXPECT_EQ(library.find("VOL003L9"), drive);
  EXPECT_EQ(library.free_slot(), LibraryShape::first_slot + 1);
}

TEST(LibraryModel, RefusesMovesAsAChangerDoes) {
  auto library = three_slots_two_drives();
  const std::uint16_t slot1 = LibraryShape::first_slot;
  const std::uint16_t drive = LibraryShape::first_drive;
  auto refused = library.move(0, slot1 + 1, drive);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->asc, 0x3B);
  EXPECT_EQ(refused->ascq, 0x0E) << "source empty";
  refused = library.move(0, slot1, slot1 + 2);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->ascq, 0x0D) << "destination full";
  refused = library.move(0, slot1, 0x7777);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->asc, 0x21) << "no such element";
  refused = library.move(0x0002, slot1, drive);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->asc, 0x21) << "no such transport";
  refused = library.move(0, slot1, LibraryShape::transport_address);
  ASSERT_TRUE(refused) << "the robot is no destination";

  EXPECT_FALSE(library.move(0, slot1, drive));
  library.set_drive_holds_tape(0, true);
  refused = library.move(0, drive, slot1);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->asc, 0x53);
  EXPECT_EQ(refused->ascq, 0x02) << "a threaded tape is not given up";
  library.set_drive_holds_tape(0, false);
  EXPECT_FALSE(library.move(0, drive, slot1));
  EXPECT_EQ(library.barcode_at(slot1), "VOL001L9");
  EXPECT_FALSE(library.move(0, slot1, slot1)) << "a move to where it is does nothing";
}

TEST(LibraryModel, AReportCutByTheAllocationSaysSo) {
  const auto library = three_slots_two_drives();
  const auto whole = library.element_status(ElementType::all, 0, 0xFFFF, true, true, 0xFFFF);
  const auto cut = status(library, ElementType::all, 100);
  EXPECT_TRUE(cut.truncated);
  EXPECT_EQ(cut.bytes_available + 8U, whole.size()) << "the header still gives the whole length";
  EXPECT_LT(cut.elements.size(), 7U);
}

TEST(LibraryModel, FirstAddressAndCountSelect) {
  const auto library = three_slots_two_drives();
  const auto bytes = library.element_status(ElementType::storage, LibraryShape::first_slot + 1, 1,
                                            false, false, 0xFFFF);
  const auto report = scsi::parse_element_status(bytes).value();
  ASSERT_EQ(report.elements.size(), 1U);
  EXPECT_EQ(report.elements[0].address, LibraryShape::first_slot + 1);
  EXPECT_FALSE(report.elements[0].primary_tag) << "no barcodes unless asked";
}

TEST(LibraryModel, ModePagesDescribeTheShape) {
  const auto library = three_slots_two_drives();
  const auto a = scsi::ElementAddressAssignment::from(
      {scsi::ElementAddressAssignment::code, std::nullopt, false, library.address_assignment_page()});
  ASSERT_TRUE(a);
  EXPECT_EQ(a.value().storage.count, 3U);
  EXPECT_EQ(a.value().data_transfer.count, 2U);
  EXPECT_EQ(a.value().type_of(LibraryShape::first_mail_slot), ElementType::import_export);
  const auto c = scsi::DeviceCapabilities::from(
      {scsi::DeviceCapabilities::code, std::nullopt, false, library.capabilities_page()});
  ASSERT_TRUE(c);
  EXPECT_TRUE(c.value().can_move(ElementType::storage, ElementType::data_transfer));
  EXPECT_TRUE(c.value().can_move(ElementType::data_transfer, ElementType::import_export));
  EXPECT_FALSE(c.value().can_move(ElementType::storage, ElementType::medium_transport));
}

TEST(LibraryModel, ShapesOutsideTheAddressRangesAreRefused) {
  EXPECT_THROW((LibraryModel{{0, 0, {"A"}}}), std::invalid_argument);
  EXPECT_THROW((LibraryModel{{4, 0, {}}}), std::invalid_argument);
  EXPECT_THROW((LibraryModel{{4, LibraryShape::max_mail_slots + 1, {"A"}}}), std::invalid_argument);
  auto library = LibraryModel{{1, 0, {"A"}}};
  EXPECT_FALSE(library.place(LibraryShape::transport_address, "X"));
  EXPECT_TRUE(library.place(LibraryShape::first_slot, "X"));
  EXPECT_FALSE(library.place(LibraryShape::first_slot, "Y")) << "full";
}

}  // namespace
}  // namespace tapestream::emulated
