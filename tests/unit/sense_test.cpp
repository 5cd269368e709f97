// Sense normalisation: the same facts from fixed and descriptor format, deferred errors,
// sense-key specific data, and buffers cut short.
#include <gtest/gtest.h>

#include "scsi/parse_error.hpp"
#include "scsi/sense.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using tapestream::test::Bytes;
using tapestream::test::descriptor_sense;
using tapestream::test::fixed_sense;
using tapestream::test::SenseSpec;

namespace {

class BothFormats : public ::testing::TestWithParam<bool> {
 protected:
  Bytes encode(const SenseSpec& s) const { return GetParam() ? descriptor_sense(s) : fixed_sense(s); }
};

TEST_P(BothFormats, FilemarkWithResidue) {
  const auto s = normalise_sense(encode({.key = 0, .asc = 0, .ascq = 1, .filemark = true,
                                         .information = 262144}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s.value().descriptor_format, GetParam());
  EXPECT_EQ(s.value().key, SenseKey::no_sense);
  EXPECT_EQ(s.value().asc_ascq(), 0x0001);
  EXPECT_TRUE(s.value().filemark);
  EXPECT_FALSE(s.value().end_of_medium);
  EXPECT_FALSE(s.value().incorrect_length);
  EXPECT_EQ(s.value().information, 262144);
  EXPECT_FALSE(s.value().deferred);
}

TEST_P(BothFormats, NegativeResidueOfALongBlock) {
  const auto s = normalise_sense(encode({.key = 0, .ili = true, .information = -4096}));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s.value().incorrect_length);
  EXPECT_EQ(s.value().information, -4096);
}

TEST_P(BothFormats, DeferredMediumError) {
  const auto s = normalise_sense(encode({.key = 3, .asc = 0x0C, .ascq = 0x00, .deferred = true}));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s.value().deferred);
  EXPECT_EQ(s.value().key, SenseKey::medium_error);
  EXPECT_EQ(s.value().asc, 0x0C);
  EXPECT_FALSE(s.value().information.has_value());
}

TEST_P(BothFormats, EarlyWarningOnWrite) {
  const auto s = normalise_sense(encode({.key = 0, .asc = 0, .ascq = 2, .eom = true}));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s.value().end_of_medium);
  EXPECT_EQ(s.value().asc_ascq(), 0x0002);
}

INSTANTIATE_TEST_SUITE_P(Sense, BothFormats, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "descriptor" : "fixed"; });

TEST(Sense, FixedFormatIgnoresInformationWithoutValidBit) {
  auto b = fixed_sense({.key = 0x0D, .asc = 0, .ascq = 2, .eom = true});
  b[3] = 0x12;  // garbage in INFORMATION, VALID=0
  const auto s = normalise_sense(b);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s.value().information.has_value());
  EXPECT_EQ(s.value().key, SenseKey::volume_overflow);
}

TEST(Sense, FixedFormatCommandSpecificAndFieldPointer) {
  // ILLEGAL REQUEST, INVALID FIELD IN CDB, SKSV with C/D=1, BPV=1 bit 7, byte 1.
  const Bytes b{0x70, 0, 0x05, 0, 0, 0, 0, 0x0A, 0x00, 0x00, 0x01, 0x00,
                0x24, 0x00, 0x00, 0xCF, 0x00, 0x01};
  const auto s = normalise_sense(b);
  ASSERT_TRUE(s);
  EXPECT_EQ(s.value().command_specific, 0x100U);
  ASSERT_TRUE(s.value().key_specific.has_value());
  const auto p = s.value().key_specific->field_pointer();
  EXPECT_TRUE(p.in_cdb);
  EXPECT_EQ(p.bit, 7);
  EXPECT_EQ(p.byte, 1);
}

TEST(Sense, FixedFormatWithoutSksvHasNoKeySpecific) {
  Bytes b = fixed_sense({.key = 5, .asc = 0x24});
  b[15] = 0x4F;  // SKSV clear
  const auto s = normalise_sense(b);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s.value().key_specific.has_value());
}

TEST(Sense, DescriptorFormatProgressAndFru) {
  const Bytes b{0x72, 0x02, 0x04, 0x01, 0, 0, 0, 12,
                0x02, 0x06, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00,  // SKS: progress 0x4000
                0x03, 0x02, 0x00, 0x07};                          // FRU 7
  const auto s = normalise_sense(b);
  ASSERT_TRUE(s);
  EXPECT_EQ(s.value().key, SenseKey::not_ready);
  ASSERT_TRUE(s.value().key_specific.has_value());
  EXPECT_EQ(s.value().key_specific->progress(), 0x4000);
  EXPECT_EQ(s.value().field_replaceable_unit, 7);
}

TEST(Sense, DescriptorFormatSkipsUnknownDescriptors) {
  const Bytes b{0x72, 0x00, 0x00, 0x01, 0, 0, 0, 10,
                0x80, 0x04, 1, 2, 3, 4,   // vendor specific
                0x04, 0x02, 0x00, 0x80};  // stream: FILEMARK
  const auto s = normalise_sense(b);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s.value().filemark);
}

TEST(Sense, AdditionalLengthLimitsWhatIsRead) {
  // The device says 0 additional bytes: ASC/ASCQ beyond byte 7 are not its data.
  Bytes b = fixed_sense({.key = 3, .asc = 0x11, .ascq = 0x00});
  b[7] = 0;
  const auto s = normalise_sense(b);
  ASSERT_TRUE(s);
  EXPECT_EQ(s.value().key, SenseKey::medium_error);
  EXPECT_EQ(s.value().asc, 0);
}

TEST(Sense, TruncatedFixedKeepsWhatArrived) {
  const Bytes full = fixed_sense({.key = 0, .asc = 0, .ascq = 1, .filemark = true, .information = 5});
  const auto s = normalise_sense(tapestream::scsi::ByteView{full}.first(7));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s.value().filemark);
  EXPECT_EQ(s.value().information, 5);
  EXPECT_EQ(s.value().asc, 0);  // not in the 7 bytes
  EXPECT_FALSE(normalise_sense(tapestream::scsi::ByteView{full}.first(2)));
}

TEST(Sense, TruncatedDescriptorKeepsCompleteDescriptorsOnly) {
  const Bytes full = descriptor_sense({.key = 0, .ili = true, .information = 100});
  // Cut inside the information descriptor: its value is not taken.
  const auto s = normalise_sense(tapestream::scsi::ByteView{full}.first(14));
  ASSERT_TRUE(s);
  EXPECT_FALSE(s.value().information.has_value());
  EXPECT_FALSE(normalise_sense(tapestream::scsi::ByteView{full}.first(3)));
}

TEST(Sense, RejectsEmptyAndUnknownResponseCodes) {
  EXPECT_EQ(normalise_sense({}).error(), ParseError::truncated);
  const Bytes vendor{0x7F, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(normalise_sense(vendor).error(), ParseError::unsupported_format);
  const Bytes old_style{0x00, 0x01, 0x02};
  EXPECT_EQ(normalise_sense(old_style).error(), ParseError::unsupported_format);
}

TEST(Sense, KeyNames) {
  EXPECT_EQ(sense_key_name(SenseKey::blank_check), "BLANK CHECK");
  EXPECT_EQ(sense_key_name(SenseKey::volume_overflow), "VOLUME OVERFLOW");
}

}  // namespace
