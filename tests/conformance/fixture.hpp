// The fixture of the conformance tests: a fresh tape per test and short names for commands.
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "harness.hpp"
#include "scsi/cdb.hpp"
#include "scsi/position.hpp"
#include "target.hpp"

namespace tapestream::test {

class Conformance : public ::testing::Test {
 protected:
  void SetUp() override { open(""); }

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
  scsi::Position position() {
    const auto e = h().query(scsi::cdb::read_position(scsi::cdb::ReadPositionForm::long_form));
    EXPECT_EQ(e.classification.condition, scsi::TapeCondition::good);
    return scsi::parse_read_position(scsi::cdb::ReadPositionForm::long_form, e.data).value();
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

// The sense fields tests compare, with readable failure messages.
inline void expect_sense(const Exchange& e, scsi::SenseKey key, std::uint16_t asc_ascq,
                         std::optional<std::int64_t> information) {
  ASSERT_TRUE(e.sense().has_value()) << "no sense; status " << int{e.result.scsi_status};
  EXPECT_EQ(e.sense()->key, key);
  EXPECT_EQ(e.sense()->asc_ascq(), asc_ascq);
  EXPECT_EQ(e.sense()->information, information);
}

}  // namespace tapestream::test
