// Emulated drive specifications: sizes, faults, and clear errors for everything else.
#include <gtest/gtest.h>

#include "base/startup_error.hpp"
#include "emulated/drive_spec.hpp"

using tapestream::StartupError;
using tapestream::emulated::parse_drive_spec;

namespace {

std::string error_of(const std::string& spec) {
  try {
    parse_drive_spec(spec);
  } catch (const StartupError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DriveSpec, PathAndDefaults) {
  const auto d = parse_drive_spec("emulated:/var/lib/tapestream/emu0.tap");
  EXPECT_EQ(d.image, "/var/lib/tapestream/emu0.tap");
  EXPECT_EQ(d.capacity, std::uint64_t{16} << 30);
  EXPECT_EQ(d.early_warning_offset(), (std::uint64_t{16} << 30) - (std::uint64_t{256} << 20));
  EXPECT_EQ(d.max_block_length, 8U << 20);
  EXPECT_FALSE(d.write_protected);
}

TEST(DriveSpec, TheIssueExample) {
  const auto d = parse_drive_spec(
      "emulated:/path/img.tap?capacity=1G&ew=900M&medium_error_write=1234&hang=rewind");
  EXPECT_EQ(d.capacity, std::uint64_t{1} << 30);
  EXPECT_EQ(d.early_warning_offset(), std::uint64_t{900} << 20);
  EXPECT_EQ(d.medium_error_write, 1234U);
  EXPECT_EQ(d.hang, tapestream::scsi::Opcode::rewind);
}

// Issue 11: wedge= blocks the worker's thread itself (the watchdog's test); it names a
// command as hang= does, and goes with it.
TEST(DriveSpec, Wedge) {
  const auto d = parse_drive_spec("null:?wedge=write&hang=locate");
  EXPECT_EQ(d.wedge, tapestream::scsi::Opcode::write6);
  EXPECT_EQ(d.hang, tapestream::scsi::Opcode::locate16);
  EXPECT_FALSE(parse_drive_spec("null:").wedge.has_value());
}

TEST(DriveSpec, EveryFault) {
  const auto d = parse_drive_spec(
      "emulated:x.tap?write_protect=1&medium_error_read=7&short_read=2&unit_attention=5"
      "&max_block=1M&serial=ABC");
  EXPECT_TRUE(d.write_protected);
  EXPECT_EQ(d.medium_error_read, 7U);
  EXPECT_EQ(d.short_read, 2U);
  EXPECT_EQ(d.unit_attention_after, 5U);
  EXPECT_EQ(d.max_block_length, 1U << 20);
  EXPECT_EQ(d.serial, "ABC");
}

TEST(DriveSpec, WhatOpeningTheImageMayDo) {
  const auto d = parse_drive_spec("emulated:x.tap");
  EXPECT_EQ(d.damaged, tapestream::emulated::DamagePolicy::refuse);
  EXPECT_FALSE(d.follow_symlinks);
  EXPECT_EQ(parse_drive_spec("emulated:x.tap?damaged=readonly").damaged,
            tapestream::emulated::DamagePolicy::readonly);
  EXPECT_EQ(parse_drive_spec("emulated:x.tap?damaged=cut").damaged,
            tapestream::emulated::DamagePolicy::cut);
  EXPECT_TRUE(parse_drive_spec("emulated:x.tap?follow_symlinks=1").follow_symlinks);
  EXPECT_NE(error_of("emulated:x?damaged=fix").find("damaged=fix: must be refuse, readonly or cut"),
            std::string::npos);
  EXPECT_NE(error_of("emulated:x?damaged=cut&write_protect=1").find("cannot go with write_protect"),
            std::string::npos);
}

TEST(DriveSpec, ImageLayout) {
  using tapestream::emulated::ImageLayout;
  EXPECT_EQ(parse_drive_spec("emulated:x.tap").layout, ImageLayout::aligned);
  EXPECT_EQ(parse_drive_spec("emulated:x.tap?layout=packed").layout, ImageLayout::packed);
  EXPECT_EQ(parse_drive_spec("emulated:x.tap?layout=aligned").layout, ImageLayout::aligned);
  EXPECT_NE(error_of("emulated:x?layout=tight").find("layout=tight: must be aligned"),
            std::string::npos);
  EXPECT_NE(error_of("null:?layout=packed").find("layout is about an image file"),
            std::string::npos);
}

TEST(DriveSpec, LogicalBlockProtectionOptions) {
  const auto plain = parse_drive_spec("emulated:x");
  EXPECT_TRUE(plain.logical_block_protection);
  EXPECT_FALSE(plain.corrupt_write);
  EXPECT_FALSE(plain.corrupt_read);
  const auto d = parse_drive_spec("emulated:x?lbp=0&corrupt_write=1M&corrupt_read=0");
  EXPECT_FALSE(d.logical_block_protection);
  EXPECT_EQ(d.corrupt_write, std::uint64_t{1} << 20);
  EXPECT_EQ(d.corrupt_read, 0U);
  EXPECT_NE(error_of("emulated:x?corrupt_read=soon").find("corrupt_read=soon is not a number"),
            std::string::npos);
}

TEST(DriveSpec, ClearErrors) {
  EXPECT_NE(error_of("tape:/x").find("must start with \"emulated:\""), std::string::npos);
  EXPECT_NE(error_of("emulated:").find("no image path"), std::string::npos);
  EXPECT_NE(error_of("emulated:x?capacity=lots").find("capacity=lots is not a number"),
            std::string::npos);
  EXPECT_NE(error_of("emulated:x?capacity=1Q").find("unit must be K, M, G or T"), std::string::npos);
  EXPECT_NE(error_of("emulated:x?colour=blue").find("unknown option \"colour\""), std::string::npos);
  EXPECT_NE(error_of("emulated:x?hang=dance").find("hang=dance: not a command"), std::string::npos);
  EXPECT_NE(error_of("emulated:x?wedge=stuck").find("wedge=stuck: not a command"), std::string::npos);
  EXPECT_NE(error_of("emulated:x?capacity").find("needs a value"), std::string::npos);
  EXPECT_NE(error_of("emulated:x?capacity=1K").find("at least 1M"), std::string::npos);
  EXPECT_NE(error_of("emulated:x?capacity=1G&ew=2G").find("ew lies beyond capacity"),
            std::string::npos);
  EXPECT_NE(error_of("emulated:x?capacity=99999999999T").find("too large"), std::string::npos);
  EXPECT_NE(error_of("emulated:x?max_block=16M").find("max_block must be"), std::string::npos);
}

// A sequential autoloader's cartridges are names in the first image's directory, never paths.
TEST(DriveSpec, Magazine) {
  const auto d = parse_drive_spec("emulated:/srv/VOL1.tap?magazine=VOL1.tap,VOL2.tap&load_time=2s");
  EXPECT_EQ(d.magazine, (std::vector<std::string>{"VOL1.tap", "VOL2.tap"}));
  EXPECT_EQ(d.load_time, std::chrono::seconds{2});
  EXPECT_TRUE(parse_drive_spec("emulated:/srv/VOL1.tap").magazine.empty());
  for (const auto* bad : {"emulated:x?magazine=../y.tap", "emulated:x?magazine=/etc/passwd",
                          "emulated:x?magazine=a.tap,,b.tap", "emulated:x?magazine=..",
                          "emulated:x?magazine="}) {
    EXPECT_NE(error_of(bad).find("magazine= takes image file names"), std::string::npos) << bad;
  }
  std::string many = "emulated:x?magazine=a";
  for (int i = 0; i < 64; ++i) {
    many += ",a";
  }
  EXPECT_NE(error_of(many).find("at most 64"), std::string::npos);
  EXPECT_NE(error_of("emulated:x?magazine=a&medium_serial=M1").find("the same serial"),
            std::string::npos);
  EXPECT_NE(error_of("null:?magazine=a").find("no image files"), std::string::npos);
  EXPECT_NE(error_of("emulated:x?magazine=a&buffer=1G").find("drive model"), std::string::npos);
}

}  // namespace

// Issue 12, item 5: tape_alert=FLAG@BYTES, and a clear error for anything else.
TEST(DriveSpec, TapeAlertFault) {
  const auto d = parse_drive_spec("emulated:/tmp/x.tap?tape_alert=31@1M");
  ASSERT_TRUE(d.tape_alert.has_value());
  EXPECT_EQ(d.tape_alert->flag, 31U);
  EXPECT_EQ(d.tape_alert->after_bytes, 1U << 20);
  for (const char* bad : {"31", "0@1M", "65@1M", "x@1M", "31@", "31@1Q"}) {
    EXPECT_NE(error_of(std::string{"emulated:/tmp/x.tap?tape_alert="} + bad).find("tape_alert"),
              std::string::npos)
        << bad;
  }
}
