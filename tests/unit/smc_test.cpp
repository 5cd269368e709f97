// SMC-3: the changer's CDBs byte for byte, READ ELEMENT STATUS data as changers send it (with
// and without volume tags and device identifiers, cut by the allocation length, hostile), the
// two mode pages, and the changer's sense conditions.
#include <gtest/gtest.h>

#include <string>

#include "scsi/smc.hpp"
#include "scsi/smc_cdb.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using tapestream::test::Bytes;
using tapestream::test::cdb_bytes;

namespace {

void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
void put24(Bytes& b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 16);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
  b[at + 2] = static_cast<std::uint8_t>(v);
}

// One element descriptor as SMC-3 lays it out, built field by field.
struct Element {
  std::uint16_t address = 0;
  std::uint8_t flags = 0;  // byte 2
  std::uint8_t asc = 0, ascq = 0;
  std::uint8_t byte6 = 0, byte7 = 0;
  std::optional<std::uint16_t> source;
  std::string tag;     // written when the page has PVolTag
  std::string device;  // written (code set 2, type 0) when the page's descriptors have room
};

struct Page {
  ElementType type;
  bool primary = false;
  bool device_ids = false;
  std::vector<Element> elements;

  std::size_t descriptor_length() const {
    return std::size_t{12} + (primary ? 36U : 0U) + (device_ids ? 36U : 0U);
  }
  Bytes encode() const {
    Bytes page(8, 0);
    page[0] = static_cast<std::uint8_t>(type);
    page[1] = primary ? 0x80 : 0;
    put16(page, 2, static_cast<std::uint16_t>(descriptor_length()));
    put24(page, 5, static_cast<std::uint32_t>(descriptor_length() * elements.size()));
    for (const auto& e : elements) {
      Bytes d(descriptor_length(), 0);
      put16(d, 0, e.address);
      d[2] = e.flags;
      d[4] = e.asc;
      d[5] = e.ascq;
      d[6] = e.byte6;
      d[7] = e.byte7;
      if (e.source) {
        d[9] = 0x80;
        put16(d, 10, *e.source);
      }
      std::size_t at = 12;
      if (primary) {
        std::fill_n(d.begin() + 12, 32, ' ');
        std::copy(e.tag.begin(), e.tag.end(), d.begin() + 12);
        at += 36;
      }
      if (device_ids) {
        d[at] = 2;  // ASCII
        d[at + 3] = static_cast<std::uint8_t>(e.device.size());
        std::copy(e.device.begin(), e.device.end(), d.begin() + static_cast<long>(at) + 4);
      }
      page.insert(page.end(), d.begin(), d.end());
    }
    return page;
  }
};

Bytes report(const std::vector<Page>& pages) {
  Bytes out(8, 0);
  std::size_t count = 0;
  for (const auto& p : pages) {
    const auto bytes = p.encode();
    out.insert(out.end(), bytes.begin(), bytes.end());
    count += p.elements.size();
  }
  put16(out, 0, pages.empty() || pages[0].elements.empty() ? 0 : pages[0].elements[0].address);
  put16(out, 2, static_cast<std::uint16_t>(count));
  put24(out, 5, static_cast<std::uint32_t>(out.size() - 8));
  return out;
}

// A small library: a picker, three slots (one empty), a mail slot an operator filled, and two
// drives that report their serial numbers, one loaded from slot 0x1001.
Bytes small_library() {
  return report({
      Page{ElementType::medium_transport, true, false, {{.address = 1}}},
      Page{ElementType::storage,
           true,
           false,
           {{.address = 0x1000, .flags = 0x09, .tag = "ABC001L9"},
            {.address = 0x1001, .flags = 0x08},
            {.address = 0x1002, .flags = 0x09, .tag = "ABC003L9"}}},
      Page{ElementType::import_export,
           true,
           false,
           {{.address = 0x10, .flags = 0x3B, .tag = "CLN001L1"}}},
      Page{ElementType::data_transfer,
           true,
           true,
           {{.address = 0x100, .flags = 0x09, .byte6 = 0x30, .byte7 = 4, .source = 0x1001,
             .tag = "ABC002L9", .device = "HU1234567A"},
            {.address = 0x101, .flags = 0x0C, .asc = 0x83, .ascq = 0x00,
             .device = "HU7654321B"}}},
  });
}

TEST(SmcCdb, ReadElementStatus) {
  const auto c = cdb::read_element_status(ElementType::data_transfer, 0x100, 2, 0x01'0203, true,
                                          true);
  ASSERT_TRUE(c);
  EXPECT_EQ(cdb_bytes(*c), (Bytes{0xB8, 0x14, 0x01, 0x00, 0x00, 0x02, 0x01, 0x01, 0x02, 0x03,
                                  0x00, 0x00}));
  EXPECT_EQ(c->direction, DataDirection::from_device);
  EXPECT_EQ(c->transfer_length, 0x01'0203U);
  const auto all = cdb::read_element_status(ElementType::all, 0, 0xFFFF, 0xFF'FFFF, false, false);
  EXPECT_EQ(cdb_bytes(*all),
            (Bytes{0xB8, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x00}));
  EXPECT_FALSE(cdb::read_element_status(ElementType::all, 0, 1, 0x100'0000, false, false))
      << "an allocation length beyond 24 bits must be refused, not cut";
}

TEST(SmcCdb, MoveMediumAndPositionToElement) {
  const auto move = cdb::move_medium(0x0001, 0x1002, 0x0100);
  EXPECT_EQ(cdb_bytes(move), (Bytes{0xA5, 0, 0x00, 0x01, 0x10, 0x02, 0x01, 0x00, 0, 0, 0x00, 0}));
  EXPECT_EQ(move.direction, DataDirection::none);
  EXPECT_EQ(move.timeout_class, TimeoutClass::rewind);
  EXPECT_EQ(cdb_bytes(cdb::move_medium(0, 1, 2, true))[10], 0x01);
  EXPECT_EQ(cdb_bytes(cdb::position_to_element(0x0001, 0x1000, true)),
            (Bytes{0x2B, 0, 0x00, 0x01, 0x10, 0x00, 0, 0, 0x01, 0}));
}

TEST(SmcCdb, InitializeElementStatus) {
  const auto whole = cdb::initialize_element_status();
  EXPECT_EQ(cdb_bytes(whole), (Bytes{0x07, 0, 0, 0, 0, 0}));
  EXPECT_EQ(whole.timeout_class, TimeoutClass::position);
  EXPECT_EQ(cdb_bytes(cdb::initialize_element_status_with_range(0x1000, 24, true)),
            (Bytes{0x37, 0x03, 0x10, 0x00, 0, 0, 0x00, 0x18, 0, 0}));
  EXPECT_EQ(cdb_bytes(cdb::initialize_element_status_with_range(0x1000, 24))[1], 0x01);
  EXPECT_EQ(cdb_bytes(cdb::prevent_allow_changer_removal(true)), (Bytes{0x1E, 0, 0, 0, 0x01, 0}));
}

TEST(SmcCdb, NamesOfTheChangersCommands) {
  EXPECT_EQ(opcode_name(Opcode::read_element_status), "READ ELEMENT STATUS");
  EXPECT_EQ(opcode_name(Opcode::move_medium), "MOVE MEDIUM");
  EXPECT_EQ(opcode_name(Opcode::initialize_element_status), "INITIALIZE ELEMENT STATUS");
  EXPECT_EQ(opcode_name(Opcode::initialize_element_status_with_range),
            "INITIALIZE ELEMENT STATUS WITH RANGE");
}

TEST(ElementStatus, ASmallLibraryAsItsChangerReportsIt) {
  const auto parsed = parse_element_status(small_library());
  ASSERT_TRUE(parsed) << parsed.error().message();
  const auto& r = parsed.value();
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(r.elements_available, 7);
  ASSERT_EQ(r.elements.size(), 7U);

  EXPECT_EQ(r.elements[0].type, ElementType::medium_transport);
  EXPECT_FALSE(r.elements[0].full);

  const auto& slot = r.elements[1];
  EXPECT_EQ(slot.type, ElementType::storage);
  EXPECT_EQ(slot.address, 0x1000);
  EXPECT_TRUE(slot.full);
  EXPECT_TRUE(slot.accessible);
  ASSERT_TRUE(slot.primary_tag);
  EXPECT_EQ(slot.primary_tag->identifier, "ABC001L9");
  EXPECT_FALSE(slot.alternate_tag);
  EXPECT_FALSE(r.elements[2].full);
  ASSERT_TRUE(r.elements[2].primary_tag);
  EXPECT_EQ(r.elements[2].primary_tag->identifier, "") << "an empty slot's tag is blank";

  const auto& mail = r.elements[4];
  EXPECT_EQ(mail.type, ElementType::import_export);
  EXPECT_TRUE(mail.full);
  EXPECT_TRUE(mail.placed_by_operator);
  EXPECT_TRUE(mail.import_enabled);
  EXPECT_TRUE(mail.export_enabled);

  const auto& loaded = r.elements[5];
  EXPECT_EQ(loaded.type, ElementType::data_transfer);
  EXPECT_TRUE(loaded.full);
  EXPECT_EQ(loaded.source, std::optional<std::uint16_t>{0x1001});
  EXPECT_EQ(loaded.lun, std::optional<std::uint8_t>{0});
  EXPECT_EQ(loaded.bus_address, std::optional<std::uint8_t>{4});
  ASSERT_TRUE(loaded.device);
  EXPECT_EQ(loaded.device->text(), "HU1234567A");
  EXPECT_EQ(loaded.primary_tag->identifier, "ABC002L9");

  const auto& broken = r.elements[6];
  EXPECT_TRUE(broken.exception);
  EXPECT_EQ(broken.asc, 0x83);
  EXPECT_FALSE(broken.source);
  EXPECT_EQ(broken.device->text(), "HU7654321B");
  // Import/export bits mean nothing on other elements, even when a changer sets them.
  EXPECT_FALSE(broken.placed_by_operator);
}

TEST(ElementStatus, AReportCutByTheAllocationLengthSaysSoAndKeepsOnlyWholeDescriptors) {
  const auto whole = small_library();
  for (std::size_t cut = 8; cut < whole.size(); ++cut) {
    const Bytes part(whole.begin(), whole.begin() + static_cast<long>(cut));
    const auto parsed = parse_element_status(part);
    ASSERT_TRUE(parsed) << "cut at " << cut << ": " << parsed.error().message();
    EXPECT_TRUE(parsed.value().truncated) << "cut at " << cut;
    EXPECT_LT(parsed.value().elements.size(), 7U);
    for (const auto& e : parsed.value().elements) {
      EXPECT_NE(e.address, 0xFFFF);
    }
  }
  // Asking with an 8-byte allocation length tells how much to ask for.
  const auto header = parse_element_status(Bytes(whole.begin(), whole.begin() + 8)).value();
  EXPECT_EQ(header.bytes_available + 8, whole.size());
}

TEST(ElementStatus, HostileReportsAreRefusedOrBounded) {
  EXPECT_FALSE(parse_element_status(Bytes(7, 0)));
  auto zero_length = small_library();
  put16(zero_length, 8 + 2, 0);  // the first page's descriptor length
  EXPECT_FALSE(parse_element_status(zero_length)) << "a zero length would loop forever";
  auto short_for_tags = small_library();
  put16(short_for_tags, 8 + 2, 20);  // PVolTag set, but no room for a tag
  EXPECT_FALSE(parse_element_status(short_for_tags));
  auto bad_type = small_library();
  bad_type[8] = 0x07;
  EXPECT_FALSE(parse_element_status(bad_type));
  auto boastful = small_library();
  put24(boastful, 5, 0xFF'FFFF);  // claims far more than it sent
  const auto parsed = parse_element_status(boastful);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed.value().truncated);
  EXPECT_EQ(parsed.value().elements.size(), 7U);
  // A device identifier whose length runs past its descriptor is left out, not read beyond.
  auto long_id = report({Page{ElementType::data_transfer, false, true,
                              {{.address = 0x100, .device = "X"}}}});
  long_id[8 + 8 + 12 + 3] = 200;
  const auto id = parse_element_status(long_id);
  ASSERT_TRUE(id);
  EXPECT_FALSE(id.value().elements.at(0).device);
}

TEST(ElementStatus, TagsWithBytesOutsideAsciiArePrintable) {
  auto bytes = report({Page{ElementType::storage, true, false, {{.address = 1, .tag = "AB"}}}});
  bytes[8 + 8 + 12 + 2] = 0xFF;
  bytes[8 + 8 + 12 + 3] = 0x00;  // NUL padding after, as some changers send
  const auto parsed = parse_element_status(bytes).value();
  EXPECT_EQ(parsed.elements.at(0).primary_tag->identifier.substr(0, 3), "AB.");
}

TEST(ChangerModePages, ElementAddressAssignment) {
  ModePage page{0x1D, std::nullopt, false, Bytes(20, 0)};
  page.bytes[1] = 0x12;
  put16(page.bytes, 2, 1);       // one picker at 1
  put16(page.bytes, 4, 1);
  put16(page.bytes, 6, 0x1000);  // 24 slots
  put16(page.bytes, 8, 24);
  put16(page.bytes, 10, 0x10);   // 2 mail slots
  put16(page.bytes, 12, 2);
  put16(page.bytes, 14, 0x100);  // 2 drives
  put16(page.bytes, 16, 2);
  const auto a = ElementAddressAssignment::from(page);
  ASSERT_TRUE(a);
  EXPECT_EQ(a.value().storage.first, 0x1000);
  EXPECT_EQ(a.value().storage.count, 24);
  EXPECT_EQ(a.value().type_of(0x1017), ElementType::storage);
  EXPECT_EQ(a.value().type_of(0x1018), std::nullopt);
  EXPECT_EQ(a.value().type_of(0x101), ElementType::data_transfer);
  EXPECT_EQ(a.value().type_of(0x11), ElementType::import_export);
  page.bytes.resize(17);
  EXPECT_FALSE(ElementAddressAssignment::from(page));
  EXPECT_FALSE(ElementAddressAssignment::from(ModePage{0x1F, std::nullopt, false, Bytes(20, 0)}));
}

TEST(ChangerModePages, DeviceCapabilities) {
  ModePage page{0x1F, std::nullopt, false, Bytes(20, 0)};
  page.bytes[2] = 0x0E;  // storage, import/export and drives hold media; the picker does not
  page.bytes[5] = 0x0C;  // from storage: to import/export and to drives
  page.bytes[7] = 0x02;  // from a drive: to storage only
  const auto c = DeviceCapabilities::from(page);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c.value().stores[0]);
  EXPECT_TRUE(c.value().stores[3]);
  EXPECT_TRUE(c.value().can_move(ElementType::storage, ElementType::data_transfer));
  EXPECT_TRUE(c.value().can_move(ElementType::storage, ElementType::import_export));
  EXPECT_FALSE(c.value().can_move(ElementType::storage, ElementType::storage));
  EXPECT_TRUE(c.value().can_move(ElementType::data_transfer, ElementType::storage));
  EXPECT_FALSE(c.value().can_move(ElementType::data_transfer, ElementType::import_export));
  EXPECT_FALSE(c.value().can_move(ElementType::all, ElementType::storage));
}

TEST(ChangerSense, ConditionsOfAMove) {
  auto sense = [](SenseKey key, std::uint8_t asc, std::uint8_t ascq) {
    Sense s;
    s.key = key;
    s.asc = asc;
    s.ascq = ascq;
    return classify_changer_sense(s);
  };
  EXPECT_EQ(sense(SenseKey::illegal_request, 0x3B, 0x0E), ChangerCondition::source_empty);
  EXPECT_EQ(sense(SenseKey::illegal_request, 0x3B, 0x0D), ChangerCondition::destination_full);
  EXPECT_EQ(sense(SenseKey::illegal_request, 0x21, 0x01), ChangerCondition::invalid_element);
  EXPECT_EQ(sense(SenseKey::illegal_request, 0x53, 0x02), ChangerCondition::removal_prevented);
  EXPECT_EQ(sense(SenseKey::illegal_request, 0x24, 0x00), ChangerCondition::illegal_request);
  EXPECT_EQ(sense(SenseKey::not_ready, 0x04, 0x03), ChangerCondition::door_open);
  EXPECT_EQ(sense(SenseKey::not_ready, 0x04, 0x01), ChangerCondition::not_ready);
  EXPECT_EQ(sense(SenseKey::unit_attention, 0x28, 0x01), ChangerCondition::inventory_changed);
  EXPECT_EQ(sense(SenseKey::unit_attention, 0x29, 0x00), ChangerCondition::reset);
  EXPECT_EQ(sense(SenseKey::hardware_error, 0x15, 0x01), ChangerCondition::move_failed);
  EXPECT_EQ(sense(SenseKey::medium_error, 0x53, 0x00), ChangerCondition::move_failed);
  EXPECT_EQ(sense(SenseKey::no_sense, 0, 0), ChangerCondition::good);
  EXPECT_EQ(changer_condition_name(ChangerCondition::source_empty), "source element empty");
}

}  // namespace
