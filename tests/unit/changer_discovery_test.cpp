// Issue 15, item 3: SCSI changers found in a sysfs tree made for the test (type 8, the ch
// driver's node, sg and bsg), and drives matched to a changer's data transfer elements by the
// serial number each element's identifier carries, not by order.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "transport/changer_discovery.hpp"

namespace tapestream::transport {
namespace {

class ChangerSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    root = std::filesystem::temp_directory_path() /
           ("tapestream-changer-sysfs-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root);
  }
  void TearDown() override { std::filesystem::remove_all(root); }
  void file(const std::string& path, const std::string& text) {
    std::filesystem::create_directories((root / path).parent_path());
    std::ofstream{root / path, std::ios::binary} << text;
  }
  void dir(const std::string& path) { std::filesystem::create_directories(root / path); }
  std::filesystem::path root;
};

TEST_F(ChangerSysfs, FindsChangersWithTheirNodesAndSerialAndSkipsOtherTypes) {
  const std::string changer = "bus/scsi/devices/3:0:0:1/";
  file(changer + "type", "8\n");
  file(changer + "vendor", "IBM     \n");
  file(changer + "model", "3573-TL         \n");
  file(changer + "vpd_pg80", std::string{"\x08\x80\x00\x0C", 4} + "00X4U78B1234");
  dir(changer + "scsi_changer/ch0");
  dir(changer + "scsi_generic/sg7");
  dir("class/bsg/3:0:0:1");
  file("bus/scsi/devices/3:0:0:0/type", "1\n");  // the library's drive: a tape, not a changer
  file("bus/scsi/devices/0:0:0:0/type", "0\n");  // a disk
  file("bus/scsi/devices/4:0:0:0/type", "8");    // a second changer, without sg and ch loaded
  const auto changers = discover_changers(root);
  ASSERT_EQ(changers.size(), 2U);
  const auto& c = changers.front();
  EXPECT_EQ(c.address, "3:0:0:1");
  EXPECT_EQ(c.vendor, "IBM");
  EXPECT_EQ(c.model, "3573-TL");
  EXPECT_EQ(c.serial, "00X4U78B1234");
  EXPECT_EQ(c.ch_node, "/dev/sch0");
  EXPECT_EQ(c.sg_node, "/dev/sg7");
  EXPECT_EQ(c.bsg_node, "/dev/bsg/3:0:0:1");
  EXPECT_TRUE(changers[1].ch_node.empty());
  EXPECT_TRUE(changers[1].sg_node.empty());
  EXPECT_TRUE(changers[1].bsg_node.empty());
  for (const auto* name : {"3:0:0:1", "/dev/sch0", "/dev/sg7", "/dev/bsg/3:0:0:1", "00X4U78B1234"}) {
    EXPECT_EQ(find_changer(changers, name).value().address, "3:0:0:1") << name;
  }
  EXPECT_EQ(find_changer(changers, "4:0:0:0").value().address, "4:0:0:0");
  EXPECT_FALSE(find_changer(changers, "").has_value());  // the second one's empty nodes name nothing
  EXPECT_FALSE(find_changer(changers, "/dev/sch1").has_value());
}

TEST_F(ChangerSysfs, ToleratesMissingOversizedAndHostileFiles) {
  file("bus/scsi/devices/5:0:0:0/type", "8");
  file("bus/scsi/devices/5:0:0:0/vpd_pg80", std::string{"\x08\x80\x00\xFF\x01", 5});
  file("bus/scsi/devices/5:0:0:0/vendor", std::string(1 << 20, 'A'));
  dir("bus/scsi/devices/5:0:0:0/scsi_changer/chX");     // not a ch node's name
  dir("bus/scsi/devices/5:0:0:0/scsi_generic/sg");      // nor an sg node's
  const auto changers = discover_changers(root);
  ASSERT_EQ(changers.size(), 1U);
  EXPECT_TRUE(changers.front().serial.empty());
  EXPECT_LE(changers.front().vendor.size(), 4096U);
  EXPECT_TRUE(changers.front().ch_node.empty());
  EXPECT_TRUE(changers.front().sg_node.empty());
  EXPECT_TRUE(discover_changers(root / "nothing-here").empty());
}

scsi::DeviceIdentifier ascii(std::uint8_t type, const std::string& text) {
  scsi::DeviceIdentifier id;
  id.code_set = 2;
  id.identifier_type = type;
  id.identifier.assign(text.begin(), text.end());
  return id;
}

TapeDevice tape(const std::string& address, const std::string& vendor, const std::string& serial) {
  TapeDevice t;
  t.address = address;
  t.vendor = vendor;
  t.serial = serial;
  t.st_node = "/dev/nst" + address.substr(4, 1);
  return t;
}

TEST(MatchDrives, BySerialNumberNotByOrder) {
  // The kernel found the drives in the opposite order of the elements they sit in.
  const std::vector<TapeDevice> tapes{tape("3:0:1:0", "IBM", "1013000222"),
                                      tape("3:0:2:0", "IBM", "1013000111")};
  const std::vector<DriveElement> elements{
      {0x100, ascii(0, "1013000111")},
      {0x101, ascii(1, "IBM     ULT3580-TD8     1013000222")},  // T10 vendor identification
  };
  const auto matched = match_drives(elements, tapes);
  ASSERT_EQ(matched.size(), 2U);
  ASSERT_TRUE(matched[0].has_value());
  ASSERT_TRUE(matched[1].has_value());
  EXPECT_EQ(tapes[*matched[0]].address, "3:0:2:0");
  EXPECT_EQ(tapes[*matched[1]].address, "3:0:1:0");
}

TEST(MatchDrives, LeavesWhatASerialCannotTellUnmatched) {
  const std::vector<TapeDevice> tapes{tape("3:0:1:0", "HP", "HU1234"),
                                      tape("3:0:2:0", "HP", "SAME01"),
                                      tape("3:0:3:0", "HP", "SAME01"),
                                      tape("3:0:4:0", "HP", "")};
  scsi::DeviceIdentifier binary = ascii(0, "HU1234");
  binary.code_set = 1;  // an NAA name in binary is no serial number
  const std::vector<DriveElement> elements{
      {0x100, std::nullopt},                                  // the changer reports no identifier
      {0x101, ascii(0, "NOSUCH")},                            // a drive this host does not see
      {0x102, ascii(0, "SAME01")},                            // two drives carry it
      {0x103, binary},
      {0x104, ascii(1, "IBM     ULT3580-TD8     HU1234")},   // the vendor disagrees
      {0x105, ascii(1, "HP      short")},                    // too short to hold a serial
      {0x106, ascii(0, "   ")},                              // blank
  };
  const auto matched = match_drives(elements, tapes);
  ASSERT_EQ(matched.size(), elements.size());
  for (std::size_t i = 0; i < matched.size(); ++i) {
    EXPECT_FALSE(matched[i].has_value()) << "element " << i;
  }
  // Two elements that claim the same drive: neither gets it.
  const auto twice = match_drives({{0x100, ascii(0, "HU1234")}, {0x101, ascii(0, "HU1234 ")}}, tapes);
  EXPECT_FALSE(twice[0].has_value());
  EXPECT_FALSE(twice[1].has_value());
  // And one that claims it alone does.
  const auto once = match_drives({{0x100, ascii(0, "HU1234  ")}}, tapes);
  ASSERT_TRUE(once[0].has_value());
  EXPECT_EQ(tapes[*once[0]].address, "3:0:1:0");
}

}  // namespace
}  // namespace tapestream::transport
