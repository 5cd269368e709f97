// The fixture of the conformance tests: a fresh tape per test and short names for commands.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "harness.hpp"
#include "scsi/cdb.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/position.hpp"
#include "target.hpp"

namespace tapestream::test {

class Conformance : public ::testing::Test {
 protected:
  void SetUp() override {
    open("");
    if (real_target()) {
      start_from_blank_tape();
    }
  }

  // A real tape keeps what the last test left: load, back to variable-block mode, and an
  // erase at the beginning makes it blank (ERASE writes end of data where it starts).
  void start_from_blank_tape() {
    h().run(scsi::cdb::load_unload(scsi::cdb::LoadAction::load, false));  // a test unloaded it
    for (int attempt = 0; attempt < 3; ++attempt) {  // collects pending unit attentions
      if (h().run(scsi::cdb::test_unit_ready()).classification.condition ==
          scsi::TapeCondition::good) {
        break;
      }
    }
    ASSERT_EQ(rewind().classification.condition, scsi::TapeCondition::good);
    const auto variable =
        scsi::mode_select6_parameters(scsi::BlockDescriptor{0, 0, 0}, {}).value();
    ASSERT_EQ(h().run(scsi::cdb::mode_select6(static_cast<std::uint8_t>(variable.size())),
                      variable)
                  .classification.condition,
              scsi::TapeCondition::good);
    ASSERT_EQ(h().run(scsi::cdb::erase6(false, false)).classification.condition,
              scsi::TapeCondition::good);
  }

  void open(const std::string& options) {
    _options = options;
    _harness.emplace(conformance_target(image(), options));
  }
  void reopen() { _harness->reopen(conformance_target(image(), _options)); }
  std::filesystem::path image() const { return _scratch.path() / "tape.tap"; }
  Harness& h() { return *_harness; }

  static scsi::Count24 count(std::uint64_t n) { return scsi::Count24::from(n).value(); }

  Exchange write(const std::vector<std::uint8_t>& block) {
    return h().run(scsi::cdb::write6_variable(count(block.size())), block);
  }
  Exchange read(std::size_t length, bool sili = true) {
    return h().run(scsi::cdb::read6_variable(count(length), sili), {}, length);
  }
  Exchange filemarks(std::uint32_t n, bool immediate = false) {
    return h().run(scsi::cdb::write_filemarks6(count(n), immediate));
  }
  Exchange space(scsi::cdb::SpaceCode code, std::int32_t n) {
    return h().run(scsi::cdb::space6(code, scsi::SignedCount24::from(n).value()));
  }
  Exchange rewind() { return h().run(scsi::cdb::rewind(false)); }
  // scsi_debug answers READ POSITION only in the short form (service action 0): block
  // numbers without file numbers, and it never sets BOP or EOP.
  scsi::Position position() {
    const auto form = target_is_scsi_debug() ? scsi::cdb::ReadPositionForm::short_block_id
                                             : scsi::cdb::ReadPositionForm::long_form;
    const auto e = h().query(scsi::cdb::read_position(form));
    EXPECT_EQ(e.classification.condition, scsi::TapeCondition::good);
    return scsi::parse_read_position(form, e.data).value();
  }
  void expect_file(std::uint64_t file) {
    if (!target_is_scsi_debug()) {
      EXPECT_EQ(position().logical_file, file);
    }
  }
  void expect_at_beginning() {
    if (target_is_scsi_debug()) {
      EXPECT_EQ(position().first_logical_object, 0U);
    } else {
      EXPECT_TRUE(position().beginning_of_partition);
    }
  }
  // Writes `blocks` pattern blocks of `length` bytes for stream `stream`.
  void write_stream(std::uint32_t stream, std::uint32_t blocks, std::size_t length) {
    for (std::uint32_t i = 0; i < blocks; ++i) {
      const auto e = write(pattern_block(stream, i, length));
      ASSERT_EQ(e.classification.condition, scsi::TapeCondition::good) << "block " << i;
    }
  }

 private:
  ScratchDirectory _scratch;
  std::string _options;
  std::optional<Harness> _harness;
};

// Tests of the emulated drive's own behaviour (fault injection, image files): they take drive
// options, so they run only against the emulated drive.
class EmulatedFaults : public Conformance {};
class EmulatedImage : public Conformance {};

// What reading back `written` returns: the same bytes, except on the null drive, which keeps
// only each block's length and returns zeros.
inline std::vector<std::uint8_t> as_recorded(std::vector<std::uint8_t> written) {
  if (target_is_null()) {
    std::fill(written.begin(), written.end(), std::uint8_t{0});
  }
  return written;
}

// Data read back: byte for byte, except on scsi_debug's tape, which stores only the first
// 4 bytes of each block and returns zeros for the rest, and on the null drive, which keeps no
// data at all (the length must still be the block's).
inline void expect_data(const std::vector<std::uint8_t>& actual,
                        const std::vector<std::uint8_t>& expected) {
  if (target_is_null()) {
    EXPECT_EQ(actual, as_recorded(expected)) << "the null drive returns zeros of the block's length";
    return;
  }
  if (!target_is_scsi_debug()) {
    EXPECT_EQ(actual, expected);
    return;
  }
  ASSERT_EQ(actual.size(), expected.size());
  const auto kept = static_cast<std::ptrdiff_t>(std::min<std::size_t>(4, expected.size()));
  EXPECT_TRUE(std::equal(expected.begin(), expected.begin() + kept, actual.begin()))
      << "the first 4 bytes differ";
  EXPECT_TRUE(std::all_of(actual.begin() + kept, actual.end(), [](auto b) { return b == 0; }))
      << "scsi_debug returned bytes beyond the 4 it keeps";
}

// The sense fields tests compare, with readable failure messages.
inline void expect_sense(const Exchange& e, scsi::SenseKey key, std::uint16_t asc_ascq,
                         std::optional<std::int64_t> information) {
  ASSERT_TRUE(e.sense().has_value()) << "no sense; status " << int{e.result.scsi_status};
  EXPECT_EQ(e.sense()->key, key);
  EXPECT_EQ(e.sense()->asc_ascq(), asc_ascq);
  EXPECT_EQ(e.sense()->information, information);
}

}  // namespace tapestream::test
